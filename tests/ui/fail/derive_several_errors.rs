// A malformed #[pipeline(...)] and a tuple struct: both are reported.
#[derive(pipetel::Pipeline)]
#[pipeline(name "orders")]
struct Orders(u32);

fn main() {}
