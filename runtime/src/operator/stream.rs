//! The stream an `#[operator]` returning `impl Stream` hands out (feature `stream`):
//! each `poll_next` is a segment of the operator's task, each item adds its rows to
//! `rows.out`, the end of the stream completes the task and dropping it early cancels
//! it (an `Err` item makes it fail, either way). The trait is `futures_core::Stream`, the one `futures` and `tokio-stream` use.
//! The body is polled with a waker that notes its wakes (`operator::waking`), for the
//! queued time.

use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::Stream;

use crate::operator::task::{Task, Yielded};
use crate::operator::waking::WakeHook;

pin_project_lite::pin_project! {
    /// Measures an operator's stream. `count` gives an item's rows out, bytes written
    /// and whether it is an `Err` (which makes the task fail, at its end or its drop).
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct OperatorStream<S, C> {
        #[pin]
        inner: S,
        task: Option<Task>,
        count: C,
        wake: Option<WakeHook>,
    }
}

/// Gives a streaming operator's body the item type its signature declares.
#[doc(hidden)]
#[inline(always)]
pub fn typed_stream<T, S: Stream<Item = T>>(stream: S) -> S {
    stream
}

impl<S, C> OperatorStream<S, C>
where
    S: Stream,
    C: FnMut(&S::Item) -> (u64, u64, bool),
{
    /// Wraps `inner`; with no task (telemetry off) it only forwards.
    #[inline]
    pub fn new(task: Option<Task>, inner: S, count: C) -> Self {
        OperatorStream {
            inner,
            task,
            count,
            wake: None,
        }
    }
}

impl<S, C> Stream for OperatorStream<S, C>
where
    S: Stream,
    C: FnMut(&S::Item) -> (u64, u64, bool),
{
    type Item = S::Item;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        if this.task.is_none() {
            return this.inner.poll_next(cx);
        }
        let (inner, count) = (this.inner, this.count);
        let wake = this.wake.get_or_insert_with(|| WakeHook::new(cx.waker()));
        let (woken, waker) = wake.begin_poll(cx.waker());
        let mut cx = Context::from_waker(waker);
        let polled = Task::segment_woken(
            this.task,
            woken,
            || inner.poll_next(&mut cx),
            |poll| match poll {
                Poll::Pending => Yielded::Nothing,
                Poll::Ready(Some(item)) => {
                    let (rows, bytes, failed) = count(item);
                    Yielded::Item(rows, bytes, failed)
                }
                Poll::Ready(None) => Yielded::Exhausted,
            },
        );
        wake.end_poll();
        polled
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
