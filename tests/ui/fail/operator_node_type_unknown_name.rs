// A bare name is an expression giving the type per call: here, a name that does not exist.
#[pipetel::operator(node_type = scan)]
fn scan_batch() {}

fn main() {}
