#[pipetel::operator(node_type = 42)]
fn scan() {}

fn main() {}
