#[pipetel::operator(node_type = "scan")]
async fn scan() -> u8 {
    0
}

fn main() {}
