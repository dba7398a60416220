//! The operator that owns what this thread allocates now, for the tracking allocator
//! (`crate::alloc`, feature `alloc`): the current operator's series, mirrored where the
//! allocator can read it — a `const`-initialised thread-local `Cell`,
//! with no destructor and no lazy initialisation, so that reading it never allocates and
//! still works while the thread is being torn down.

use std::cell::Cell;

/// The owner of allocations made outside any operator.
pub(crate) const UNATTRIBUTED: u32 = u32::MAX;

thread_local! {
    static OWNER: Cell<u32> = const { Cell::new(UNATTRIBUTED) };
}

/// Makes `series` (or [`UNATTRIBUTED`]) the owner of this thread's allocations.
#[inline(always)]
pub(crate) fn set(series: u32) {
    let _ = OWNER.try_with(|owner| owner.set(series));
}

/// The owner of an allocation made now on this thread.
#[inline(always)]
pub(crate) fn current() -> u32 {
    OWNER.try_with(Cell::get).unwrap_or(UNATTRIBUTED)
}
