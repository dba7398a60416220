#[derive(pipetel::Pipeline)]
#[pipeline(name = "orders", name = "sales")]
struct Orders;

fn main() {}
