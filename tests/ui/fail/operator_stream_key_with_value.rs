type BatchStream = std::pin::Pin<Box<dyn futures::Stream<Item = Vec<u8>> + Send>>;

#[pipetel::operator(node_type = "scan", stream = true)]
fn scan(input: BatchStream) -> BatchStream {
    input
}

fn main() {}
