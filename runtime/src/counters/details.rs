//! The per-call details of one operator series — its distributions
//! (`counters::histogram`) and its slowest segments (`counters::slowest`) — in one block
//! per series, shared by every thread that runs it, in a table allocated 64 series at a
//! time (`counters::table`) as a thread's cells are.
//!
//! A block is 336 bytes (416 with the `alloc` feature's bytes allocated per segment): the
//! pointers to its buckets, which are allocated sixteen at a time (64 bytes) as segments
//! first count in them, its slowest segments and a flag. Per series rather than per
//! (series, thread): a thread's own cells stay small (what each (series, thread) pair
//! costs is its counters), and a reader reads one block a series whatever the number of
//! threads. Threads write a block rarely — a thread's list of segments
//! (`counters::segment_list`) goes to the buckets a few dozen segments at a time, and a
//! segment is kept among the slowest only when it beats the floor — so sharing it costs
//! atomic adds once per list, not per call. There is a block for every series that ran
//! (and the rest of its chunk of 64): at most [`MAX_SERIES`] blocks, 11 MiB (13 MiB), and
//! the groups of buckets their segments counted in: a few a series (its calls fall in a
//! few buckets), 38 MiB (58 MiB) were every series to count in every bucket.
//!
//! A block says when it changed since readers last took it in (`counters::per_call`
//! reads only those): a writer raises the flag after each change.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::counters::cells::Zeroed;
use crate::counters::histogram::{self, HistogramCells};
use crate::counters::slowest::SlowCells;
use crate::counters::table::{Table, MAX_SERIES};

/// One series' details.
#[derive(Debug)]
pub(crate) struct Details {
    pub(crate) histogram: HistogramCells,
    pub(crate) slowest: SlowCells,
    /// Set by a writer after it changes the block; taken (cleared) by the reader that
    /// reads it.
    changed: AtomicBool,
}

impl Details {
    /// Says the block changed, after the caller changed it. Always a store, even when the
    /// flag is up: a reader may be taking it down now, before the change is visible to
    /// it; the store raises it again for the next reader.
    #[inline]
    pub(crate) fn mark_changed(&self) {
        self.changed.store(true, Ordering::Release);
    }

    /// Keeps a segment of `ticks` busy ticks that ended at tick `ended`, in the trace
    /// `trace_id` gives, among the slowest if it is; returns the series' floor (a segment
    /// is among the slowest only when it took longer).
    #[cold]
    pub(crate) fn record_slow(
        &self,
        ticks: u64,
        ended: u64,
        trace_id: impl FnOnce() -> u128,
    ) -> u64 {
        let floor = self.slowest.floor();
        if ticks <= floor {
            return floor;
        }
        let floor = self.slowest.record(ticks, ended, trace_id());
        self.mark_changed();
        floor
    }

    /// Whether the block changed since the flag was last taken, clearing it: what the
    /// writers wrote before raising it is visible once this returns `true`.
    pub(crate) fn take_changed(&self) -> bool {
        // A load first: most blocks are unchanged, and a swap would write every one.
        self.changed.load(Ordering::Relaxed) && self.changed.swap(false, Ordering::Acquire)
    }
}

impl Zeroed for Details {
    const ZERO: Self = Details {
        histogram: HistogramCells::ZERO,
        slowest: SlowCells::ZERO,
        changed: AtomicBool::new(false),
    };
}

/// Every series' details, by series id.
static DETAILS: Table<Details> = Table::new();

/// The details of `series`, their chunk allocated on first use (any thread).
#[inline]
pub(crate) fn of(series: u32) -> &'static Details {
    DETAILS.block(series)
}

/// The details of `series` if their chunk was allocated: no allocation.
pub(crate) fn if_any(series: u32) -> Option<&'static Details> {
    DETAILS.block_if_grown(series)
}

/// The details of series `0..series_count` in allocated chunks, each with its series id.
pub(crate) fn all(series_count: usize) -> impl Iterator<Item = (usize, &'static Details)> {
    DETAILS
        .grown_chunks(series_count)
        .flat_map(|(first, chunk)| {
            chunk
                .iter()
                .enumerate()
                .map(move |(offset, details)| (first + offset, details))
        })
}

// What the module doc says a block takes, and all blocks together, and all their
// groups of buckets at most, without and with the bytes allocated per segment.
const BLOCK_BYTES: usize = if cfg!(feature = "alloc") { 416 } else { 336 };
const _: () = assert!(std::mem::size_of::<Details>() <= BLOCK_BYTES);
const _: () =
    assert!(MAX_SERIES * BLOCK_BYTES <= if cfg!(feature = "alloc") { 13 } else { 11 } << 20);
const _: () = assert!(
    MAX_SERIES * histogram::MOST_GROUP_BYTES <= if cfg!(feature = "alloc") { 58 } else { 38 } << 20
);
