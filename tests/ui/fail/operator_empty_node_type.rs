#[pipetel::operator(node_type = "")]
fn scan() {}

fn main() {}
