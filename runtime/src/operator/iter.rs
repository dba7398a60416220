//! The iterator an `#[operator]` returning `impl Iterator` hands out: each `next()` is a
//! segment of the operator's task, each item adds its rows to `rows.out`, exhaustion
//! completes the task and dropping it early cancels it.

use std::iter::FusedIterator;

use crate::operator::task::{Task, Yielded};

/// Measures an operator's iterator. `count` gives an item's rows out, bytes written and
/// whether it is an `Err` (which makes the task fail, at its end or its drop).
#[doc(hidden)]
#[derive(Debug)]
pub struct OperatorIter<I, C> {
    inner: I,
    task: Option<Task>,
    count: C,
}

impl<I, C> OperatorIter<I, C>
where
    I: Iterator,
    C: FnMut(&I::Item) -> (u64, u64, bool),
{
    /// Wraps `inner`; with no task (telemetry off) it only forwards.
    #[inline]
    pub fn new(task: Option<Task>, inner: I, count: C) -> Self {
        OperatorIter { inner, task, count }
    }

    #[inline]
    fn measure(&mut self, pull: impl FnOnce(&mut I) -> Option<I::Item>) -> Option<I::Item> {
        let (inner, count) = (&mut self.inner, &mut self.count);
        Task::segment(
            &mut self.task,
            || pull(inner),
            |item| match item {
                Some(item) => {
                    let (rows, bytes, failed) = count(item);
                    Yielded::Item(rows, bytes, failed)
                }
                None => Yielded::Exhausted,
            },
        )
    }
}

impl<I, C> Iterator for OperatorIter<I, C>
where
    I: Iterator,
    C: FnMut(&I::Item) -> (u64, u64, bool),
{
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        self.measure(Iterator::next)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<I, C> DoubleEndedIterator for OperatorIter<I, C>
where
    I: DoubleEndedIterator,
    C: FnMut(&I::Item) -> (u64, u64, bool),
{
    #[inline]
    fn next_back(&mut self) -> Option<I::Item> {
        self.measure(DoubleEndedIterator::next_back)
    }
}

impl<I, C> ExactSizeIterator for OperatorIter<I, C>
where
    I: ExactSizeIterator,
    C: FnMut(&I::Item) -> (u64, u64, bool),
{
    #[inline]
    fn len(&self) -> usize {
        self.inner.len()
    }
}

impl<I, C> FusedIterator for OperatorIter<I, C>
where
    I: FusedIterator,
    C: FnMut(&I::Item) -> (u64, u64, bool),
{
}
