#[pipetel::operator(node_type = "scan")]
enum Scan {
    Csv,
}

fn main() {}
