#[pipetel::operator(node_type = "scan")]
const fn scan() -> u8 {
    0
}

fn main() {}
