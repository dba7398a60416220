#[pipetel::operator(node_type = "scan")]
struct Scan;

fn main() {}
