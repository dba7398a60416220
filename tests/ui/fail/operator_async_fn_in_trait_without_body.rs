trait Source {
    #[pipetel::operator(node_type = "scan")]
    async fn read(&self) -> Vec<u8>;
}

fn main() {}
