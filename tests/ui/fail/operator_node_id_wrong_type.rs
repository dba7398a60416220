#[pipetel::operator(node_type = "scan", node_id = 1.5)]
fn scan() {}

fn main() {}
