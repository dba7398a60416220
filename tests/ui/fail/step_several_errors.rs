// A malformed argument list and a non-function item: both are reported.
#[pipetel::pipeline_step(name = "extract" rows)]
struct Extract;

fn main() {}
