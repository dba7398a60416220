struct Scan;

impl Scan {
    #[pipetel::operator(node_type = "scan", partition = 3)]
    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Vec<u8>>> {
        std::task::Poll::Ready(None)
    }
}

fn main() {}
