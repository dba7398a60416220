//! What the tracking allocator counts, per owner: bytes and blocks allocated and freed.
//! One slot per operator series, one per partition measured apart, and one for
//! allocations made outside any operator, in
//! static tables (no allocation: the allocator counts here), each counter an atomic. A
//! block is charged to the owner written in it when it was allocated, whichever thread
//! frees it, so an owner's live bytes — its slots added up — are exact whatever threads
//! allocate or free, and a thread that exits leaves nothing behind.
//!
//! [`SHARDS`] tables, a thread counting into one of its own (threads numbered as they
//! first allocate, the table their number modulo `SHARDS`): two threads of one operator
//! on two cores then add to different cache lines — with one table shared, each
//! allocation waits for the other core's cache line (measured: an allocate + free on two
//! threads +79 ns over the system allocator, against +1.4 ns on one). Untouched slots
//! cost no memory (the tables are zero pages until written).
//!
//! A table has a slot for every [`Owner`] value (two bytes: 65,536 slots, of which series
//! use those below `MAX_SERIES`, `UNATTRIBUTED` the next, and partitions the rest), so an
//! owner read from a block indexes its table with no bounds check and no clamp.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use crate::counters::alloc_owner::{self, Owner};

/// One owner's counts.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) allocated: AtomicU64,
    pub(crate) freed: AtomicU64,
    pub(crate) allocations: AtomicU64,
    pub(crate) frees: AtomicU64,
}

/// The tables threads count into.
pub(crate) const SHARDS: usize = 8;

/// Slots per table: one per owner value.
const SLOTS: usize = Owner::MAX as usize + 1;

/// A table: slot `i` is owner `i`'s — series `i`'s below `UNATTRIBUTED`, whose slot
/// holds allocations outside any operator, then partitions'.
type Table = [Slot; SLOTS];

static TABLES: [Table; SHARDS] = [const {
    [const {
        Slot {
            allocated: AtomicU64::new(0),
            freed: AtomicU64::new(0),
            allocations: AtomicU64::new(0),
            frees: AtomicU64::new(0),
        }
    }; SLOTS]
}; SHARDS];

/// Threads numbered as they first count, for their table.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// This thread's table, from what the thread keeps (`alloc_owner::table`).
#[inline(always)]
fn table(kept: *const ()) -> &'static Table {
    let chosen = if kept.is_null() {
        choose()
    } else {
        kept.cast::<Table>()
    };
    // SAFETY: a pointer to one of `TABLES`, a static.
    unsafe { &*chosen }
}

/// Chooses this thread's table, by its number among the threads that counted, and keeps
/// it. A thread being torn down keeps nothing and counts into the first table: any adds
/// up the same. Inlined, rare as it is: a call here would make the allocator save
/// registers on every block.
#[inline(always)]
fn choose() -> *const Table {
    let chosen: *const Table = &TABLES[THREADS.fetch_add(1, Relaxed) % SHARDS];
    alloc_owner::set_table(chosen.cast());
    chosen
}

/// Whether the tracking allocator has counted a block: it is the program's global
/// allocator (every program allocates before its `main`).
pub(crate) fn counting() -> bool {
    THREADS.load(Relaxed) != 0
}

/// `owner`'s counts, every table's added up.
pub(crate) fn read(owner: Owner) -> [u64; 4] {
    let at = usize::from(owner);
    let mut counts = [0; 4];
    // Frees first: a block freed was counted allocated before it (on the thread that
    // saw it), so the live bytes read are not less than they were.
    for table in &TABLES {
        let slot = &table[at];
        counts[1] += slot.freed.load(Relaxed);
        counts[3] += slot.frees.load(Relaxed);
    }
    for table in &TABLES {
        let slot = &table[at];
        counts[0] += slot.allocated.load(Relaxed);
        counts[2] += slot.allocations.load(Relaxed);
    }
    counts
}

/// `owner`'s live bytes: allocated less freed, every table's added up (frees read first,
/// as in [`read`]).
#[inline]
pub(crate) fn live(owner: Owner) -> u64 {
    let at = usize::from(owner);
    let freed: u64 = TABLES
        .iter()
        .map(|table| table[at].freed.load(Relaxed))
        .sum();
    let allocated: u64 = TABLES
        .iter()
        .map(|table| table[at].allocated.load(Relaxed))
        .sum();
    allocated.saturating_sub(freed)
}

/// Every owner's counts added up.
pub(crate) fn total() -> [u64; 4] {
    let mut counts = [0; 4];
    for table in &TABLES {
        for slot in table {
            counts[0] += slot.allocated.load(Relaxed);
            counts[1] += slot.freed.load(Relaxed);
            counts[2] += slot.allocations.load(Relaxed);
            counts[3] += slot.frees.load(Relaxed);
        }
    }
    counts
}

/// A block of `bytes` allocated for `owner` on a thread whose table is `kept`.
#[inline(always)]
pub(crate) fn allocated(owner: Owner, kept: *const (), bytes: usize) {
    let slot = &table(kept)[usize::from(owner)];
    slot.allocated.fetch_add(bytes as u64, Relaxed);
    slot.allocations.fetch_add(1, Relaxed);
}

/// A block of `bytes` of `owner`'s freed on this thread.
#[inline(always)]
pub(crate) fn freed(owner: Owner, bytes: usize) {
    let slot = &table(alloc_owner::table())[usize::from(owner)];
    slot.freed.fetch_add(bytes as u64, Relaxed);
    slot.frees.fetch_add(1, Relaxed);
}

/// A block of `owner`'s resized on this thread from `from` to `to` bytes: one block
/// still, its bytes grown or shrunk.
#[inline(always)]
pub(crate) fn resized(owner: Owner, from: usize, to: usize) {
    let slot = &table(alloc_owner::table())[usize::from(owner)];
    if to >= from {
        slot.allocated.fetch_add((to - from) as u64, Relaxed);
    } else {
        slot.freed.fetch_add((from - to) as u64, Relaxed);
    }
}
