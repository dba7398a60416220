#[pipetel::operator(node_type = "scan", name = 42)]
fn scan() {}

fn main() {}
