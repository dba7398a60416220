//! The future an `async fn` `#[operator]` awaits: each `poll` is a segment of the
//! operator's task, so `duration` counts time inside `poll` and never time pending;
//! the output completes (or fails) the task, and dropping the future first cancels it.
//! Plain `core::future::Future`: no async runtime involved. The body is polled with a
//! waker that notes its wakes (`operator::waking`), for the queued time.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::operator::task::{Task, Yielded};
use crate::operator::waking::WakeHook;

pin_project_lite::pin_project! {
    /// Measures an async operator's body. `count` gives the output's rows out, bytes
    /// written and whether it is an `Err`.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct OperatorFuture<F, C> {
        #[pin]
        inner: F,
        task: Option<Task>,
        count: Option<C>,
        wake: Option<WakeHook>,
    }
}

impl<F, C> OperatorFuture<F, C>
where
    F: Future,
    C: FnOnce(&F::Output) -> (u64, u64, bool),
{
    /// Wraps `inner` to measure it as `task`.
    #[inline]
    pub fn new(mut task: Task, inner: F, count: C) -> Self {
        task.queued_until_polled();
        OperatorFuture {
            inner,
            task: Some(task),
            count: Some(count),
            wake: None,
        }
    }
}

impl<F, C> Future for OperatorFuture<F, C>
where
    F: Future,
    C: FnOnce(&F::Output) -> (u64, u64, bool),
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if this.task.is_none() {
            return this.inner.poll(cx);
        }
        let (inner, count) = (this.inner, this.count);
        let wake = this.wake.get_or_insert_with(|| WakeHook::new(cx.waker()));
        let (woken, waker) = wake.begin_poll(cx.waker());
        let mut cx = Context::from_waker(waker);
        let polled = Task::segment_woken(
            this.task,
            woken,
            || inner.poll(&mut cx),
            |poll| match poll {
                Poll::Pending => Yielded::Nothing,
                Poll::Ready(output) => {
                    let (rows, bytes, failed) = count.take().map_or((0, 0, false), |c| c(output));
                    Yielded::End(rows, bytes, failed)
                }
            },
        );
        wake.end_poll();
        polled
    }
}
