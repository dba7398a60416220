#[derive(pipetel::Pipeline)]
enum Nightly { Run }

fn main() {}
