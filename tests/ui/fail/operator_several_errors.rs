#[pipetel::operator(node_typ = "scan", name = 1, name = "x")]
fn scan() {}

fn main() {}
