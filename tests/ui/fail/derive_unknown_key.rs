#[derive(pipetel::Pipeline)]
#[pipeline(nmae = "orders")]
struct Orders;

fn main() {}
