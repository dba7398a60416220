#[pipetel::operator(node_type = "scan", node_id)]
fn scan() {}

fn main() {}
