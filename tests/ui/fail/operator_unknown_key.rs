#[pipetel::operator(node_type = "scan", sampling = 0.5)]
fn scan() {}

fn main() {}
