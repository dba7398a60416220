#[pipetel::operator(name = "scan")]
fn scan() {}

fn main() {}
