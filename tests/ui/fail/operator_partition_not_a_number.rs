#[pipetel::operator(node_type = "scan", partition = name)]
fn scan(name: &str) -> usize {
    name.len()
}

fn main() {}
