#[pipetel::operator(node_type = "scan", stream)]
async fn scan() -> Vec<u8> {
    Vec::new()
}

fn main() {}
