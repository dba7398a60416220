#[pipetel::pipeline_step(nmae = "extract")]
fn extract() {}

fn main() {}
