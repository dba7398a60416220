#[pipetel::pipeline_step(name = extract)]
fn extract() {}

fn main() {}
