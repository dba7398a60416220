//! [`Operator`]: an operator known only at run time — a plan node, a trait object, a
//! node of a graph built from a configuration — counted as an `#[operator]` function is,
//! without the macro.
//!
//! The handle is resolved once, when it is made (the registry lock, as a call site's
//! first call); after that a call through it costs what a call of a static
//! `#[operator]` site costs: no lookup, no lock, the same per-thread cells.

use std::sync::Arc;

use crate::count::Count;
use crate::counters::cells::Tally;
use crate::counters::lanes::{self, Lane, RunId};
use crate::counters::partitions::NO_PARTITION;
use crate::counters::registry::{self, NO_SERIES};
use crate::counters::step_slot::StepCall;
use crate::counters::thread_state::this_thread;
use crate::node_id::NodeId;
use crate::operator::call::{partition_id, TaskGuard};
use crate::operator::engine_metrics::{self, EngineMetrics, MetricsAttachment};
use crate::operator::iter::OperatorIter;
use crate::operator::recording::enabled;
use crate::operator::segment::Segment;
use crate::operator::task::Task;
use crate::rows::Rows;

/// An operator whose `node.type` and `node.id` are values known at run time.
///
/// Make one per plan node (or per instance of your operator type) with [`Operator::new`]
/// and keep it: it is a small `Copy` value, `Send` and `Sync`, that names the operator's
/// series. Through it, count what the operator does, exactly as `#[operator]` counts an
/// annotated function:
///
/// | method | counts |
/// |---|---|
/// | [`call`](Self::call), [`try_call`](Self::try_call) | one call: started, busy time, completed (failed on `Err` or panic) |
/// | [`iter`](Self::iter), [`try_iter`](Self::try_iter), [`iter_counted`](Self::iter_counted) | an iterator as one call: each `next()` busy, rows per item, completed at the end, cancelled if dropped early |
/// | [`stream`](Self::stream), [`try_stream`](Self::try_stream), [`stream_counted`](Self::stream_counted) | the same for a `futures_core::Stream` (feature `stream`) |
/// | [`in_scope`](Self::in_scope) | busy time only, with the operator current (for [`current_operator`](crate::current_operator), nested operators and log records) |
/// | [`add_rows_in`](Self::add_rows_in) and the other `add_*` | what the types cannot say |
///
/// Busy time is exclusive, as for annotated functions: an operator whose call or `next()`
/// pulls from another measured operator counts only its own share.
///
/// ```
/// use pipetel::Operator;
///
/// // A plan built at run time: node names and ids come from data.
/// let plan = [("scan", 0u32), ("filter", 1)];
/// let scan = Operator::new(plan[0].0, &plan[0].1);
/// let filter = Operator::new(plan[1].0, &plan[1].1);
///
/// let rows = scan.iter((0..10u64).map(|n| vec![n; 3])); // 10 batches of 3 rows
/// let kept: Vec<Vec<u64>> = filter.iter(rows.filter(|batch| batch[0] % 2 == 0)).collect();
/// assert_eq!(kept.len(), 5);
///
/// let total = filter.call(|| kept.iter().map(|batch| batch.len()).sum::<usize>());
/// assert_eq!(total, 15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    series: u32,
    /// The partition its calls belong to ([`NO_PARTITION`] if none).
    partition: u32,
    /// The query it counts for, if it was made by one ([`Query::operator`]).
    run: Option<RunSeat>,
}

/// Where an operator made by a [`Query`] counts: its lane while the query holds it, and
/// the step it files under on threads with no step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RunSeat {
    pub(crate) lane: Lane,
    pub(crate) run: RunId,
    pub(crate) step: StepCall,
    /// The canonical series: what counts once the query has ended.
    pub(crate) canonical: u32,
}

/// What one item of an iterator or stream counts: its rows, its bytes, and whether it is
/// a failure (the call then ends as failed). Returned by the closure given to
/// [`Operator::iter_counted`] and [`Operator::stream_counted`].
///
/// ```
/// use pipetel::engine::Counted;
///
/// let item: Result<Vec<u8>, String> = Ok(vec![1, 2, 3]);
/// let counted = match &item {
///     Ok(bytes) => Counted::rows(1).with_bytes(bytes.len() as u64),
///     Err(_) => Counted::failure(),
/// };
/// assert_eq!(counted, Counted { rows: 1, bytes: 3, failed: false });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    /// Rows out (`rows.out`).
    pub rows: u64,
    /// Bytes out (`bytes.written`).
    pub bytes: u64,
    /// The item is a failure (an `Err`).
    pub failed: bool,
}

