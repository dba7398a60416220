#[pipetel::operator(node_type = "scan", node_type = "filter")]
fn scan() {}

fn main() {}
