#[pipetel::operator(node_type = "scan", rows_in = "many")]
fn scan() {}

fn main() {}