impl Counted {
    /// An item of `rows` rows.
    pub fn rows(rows: impl Count) -> Counted {
        Counted {
            rows: rows.count(),
            ..Counted::default()
        }
    }

    /// A failed item (no rows).
    pub fn failure() -> Counted {
        Counted {
            failed: true,
            ..Counted::default()
        }
    }

    /// The same, with `bytes` bytes.
    pub fn with_bytes(self, bytes: impl Count) -> Counted {
        Counted {
            bytes: bytes.count(),
            ..self
        }
    }
}

/// An item's counts as the wrappers take them.
#[inline]
fn by_rows<T: Rows + ?Sized>(item: &T) -> (u64, u64, bool) {
    (item.rows(), 0, false)
}

/// An item's counts as the wrappers take them; an `Err` is a failure.
#[inline]
fn by_result_rows<T: Rows, E>(item: &Result<T, E>) -> (u64, u64, bool) {
    match item {
        Ok(item) => (item.rows(), 0, false),
        Err(_) => (0, 0, true),
    }
}

impl Operator {
    /// The operator with `node.type` `node_type` and `node.id` `node_id`, created on first
    /// sight. Takes the registry lock: make it once per operator instance, not per call.
    ///
    /// The same pair always gives the same series (and an equal `Operator`), so handles
    /// made by two plans for the same node add up. The series limits of annotated
    /// operators apply (`Config::max_node_ids_per_type`,
    /// [`MAX_OPERATOR_SERIES`](crate::limits::MAX_OPERATOR_SERIES)), and at most
    /// [`MAX_DYNAMIC_NODE_TYPES`](crate::limits::MAX_DYNAMIC_NODE_TYPES) distinct `node_type`
    /// values are kept. Without the `enabled` feature it counts nothing.
    pub fn new<K: NodeId + ?Sized>(node_type: &str, node_id: &K) -> Operator {
        if !cfg!(feature = "enabled") {
            return Operator {
                series: NO_SERIES,
                partition: NO_PARTITION,
                run: None,
            };
        }
        let node_type = registry::intern(node_type);
        Operator {
            series: registry::resolve(node_type, &node_id.node_key().to_string()),
            partition: NO_PARTITION,
            run: None,
        }
    }

    /// The operator of series `series` (in whichever lane it is).
    pub(crate) fn of_series(series: u32) -> Operator {
        Operator {
            series,
            partition: NO_PARTITION,
            run: None,
        }
    }

    /// The same operator, counting in `seat`'s lane.
    pub(crate) fn seated(self, seat: RunSeat) -> Operator {
        if self.series == NO_SERIES {
            return self;
        }
        Operator {
            series: registry::in_lane(self.series, seat.lane),
            run: Some(RunSeat {
                canonical: self.series,
                ..seat
            }),
            ..self
        }
    }

    /// The same operator, for the calls of partition `partition`: what they count also
    /// counts for the partition (rows out, busy time), and the snapshot and report show
    /// the operator's skew across its partitions, the largest named. Not a new series:
    /// exported metrics stay per operator.
    ///
    /// ```
    /// use pipetel::Operator;
    ///
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let scan = Operator::new("scan", "partition-doc");
    /// for partition in 0..4 {
    ///     let rows = if partition == 2 { 100 } else { 10 }; // partition 2 straggles
    ///     scan.partition(partition).iter(vec![vec![0u8; rows]]).for_each(drop);
    /// }
    /// let snapshot = pipetel::snapshot();
    /// let op = snapshot.operators.iter().find(|op| op.node_id == "partition-doc").unwrap();
    /// let skew = op.skew.across_partitions.as_ref().unwrap();
    /// assert_eq!((skew.count, skew.rows.max, skew.rows.max_at.as_str()), (4, 100, "2"));
    /// # drop(telemetry);
    /// ```
    pub fn partition(&self, partition: usize) -> Operator {
        Operator {
            partition: partition_id(partition as u64),
            ..*self
        }
    }

    /// The series, if the handle has one (telemetry on or off).
    #[inline]
    pub(crate) fn series(&self) -> Option<u32> {
        (self.series != NO_SERIES).then_some(self.series)
    }

    /// The series, while telemetry is on: for an operator of a query that has ended, the
    /// canonical one (its lane may be another run's by now).
    #[inline]
    fn recording(&self) -> Option<u32> {
        if !enabled() || self.series == NO_SERIES {
            return None;
        }
        match self.run {
            Some(seat) if !lanes::holds(seat.lane, seat.run) => Some(seat.canonical),
            _ => Some(self.series),
        }
    }

