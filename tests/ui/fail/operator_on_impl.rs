struct Scan;

#[pipetel::operator(node_type = "scan")]
impl Scan {
    fn next(&self) {}
}

fn main() {}
