//! [`current_operator`]: a handle to the operator running now on this thread, for what
//! the types cannot say; and its labels, for log records.

use std::marker::PhantomData;

use crate::counters::cells::{Cells, Tally};
use crate::counters::registry::{self, NO_SERIES};
use crate::counters::thread_state::{this_thread, Current};
use crate::operator::dynamic::Operator;
use crate::operator::recording::enabled;

/// A handle to the operator running now on this thread, for what the types cannot say.
///
/// Get it with [`current_operator`]. Outside an operator, or with telemetry off, every
/// method does nothing. The handle stays on its thread (it is neither `Send` nor `Sync`).
///
/// ```
/// #[pipetel::operator(node_type = "scan")]
/// fn read(path: &str) -> Vec<String> {
///     let text = format!("contents of {path}"); // std::fs::read_to_string(path) in real code
///     pipetel::current_operator().add_bytes_read(text.len() as u64);
///     text.lines().map(str::to_owned).collect()
/// }
/// assert_eq!(read("a.csv").len(), 1);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct OperatorHandle {
    cells: *const Cells,
    series: u32,
    _not_send: PhantomData<*const ()>,
}

impl OperatorHandle {
    #[inline]
    fn add(&self, tally: Tally, n: u64) {
        // SAFETY: a non-null pointer points into a leaked shard chunk owned by this
        // thread (the handle is neither Send nor Sync), valid for the process's life.
        if let Some(cells) = unsafe { self.cells.as_ref() } {
            cells.add(tally, n);
        }
    }

    /// Whether calls on this handle count anything (an operator runs and telemetry is on).
    #[inline]
    pub fn is_recording(&self) -> bool {
        !self.cells.is_null()
    }

    /// Adds to `bytes.read` (a source: bytes taken from a file, socket or buffer).
    #[inline]
    pub fn add_bytes_read(&self, bytes: u64) {
        self.add(Tally::BytesRead, bytes);
    }

    /// Adds to `bytes.written` (a sink: bytes put into a file, socket or buffer).
    #[inline]
    pub fn add_bytes_written(&self, bytes: u64) {
        self.add(Tally::BytesWritten, bytes);
    }

    /// Adds to `rows.written` (a sink: rows stored at a destination).
    #[inline]
    pub fn add_rows_written(&self, rows: u64) {
        self.add(Tally::RowsWritten, rows);
    }

    /// Says how many rows the operator will handle in all (its input, or its output for a
    /// source), so that progress shows a bar with an ETA, and the operators downstream
    /// an estimate of theirs. Takes a lock: call it once, not per batch.
    pub fn set_expected_rows(&self, rows: u64) {
        if self.is_recording() {
            registry::set_expected(self.series, |expected| expected.rows = Some(rows));
        }
    }

    /// Says how many bytes the source will read in all (the size of its files): its
    /// rows in all are estimated from the rows per byte read so far. Takes a lock.
    pub fn set_expected_bytes(&self, bytes: u64) {
        if self.is_recording() {
            registry::set_expected(self.series, |expected| expected.bytes = Some(bytes));
        }
    }

    /// Says how many calls the operator will make in all (one per file, partition or
    /// chunk): its rows in all are estimated from the rows per call so far. Takes a lock.
    pub fn set_expected_calls(&self, calls: u64) {
        if self.is_recording() {
            registry::set_expected(self.series, |expected| expected.calls = Some(calls));
        }
    }

    /// The running operator as an [`Operator`], which can go to another thread: for work
    /// the operator hands to a task or thread of its own, counted as its work there with
    /// [`Operator::in_scope`]. `None` when no operator runs (or telemetry is off).
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let sort = pipetel::Operator::new("sort", "handle-operator-doc");
    /// let spawned = sort.call(|| {
    ///     let sort = pipetel::current_operator().operator().unwrap();
    ///     std::thread::spawn(move || sort.in_scope(|| (0..1000u64).rev().sum::<u64>()))
    /// });
    /// assert_eq!(spawned.join().unwrap(), 499_500);
    /// # drop(telemetry);
    /// ```
    pub fn operator(&self) -> Option<Operator> {
        self.is_recording()
            .then(|| Operator::of_series(self.series))
    }

    /// Adds to `rows.in`, on top of what the arguments count (an operator that takes its
    /// input from a channel or a callback).
    #[inline]
    pub fn add_rows_in(&self, rows: u64) {
        self.add(Tally::RowsIn, rows);
    }

    /// Adds to `rows.out`, on top of what the return value counts (a streaming operator
    /// that hands rows out through a callback or channel).
    #[inline]
    pub fn add_rows_out(&self, rows: u64) {
        self.add(Tally::RowsOut, rows);
    }
}

/// The operator running now on this thread (the innermost `#[operator]` call).
///
/// See [`OperatorHandle`] for an example.
#[inline]
pub fn current_operator() -> OperatorHandle {
    let current = if enabled() {
        this_thread().current()
    } else {
        Current::NONE
    };
    OperatorHandle {
        cells: current.cells,
        series: current.series,
        _not_send: PhantomData,
    }
}

/// The `node.id` and `node.type` of the operator running now on this thread, if any
/// (for log records; takes the registry lock).
pub(crate) fn current_operator_labels() -> Option<[opentelemetry::KeyValue; 2]> {
    let series = this_thread().current().series;
    if series == NO_SERIES {
        return None;
    }
    registry::with_labels(|labels| labels.get(series as usize).map(|l| l.attributes.clone()))
}