    /// The lane and step a task of this operator carries, while its query runs.
    #[inline]
    fn seat(&self) -> Option<(Lane, StepCall)> {
        self.run
            .filter(|seat| lanes::holds(seat.lane, seat.run))
            .map(|seat| (seat.lane, seat.step))
    }

    /// Runs `call` as one call of the operator: started, busy while it runs, then
    /// completed (failed if it panics).
    #[inline]
    pub fn call<R>(&self, call: impl FnOnce() -> R) -> R {
        let Some(series) = self.recording() else {
            return call();
        };
        let mut guard = self.start_call(series, false);
        let output = call();
        TaskGuard::finish(&mut guard, 0, 0, false);
        output
    }

    /// [`call`](Self::call) for a call that can fail: an `Err` counts as failed, the
    /// `Ok` value's [`Rows`] as rows out.
    #[inline]
    pub fn try_call<T: Rows, E>(&self, call: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let Some(series) = self.recording() else {
            return call();
        };
        let mut guard = self.start_call(series, true);
        let output = call();
        if guard.is_some() {
            let (rows, _, failed) = by_result_rows(&output);
            TaskGuard::finish(&mut guard, rows, 0, failed);
        }
        output
    }

    /// Starts a call of `series`: of no partition, on the path an `#[operator]` call
    /// takes (inlined, no call when the thread has its cells); a partition's on the
    /// general one.
    #[inline(always)]
    fn start_call(&self, series: u32, early_exit_fails: bool) -> Option<TaskGuard> {
        match self.partition {
            NO_PARTITION => TaskGuard::start(series, 0, 0, early_exit_fails),
            partition => TaskGuard::start_in(series, partition, 0, 0, early_exit_fails),
        }
    }

    /// Runs `work` with the operator current and its clock running, without counting a
    /// call: for work done on behalf of a call counted elsewhere (a callback, a spill).
    #[inline]
    pub fn in_scope<R>(&self, work: impl FnOnce() -> R) -> R {
        let Some(series) = self.recording() else {
            return work();
        };
        let thread = this_thread();
        let series = thread.series_here(series);
        let segment = Segment::enter_in(thread, thread.cells(series), series, self.partition);
        // Closed on unwind too, so that the thread's current operator is restored.
        struct Exit(Segment);
        impl Drop for Exit {
            fn drop(&mut self) {
                self.0.exit(this_thread());
            }
        }
        let _exit = Exit(segment);
        work()
    }

    /// `iter` counted as one call: each `next()` is busy time, each item adds its
    /// [`Rows`] to `rows.out`, the end completes the call and a drop before the end
    /// cancels it.
    #[inline]
    pub fn iter<I>(&self, iter: I) -> impl Iterator<Item = I::Item>
    where
        I: IntoIterator,
        I::Item: Rows,
    {
        self.wrap_iter(iter.into_iter(), by_rows::<I::Item>)
    }

    /// [`iter`](Self::iter) over `Result` items: an `Err` item makes the call fail (at its
    /// end) and counts no rows.
    #[inline]
    pub fn try_iter<I, T, E>(&self, iter: I) -> impl Iterator<Item = Result<T, E>>
    where
        I: IntoIterator<Item = Result<T, E>>,
        T: Rows,
    {
        self.wrap_iter(iter.into_iter(), by_result_rows::<T, E>)
    }

    /// [`iter`](Self::iter) with each item counted by `count`.
    #[inline]
    pub fn iter_counted<I>(
        &self,
        iter: I,
        mut count: impl FnMut(&I::Item) -> Counted,
    ) -> impl Iterator<Item = I::Item>
    where
        I: IntoIterator,
    {
        self.wrap_iter(iter.into_iter(), move |item: &I::Item| {
            let counted = count(item);
            (counted.rows, counted.bytes, counted.failed)
        })
    }

    #[inline]
    fn wrap_iter<I: Iterator>(
        &self,
        iter: I,
        count: impl FnMut(&I::Item) -> (u64, u64, bool),
    ) -> OperatorIter<I, impl FnMut(&I::Item) -> (u64, u64, bool)> {
        let task = self
            .recording()
            .and_then(|series| Task::start_placed(series, self.partition, 0, 0, self.seat()));
        OperatorIter::new(task, iter, count)
    }

    /// Adds to `rows.in`: for a wrapper that sees only its output, the rows its input
    /// handed it. Counts on the calling thread's cells, inside a call or not.
    #[inline]
    pub fn add_rows_in(&self, rows: u64) {
        self.add(Tally::RowsIn, rows);
    }

    /// Adds to `rows.out`, on top of what the wrappers count.
    #[inline]
    pub fn add_rows_out(&self, rows: u64) {
        self.add(Tally::RowsOut, rows);
    }

