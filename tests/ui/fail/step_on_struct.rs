#[pipetel::pipeline_step]
struct Extract;

fn main() {}
