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

/// One series' counters on one thread.
#[derive(Debug)]
pub(crate) struct Cells([AtomicU64; Counter::COUNT]);

impl Cells {
    pub(crate) const fn new() -> Self {
        Cells([const { AtomicU64::new(0) }; Counter::COUNT])
    }

    /// Adds `n` to a counter. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn add(&self, counter: Counter, n: u64) {
        let cell = &self.0[counter as usize];
        cell.store(cell.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Reads a counter (any thread).
    #[inline]
    pub(crate) fn get(&self, counter: Counter) -> u64 {
        self.0[counter as usize].load(Relaxed)
    }
}
