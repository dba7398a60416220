#[pipetel::operator(node_type = "scan")]
static SCAN: u8 = 0;

fn main() {}
