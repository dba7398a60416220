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
use crate::counters::alloc_owner::Owner;

/// One per owner value, as the cells' slots.
const OWNERS: usize = Owner::MAX as usize + 1;

/// By owner: the highest live bytes sampled.
static PEAK: [AtomicU64; OWNERS] = [const { AtomicU64::new(0) }; OWNERS];

/// By owner: the live bytes when its last segment that allocated ended.
static RETAINED: [AtomicU64; OWNERS] = [const { AtomicU64::new(0) }; OWNERS];

/// A segment whose blocks `owner` owns (a call, a poll, an item) in which its thread
/// allocated ended: the owner's live bytes now are what it retains, and a sample of its
/// peak.
#[inline(never)]
pub(crate) fn segment_ended(owner: Owner) {
    let live = cells::live(owner);
    RETAINED[usize::from(owner)].store(live, Relaxed);
    raise(owner, live);
}

/// Samples the peak of `owner`, whose live bytes are `live` now (a reading of the
/// counts): the peak so far, raised to them.
pub(crate) fn sample(owner: Owner, live: u64) -> u64 {
    raise(owner, live);
    PEAK[usize::from(owner)].load(Relaxed).max(live)
}

/// The live bytes of `owner` when its last segment that allocated ended.
pub(crate) fn retained(owner: Owner) -> u64 {
    RETAINED[usize::from(owner)].load(Relaxed)
}

/// The peak of `owner` raised to `live`, if below: a load, and a write only when the
/// peak moves (the slot's cache line stays shared while it does not).
#[inline(always)]
fn raise(owner: Owner, live: u64) {
    let peak = &PEAK[usize::from(owner)];
    if live > peak.load(Relaxed) {
        peak.fetch_max(live, Relaxed);
    }
}
