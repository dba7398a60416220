//! Each owner's peak and retained bytes, sampled: the live bytes read at the end of each
//! of its segments (a call, a poll, an item) in which its thread allocated, and at each
//! reading of the counts, the peak their maximum. Live bytes grow only by allocations,
//! so a segment that allocated nothing cannot have raised the peak: it reads nothing.
//!
//! Sampled, not exact: an exact peak would need one shared count of live bytes per owner,
//! updated by every allocation on every thread — the single table [`cells`] avoids
//! because two threads adding to one cache line cost each allocation ~80 ns. A peak
//! reached and given back inside one call (a buffer built and dropped before it returns)
//! is missed; one still held when a call, poll or item ends, or when a report is made, is
//! seen.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::alloc::cells;
use crate::counters::table::MAX_SERIES;

/// By series, as the cells' slots: the highest live bytes sampled.
static PEAK: [AtomicU64; MAX_SERIES + 1] = [const { AtomicU64::new(0) }; MAX_SERIES + 1];

/// By series: the live bytes when its last segment that allocated ended.
static RETAINED: [AtomicU64; MAX_SERIES + 1] = [const { AtomicU64::new(0) }; MAX_SERIES + 1];

/// A segment of `series` (a call, a poll, an item) in which its thread allocated ended:
/// its live bytes now are what it retains, and a sample of its peak.
#[inline(never)]
pub(crate) fn segment_ended(series: u32) {
    let at = cells::index(series);
    let live = cells::live(series);
    RETAINED[at].store(live, Relaxed);
    raise(at, live);
}

/// Samples the peak of `series` (a reading of the counts).
pub(crate) fn sample(series: u32) -> u64 {
    let at = cells::index(series);
    let live = cells::live(series);
    raise(at, live);
    PEAK[at].load(Relaxed).max(live)
}

/// The live bytes of `series` when its last segment that allocated ended.
pub(crate) fn retained(series: u32) -> u64 {
    RETAINED[cells::index(series)].load(Relaxed)
}

/// The peak at `at` raised to `live`, if below: a load, and a write only when the peak
/// moves (the slot's cache line stays shared while it does not).
#[inline(always)]
fn raise(at: usize, live: u64) {
    if live > PEAK[at].load(Relaxed) {
        PEAK[at].fetch_max(live, Relaxed);
    }
}
