#[pipetel::operator(node_type = "scan")]
fn numbers(limit: u8) -> impl Iterator<Item = u8> + Clone {
    0..limit
}

fn main() {}
