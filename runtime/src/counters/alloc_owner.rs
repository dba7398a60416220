//! What the tracking allocator (`crate::alloc`, feature `alloc`) reads of this thread:
//! the owner of what it allocates now (the running segment's operator series, or its
//! partition's owner: `counters::partition_owners`; no segment running, no operator's),
//! the bytes allocated in the segment running now (its own: a segment nested in it takes
//! the count and hands it back as it ends — what a call allocated, for its distribution,
//! and whether it allocated at all, to sample its operator's memory), and the table it
//! counts into. One `const`-initialised thread-local with no destructor and no lazy
//! initialisation, so that reading it never allocates, still works while the thread is
//! being torn down, and costs one address for the three.

use std::cell::Cell;

use crate::counters::table::MAX_SERIES;

/// An owner of blocks: a series, [`UNATTRIBUTED`], or a partition of a series
/// (`counters::partition_owners`). Two bytes, as kept in each block.
pub(crate) type Owner = u16;

/// The owner of allocations made outside any operator: the slot after every series'.
pub(crate) const UNATTRIBUTED: Owner = MAX_SERIES as Owner;

// Every series, and `UNATTRIBUTED` after them, is an `Owner`.
const _: () = assert!(MAX_SERIES < Owner::MAX as usize);

struct Thread {
    owner: Cell<Owner>,
    /// Bytes allocated on this thread since the running segment started (and its owner's
    /// blocks grown by), less what segments nested in it allocated.
    allocated: Cell<u64>,
    /// The allocator's table for this thread (null: not chosen yet).
    table: Cell<*const ()>,
}

thread_local! {
    static THREAD: Thread = const {
        Thread {
            owner: Cell::new(UNATTRIBUTED),
            allocated: Cell::new(0),
            table: Cell::new(std::ptr::null()),
        }
    };
}

/// The owner of the blocks `series` (a series id, below `MAX_SERIES`) allocates in calls
/// that say no partition.
#[inline(always)]
pub(crate) fn of_series(series: u32) -> Owner {
    debug_assert!((series as usize) < MAX_SERIES);
    series as Owner
}

/// The owner of a block of `bytes` allocated now on this thread, counting its bytes in
/// the running segment's, and the thread's table (null when not chosen yet, or the
/// thread is torn down).
#[inline(always)]
pub(crate) fn allocating(bytes: usize) -> (Owner, *const ()) {
    THREAD
        .try_with(|thread| {
            thread
                .allocated
                .set(thread.allocated.get().wrapping_add(bytes as u64));
            (thread.owner.get(), thread.table.get())
        })
        .unwrap_or((UNATTRIBUTED, std::ptr::null()))
}

/// A block of `owner`'s grew by `bytes` on this thread: counted as bytes the running
/// segment allocated if the block is its owner's. A block of another's grown here (a
/// buffer made before the call and filled in it) is its owner's memory, and so not the
/// call's either: the bytes a call allocated stay a part of what its owner allocated.
#[inline(always)]
pub(crate) fn grown(owner: Owner, bytes: usize) {
    let _ = THREAD.try_with(|thread| {
        if thread.owner.get() == owner {
            thread
                .allocated
                .set(thread.allocated.get().wrapping_add(bytes as u64));
        }
    });
}

/// What a segment keeps of the thread's state before it, to give it back as it ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outer {
    owner: Owner,
    allocated: u64,
}

/// Starts a segment whose blocks `owner` owns (its series, or its partition's owner):
/// makes `owner` the thread's, and starts counting the segment's bytes. Returns the
/// enclosing state, to hand back to [`end_segment`].
#[inline(always)]
pub(crate) fn begin_segment(owner: Owner) -> Outer {
    THREAD
        .try_with(|thread| Outer {
            owner: thread.owner.replace(owner),
            allocated: thread.allocated.replace(0),
        })
        .unwrap_or(Outer {
            owner: UNATTRIBUTED,
            allocated: 0,
        })
}

/// Ends the segment [`begin_segment`] started (which returned `outer`): the owner before
/// it is the thread's again, and the enclosing segment's count goes on; returns the
/// bytes the segment allocated, its own.
#[inline(always)]
pub(crate) fn end_segment(outer: Outer) -> u64 {
    THREAD
        .try_with(|thread| {
            thread.owner.set(outer.owner);
            thread.allocated.replace(outer.allocated)
        })
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
