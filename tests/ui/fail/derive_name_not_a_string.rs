#[derive(pipetel::Pipeline)]
#[pipeline(name = orders)]
struct Orders;

fn main() {}
