//! What the tracking allocator counts, per owner: bytes and blocks allocated and freed.
//! One slot per operator series and one for allocations made outside any operator, in a
//! static table (no allocation: the allocator counts here), each counter an atomic that
//! every thread adds to. A block is charged to the owner written in it when it was
//! allocated, whichever thread frees it, so each slot's live bytes are exact whatever
//! thread allocates or frees, and a thread that exits leaves nothing behind.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::alloc::owner::UNATTRIBUTED;
use crate::counters::table::MAX_SERIES;

/// One owner's counts.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) allocated: AtomicU64,
    pub(crate) freed: AtomicU64,
    pub(crate) allocations: AtomicU64,
    pub(crate) frees: AtomicU64,
}

/// Slot `i` is series `i`'s; the last, allocations outside any operator.
static SLOTS: [Slot; MAX_SERIES + 1] = [const {
    Slot {
        allocated: AtomicU64::new(0),
        freed: AtomicU64::new(0),
        allocations: AtomicU64::new(0),
        frees: AtomicU64::new(0),
    }
}; MAX_SERIES + 1];

/// The slot of `owner` (a series, or [`UNATTRIBUTED`]).
#[inline(always)]
pub(crate) fn slot(owner: u32) -> &'static Slot {
    let at = if owner == UNATTRIBUTED {
        MAX_SERIES
    } else {
        (owner as usize).min(MAX_SERIES)
    };
    &SLOTS[at]
}

/// Every slot.
pub(crate) fn all() -> &'static [Slot] {
    &SLOTS
}

/// A block of `bytes` allocated for `owner`.
#[inline(always)]
pub(crate) fn allocated(owner: u32, bytes: usize) {
    let slot = slot(owner);
    slot.allocated.fetch_add(bytes as u64, Relaxed);
    slot.allocations.fetch_add(1, Relaxed);
}

/// A block of `bytes` of `owner`'s freed.
#[inline(always)]
pub(crate) fn freed(owner: u32, bytes: usize) {
    let slot = slot(owner);
    slot.freed.fetch_add(bytes as u64, Relaxed);
    slot.frees.fetch_add(1, Relaxed);
}

/// A block of `owner`'s resized from `from` to `to` bytes: one block still, its bytes
/// grown or shrunk.
#[inline(always)]
pub(crate) fn resized(owner: u32, from: usize, to: usize) {
    let slot = slot(owner);
    if to >= from {
        slot.allocated.fetch_add((to - from) as u64, Relaxed);
    } else {
        slot.freed.fetch_add((from - to) as u64, Relaxed);
    }
}
