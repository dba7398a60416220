#[pipetel::operator(node_type = scan)]
fn scan() {}

fn main() {}
