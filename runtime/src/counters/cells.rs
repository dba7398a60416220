//! The plain counters of one operator series on one thread.
//!
//! A [`Cells`] block holds one `AtomicU64` per [`Counter`]. Exactly one thread writes a
//! block (the thread that owns the shard it lives in), so an update is a relaxed load
//! and a relaxed store — no locked read-modify-write. The exporter reads the blocks of
//! every shard with relaxed loads and sums them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The counters kept for every operator series, in the order of
/// `names::OPERATOR_METRICS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Counter {
    /// Rows received.
    RowsIn,
    /// Rows produced.
    RowsOut,
    /// Rows written to a destination.
    RowsWritten,
    /// Bytes read.
    BytesRead,
    /// Bytes written.
    BytesWritten,
    /// Busy time in raw clock ticks (scaled to time at export).
    BusyTicks,
    /// Calls running now: +1 on entry, −1 (a wrapping add) on exit.
    Active,
    /// Calls that completed.
    Completed,
    /// Calls that failed.
    Failed,
    /// Calls that were cancelled.
    Cancelled,
}

impl Counter {
    /// How many counters there are.
    pub(crate) const COUNT: usize = 10;

    /// Every counter, in index order.
    pub(crate) const ALL: [Counter; Counter::COUNT] = [
        Counter::RowsIn,
        Counter::RowsOut,
        Counter::RowsWritten,
        Counter::BytesRead,
        Counter::BytesWritten,
        Counter::BusyTicks,
        Counter::Active,
        Counter::Completed,
        Counter::Failed,
        Counter::Cancelled,
    ];
}

/// How many custom operator counters ([`OperatorCounter`](crate::OperatorCounter)) a
/// process can have.
pub(crate) const MAX_CUSTOM_COUNTERS: usize = 16;

/// `N` counters of one series on one thread.
#[derive(Debug)]
pub(crate) struct Block<const N: usize>([AtomicU64; N]);

impl<const N: usize> Block<N> {
    pub(crate) const fn new() -> Self {
        Block([const { AtomicU64::new(0) }; N])
    }

    /// Adds `n` to counter `index`. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn add_at(&self, index: usize, n: u64) {
        let cell = &self.0[index];
        cell.store(cell.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Sets counter `index` to `value`. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn set_at(&self, index: usize, value: u64) {
        self.0[index].store(value, Relaxed);
    }

    /// Reads counter `index` (any thread).
    #[inline]
    pub(crate) fn get_at(&self, index: usize) -> u64 {
        self.0[index].load(Relaxed)
    }
}

/// The slot after the counters holding the id + 1 of the step the series last ran in
/// on this thread (0: none), for the report's tree.
pub(crate) const STEP_SLOT: usize = Counter::COUNT;

/// The built-in counters of one series on one thread, and its step slot.
pub(crate) type Cells = Block<{ Counter::COUNT + 1 }>;

/// The custom counters of one series on one thread.
pub(crate) type CustomCells = Block<MAX_CUSTOM_COUNTERS>;

impl Cells {
    /// Adds `n` to a counter. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn add(&self, counter: Counter, n: u64) {
        self.add_at(counter as usize, n);
    }
}
