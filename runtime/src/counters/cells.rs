//! The cells of one operator series on one thread: its tallies (plain counters, summed
//! over threads by every reader) and, beside them, the step it last ran in (not a
//! counter: readers take the latest) and the consumer it last ran nested in (not a
//! counter: the thread's own cache of a graph link). And the cells of one graph link on
//! one thread.
//!
//! Exactly one thread writes a block of cells (the thread that owns the shard it lives
//! in), so an update is a relaxed load and a relaxed store — no locked read-modify-write.
//! Readers load every shard's cells with relaxed loads.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::counters::links::ConsumerSlot;
use crate::counters::step_slot::StepSlot;

/// What every operator series counts, each a sum that only goes up. What is exported
/// follows from them at export time (`export::metrics` pairs each metric with its
/// tallies); calls running now are those started less those ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Tally {
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
    /// Busy time in raw clock ticks (scaled to time at export): the operator's own work.
    BusyTicks,
    /// Starved time in ticks: waiting for input (the operators nested in its calls, a
    /// `Pending` from its input, a receive that waited on an empty channel).
    StarvedTicks,
    /// Blocked time in ticks: its output not taken (an item handed out and not yet asked
    /// for again, a send that waited on a full channel).
    BlockedTicks,
    /// Queued time in ticks: woken but not yet polled.
    QueuedTicks,
    /// Calls that started.
    Started,
    /// Calls that completed.
    Completed,
    /// Calls that failed.
    Failed,
    /// Calls that were cancelled.
    Cancelled,
}

impl Tally {
    /// How many tallies there are.
    pub(crate) const COUNT: usize = Tally::Cancelled as usize + 1;
    /// Every tally, in index order.
    pub(crate) const ALL: [Tally; Tally::COUNT] = [
        Tally::RowsIn,
        Tally::RowsOut,
        Tally::RowsWritten,
        Tally::BytesRead,
        Tally::BytesWritten,
        Tally::BusyTicks,
        Tally::StarvedTicks,
        Tally::BlockedTicks,
        Tally::QueuedTicks,
        Tally::Started,
        Tally::Completed,
        Tally::Failed,
        Tally::Cancelled,
    ];
}

/// How many custom operator counters ([`OperatorCounter`](crate::engine::OperatorCounter)) a
/// process can have.
pub(crate) const MAX_CUSTOM_COUNTERS: usize = 16;

/// A value whose all-zero form can be built at compile time: what a table of shards
/// allocates a chunk of.
pub(crate) trait Zeroed: Sized + 'static {
    /// The all-zero value.
    const ZERO: Self;
}

/// `N` counters of one series on one thread.
#[derive(Debug)]
pub(crate) struct Block<const N: usize>([AtomicU64; N]);

impl<const N: usize> Zeroed for Block<N> {
    const ZERO: Self = Block([const { AtomicU64::new(0) }; N]);
}

impl<const N: usize> Block<N> {
    /// Adds `n` to counter `index`. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn add_at(&self, index: usize, n: u64) {
        let cell = &self.0[index];
        cell.store(cell.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Reads counter `index` (any thread).
    #[inline]
    pub(crate) fn get_at(&self, index: usize) -> u64 {
        self.0[index].load(Relaxed)
    }
}

/// The built-in cells of one series on one thread.
#[derive(Debug)]
pub(crate) struct Cells {
    tallies: Block<{ Tally::COUNT }>,
    /// The step call the series last ran in on this thread.
    pub(crate) step: StepSlot,
    /// The operator this series last ran nested in on this thread, and their link.
    pub(crate) consumer: ConsumerSlot,
    /// This thread's copy of the floor of the series' slowest segments
    /// (`counters::slowest`): only a segment with more busy ticks may be one. Not a
    /// counter.
    pub(crate) slow_floor: AtomicU64,
}

impl Zeroed for Cells {
    const ZERO: Self = Cells {
        tallies: Block::ZERO,
        step: StepSlot::new(),
        consumer: ConsumerSlot::new(),
        slow_floor: AtomicU64::new(0),
    };
}

impl Cells {
    /// Adds `n` to a tally. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn add(&self, tally: Tally, n: u64) {
        self.tallies.add_at(tally as usize, n);
    }

    /// Reads a tally (any thread).
    #[inline]
    pub(crate) fn get(&self, tally: Tally) -> u64 {
        self.tallies.get_at(tally as usize)
    }
}

/// The custom counters of one series on one thread.
pub(crate) type CustomCells = Block<MAX_CUSTOM_COUNTERS>;

/// What every graph link counts: what crossed it, as its producer handed it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum LinkTally {
    /// Rows.
    Rows,
    /// Bytes.
    Bytes,
    /// Batches (items, calls): each hand-over is one.
    Batches,
}

impl LinkTally {
    /// How many link tallies there are.
    pub(crate) const COUNT: usize = LinkTally::Batches as usize + 1;
}

/// The counters of one graph link on one thread.
pub(crate) type LinkCells = Block<{ LinkTally::COUNT }>;

impl LinkCells {
    /// Counts one batch of `rows` and `bytes` across the link. Only the owning thread may
    /// call this.
    #[inline(always)]
    pub(crate) fn add_batch(&self, rows: u64, bytes: u64) {
        self.add_at(LinkTally::Rows as usize, rows);
        if bytes != 0 {
            self.add_at(LinkTally::Bytes as usize, bytes);
        }
        self.add_at(LinkTally::Batches as usize, 1);
    }
}

impl LinkCells {
    /// Takes back a batch this thread counted with [`add_batch`](Self::add_batch)
    /// (wrapping: readers sum with wrapping adds). Only the owning thread may call this.
    #[inline]
    pub(crate) fn remove_batch(&self, rows: u64, bytes: u64) {
        self.add_at(LinkTally::Rows as usize, rows.wrapping_neg());
        self.add_at(LinkTally::Bytes as usize, bytes.wrapping_neg());
        self.add_at(LinkTally::Batches as usize, 1u64.wrapping_neg());
    }
}