    /// Adds to `bytes.read` (a source).
    #[inline]
    pub fn add_bytes_read(&self, bytes: u64) {
        self.add(Tally::BytesRead, bytes);
    }

    /// Adds to `bytes.written` (a sink), on top of what the wrappers count.
    #[inline]
    pub fn add_bytes_written(&self, bytes: u64) {
        self.add(Tally::BytesWritten, bytes);
    }

    /// Adds to `rows.written` (a sink: rows stored at a destination).
    #[inline]
    pub fn add_rows_written(&self, rows: u64) {
        self.add(Tally::RowsWritten, rows);
    }

    /// Says how many rows the operator will handle in all (its input, or its output for
    /// a source), for progress with an ETA. Takes a lock: call it once, not per batch.
    pub fn set_expected_rows(&self, rows: u64) {
        if let Some(series) = self.recording() {
            registry::set_expected(series, |expected| expected.rows = Some(rows));
        }
    }

    /// Says how many bytes the source will read in all: its rows in all are estimated
    /// from the rows per byte read so far. Takes a lock.
    pub fn set_expected_bytes(&self, bytes: u64) {
        if let Some(series) = self.recording() {
            registry::set_expected(series, |expected| expected.bytes = Some(bytes));
        }
    }

    /// Says how many calls the operator will make in all (one per file, partition or
    /// chunk): its rows in all are estimated from the rows per call so far. Takes a lock.
    pub fn set_expected_calls(&self, calls: u64) {
        if let Some(series) = self.recording() {
            registry::set_expected(series, |expected| expected.calls = Some(calls));
        }
    }

    /// Attaches an engine's own metrics of this operator (spills, memory, its own timers):
    /// snapshots and reports show them beside pipetel's counters, as
    /// `OperatorSnapshot::engine_metrics`. Keep the attachment as long as the source
    /// lives; when it drops, the source's last values stay with the operator. See
    /// [`EngineMetrics`](crate::engine::EngineMetrics).
    pub fn attach_metrics(&self, source: Arc<dyn EngineMetrics>) -> MetricsAttachment {
        engine_metrics::attach(self.series, source)
    }

    /// Whether calls through this handle count anything now (telemetry is on and the
    /// handle has a series).
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.recording().is_some()
    }

    #[inline]
    fn add(&self, tally: Tally, n: u64) {
        if let Some(series) = self.recording() {
            let thread = this_thread();
            thread.cells(thread.series_here(series)).add(tally, n);
        }
    }
}

#[cfg(feature = "stream")]
mod streams {
    use futures_core::Stream;

    use super::{by_result_rows, by_rows, Counted, Operator};
    use crate::operator::stream::OperatorStream;
    use crate::operator::task::Task;
    use crate::rows::Rows;

    impl Operator {
        /// `stream` counted as one call (feature `stream`): each `poll_next` is busy time
        /// (a `Pending` ends the segment and nothing else), each item adds its [`Rows`] to
        /// `rows.out`, the end completes the call and a drop before the end cancels it.
        /// The stream keeps the step it was made in (see the crate docs, "Steps across
        /// tasks").
        #[inline]
        pub fn stream<S>(&self, stream: S) -> impl Stream<Item = S::Item>
        where
            S: Stream,
            S::Item: Rows,
        {
            self.wrap_stream(stream, by_rows::<S::Item>)
        }

        /// [`stream`](Self::stream) over `Result` items: an `Err` item makes the call fail
        /// (at its end, or when it is dropped after the error) and counts no rows.
        #[inline]
        pub fn try_stream<S, T, E>(&self, stream: S) -> impl Stream<Item = Result<T, E>>
        where
            S: Stream<Item = Result<T, E>>,
            T: Rows,
        {
            self.wrap_stream(stream, by_result_rows::<T, E>)
        }

        /// [`stream`](Self::stream) with each item counted by `count`.
        #[inline]
        pub fn stream_counted<S: Stream>(
            &self,
            stream: S,
            mut count: impl FnMut(&S::Item) -> Counted,
        ) -> impl Stream<Item = S::Item> {
            self.wrap_stream(stream, move |item: &S::Item| {
                let counted = count(item);
                (counted.rows, counted.bytes, counted.failed)
            })
        }

        #[inline]
        fn wrap_stream<S: Stream>(
            &self,
            stream: S,
            count: impl FnMut(&S::Item) -> (u64, u64, bool),
        ) -> OperatorStream<S, impl FnMut(&S::Item) -> (u64, u64, bool)> {
            let task = self
                .recording()
                .and_then(|series| Task::start_placed(series, self.partition, 0, 0, self.seat()));
            OperatorStream::new(task, stream, count)
        }
    }
}
