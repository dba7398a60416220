//! Must not compile: `#[operator]` measures an `impl Stream` per item only with pipetel's
//! `stream` feature, and without it the error says which feature to turn on.
//! `tests/tests/end_to_end/feature_off.rs` builds it and reads the error.

struct Numbers(u8);

impl futures_core::Stream for Numbers {
    type Item = u8;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<u8>> {
        self.0 = self.0.saturating_sub(1);
        std::task::Poll::Ready((self.0 > 0).then_some(self.0))
    }
}

#[pipetel::operator(node_type = "scan")]
fn numbers(limit: u8) -> impl futures_core::Stream<Item = u8> {
    Numbers(limit)
}

fn main() {
    let _ = numbers(3);
}
