//! What the tracking allocator (`crate::alloc`, feature `alloc`) reads of this thread:
//! the operator that owns what it allocates now (the current operator's series, mirrored
//! here), how many blocks it has allocated (a segment that sees the count move samples
//! its operator's memory as it ends), and the table it counts into. One `const`-initialised
//! thread-local with no destructor and no lazy initialisation, so that reading it never
//! allocates, still works while the thread is being torn down, and costs one address for
//! the three.

use std::cell::Cell;

use crate::counters::table::MAX_SERIES;

/// An owner of blocks: a series, or [`UNATTRIBUTED`]. Two bytes, as kept in each block.
pub(crate) type Owner = u16;

/// The owner of allocations made outside any operator: the slot after every series'.
pub(crate) const UNATTRIBUTED: Owner = MAX_SERIES as Owner;

// Every series, and `UNATTRIBUTED` after them, is an `Owner`.
const _: () = assert!(MAX_SERIES < Owner::MAX as usize);

struct Thread {
    owner: Cell<Owner>,
    allocations: Cell<u64>,
    /// The allocator's table for this thread (null: not chosen yet).
    table: Cell<*const ()>,
}

thread_local! {
    static THREAD: Thread = const {
        Thread {
            owner: Cell::new(UNATTRIBUTED),
            allocations: Cell::new(0),
            table: Cell::new(std::ptr::null()),
        }
    };
}

/// Makes `series` (a series id, below `MAX_SERIES`) the owner of this thread's
/// allocations; [`UNATTRIBUTED`] for none.
#[inline(always)]
pub(crate) fn set(series: u32) {
    debug_assert!(series <= u32::from(UNATTRIBUTED));
    let _ = THREAD.try_with(|thread| thread.owner.set(series as Owner));
}

/// The owner of a block allocated now on this thread, counting the block, and the
/// thread's table (null when not chosen yet, or the thread is torn down).
#[inline(always)]
pub(crate) fn allocating() -> (Owner, *const ()) {
    THREAD
        .try_with(|thread| {
            thread
                .allocations
                .set(thread.allocations.get().wrapping_add(1));
            (thread.owner.get(), thread.table.get())
        })
        .unwrap_or((UNATTRIBUTED, std::ptr::null()))
}

/// A block grew on this thread: counted as a block allocated, so that the segment it
/// grew in samples its owner's memory.
#[inline(always)]
pub(crate) fn grown() {
    let _ = THREAD.try_with(|thread| {
        thread
            .allocations
            .set(thread.allocations.get().wrapping_add(1))
    });
}

/// The blocks this thread allocated so far (wrapping): moved between two reads, the
/// thread allocated in between.
#[inline(always)]
pub(crate) fn allocations() -> u64 {
    THREAD
        .try_with(|thread| thread.allocations.get())
        .unwrap_or(0)
}

/// This thread's table (null when not chosen yet, or the thread is torn down).
#[inline(always)]
pub(crate) fn table() -> *const () {
    THREAD
        .try_with(|thread| thread.table.get())
        .unwrap_or(std::ptr::null())
}

/// Keeps `table` as this thread's (nothing while the thread is torn down).
#[inline]
pub(crate) fn set_table(table: *const ()) {
    let _ = THREAD.try_with(|thread| thread.table.set(table));
}
