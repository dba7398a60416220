#[derive(pipetel::Pipeline)]
struct Nightly(String);

fn main() {}
