#[pipetel::pipeline_step(name = "a", name = "b")]
fn extract() {}

fn main() {}
