//! Memory per operator, measured by the allocator: [`Tracking`], a `GlobalAlloc` around
//! any other (the system's, jemalloc, mimalloc) that charges every block to the operator
//! running on the thread that allocates it. What each operator allocated, freed, holds
//! now and held at most is in the snapshot
//! ([`OperatorSnapshot::memory`](crate::snapshot::OperatorSnapshot::memory)), the
//! report, the dashboard and the export, with the bytes each call allocated
//! ([`Distributions::allocated_per_call`](crate::snapshot::Distributions::allocated_per_call))
//! and, for calls that say their partition, each partition's memory
//! ([`Share::memory`](crate::snapshot::Share::memory)); [`balance`] is the allocator's
//! whole count.
//!
//! ```
//! // In the program's root, once:
//! #[global_allocator]
//! static ALLOCATOR: pipetel::alloc::Tracking<std::alloc::System> =
//!     pipetel::alloc::Tracking::new(std::alloc::System);
//! # fn main() {
//! let telemetry = pipetel::Config::new().collect_locally(true).init();
//! let scan = pipetel::Operator::new("scan", "alloc-doc");
//! let kept = scan.call(|| vec![0u8; 1 << 20]); // a MiB, allocated by the scan
//!
//! let memory = |snapshot: pipetel::snapshot::Snapshot| {
//!     snapshot.operator("scan", "alloc-doc").unwrap().memory.unwrap()
//! };
//! assert!(memory(pipetel::snapshot()).live >= 1 << 20);
//! drop(kept); // freed outside it: still charged to the scan
//! let mine = memory(pipetel::snapshot());
//! assert!(mine.live < 1 << 20);
//! assert!(mine.peak >= 1 << 20); // held as its call returned
//! # drop(telemetry);
//! # }
//! ```
//!
//! Each block carries its owner: 2 bytes after the caller's (a trailer, so the caller's
//! alignment is kept — Arrow asks for 64), written when it is allocated and read when it
//! is freed or resized, so a block made by a scan and dropped by a sink on another thread
//! is the scan's, and a resized block keeps its owner. Blocks allocated outside any
//! operator (and before telemetry starts) are `unattributed`, never folded into an
//! operator. The allocator never allocates through itself, never panics, and counts
//! while threads are torn down. These are the allocator's bytes, not the process's
//! resident memory (fragmentation, memory a C library or `mmap` takes).

mod cells;
mod peaks;
mod usage;

use std::alloc::{GlobalAlloc, Layout};

use crate::counters::alloc_owner::{self, Owner};

pub(crate) use cells::counting;
pub(crate) use peaks::segment_ended;
pub use usage::{balance, MemoryCounts};
pub(crate) use usage::{sample_series, OwnerMemory};

/// A `GlobalAlloc` that charges each block to the operator that allocates it, around
/// `A` (which does the allocating). Set it as the program's global allocator (see the
/// [module](self)); without it, the snapshot has no memory.
#[derive(Debug, Default)]
pub struct Tracking<A> {
    inner: A,
}

impl<A> Tracking<A> {
    /// Tracking around `inner`.
    pub const fn new(inner: A) -> Self {
        Tracking { inner }
    }
}

impl<A: GlobalAlloc> Tracking<A> {
    /// A block for the caller's `layout`, allocated by `allocate` with room for the
    /// trailer, charged to the thread's current operator.
    #[inline(always)]
    fn tracked(&self, layout: Layout, allocate: impl FnOnce(Layout) -> *mut u8) -> *mut u8 {
        let Some(outer) = with_trailer(layout) else {
            return std::ptr::null_mut();
        };
        let ptr = allocate(outer);
        if !ptr.is_null() {
            let (owner, table) = alloc_owner::allocating(layout.size());
            // SAFETY: `ptr` holds `outer`, the caller's bytes and the trailer.
            unsafe { write_owner(ptr, layout.size(), owner) };
            cells::allocated(owner, table, layout.size());
        }
        ptr
    }
}

/// The bytes of the owner trailer.
const TRAILER: usize = std::mem::size_of::<Owner>();

/// Caller's sizes up to this take the trailer with no further check: their size, plus
/// the trailer, rounded up to any alignment stays below `isize::MAX`.
const CHECKED_ABOVE: usize = isize::MAX as usize / 4;

/// The layout `A` allocates for a caller's `layout`: its bytes, then the trailer, with
/// its alignment. `None` past the largest layout.
#[inline(always)]
fn with_trailer(layout: Layout) -> Option<Layout> {
    if layout.size() <= CHECKED_ABOVE {
        // SAFETY: the alignment is a valid layout's; the size plus `TRAILER`, at most
        // `isize::MAX / 4 + 4`, rounded up to an alignment of at most `2^62`, stays
        // below `isize::MAX`.
        Some(unsafe { allocated_with(layout) })
    } else {
        with_trailer_checked(layout)
    }
}

/// [`with_trailer`] for sizes past [`CHECKED_ABOVE`], checked.
#[cold]
fn with_trailer_checked(layout: Layout) -> Option<Layout> {
    let size = layout.size().checked_add(TRAILER)?;
    Layout::from_size_align(size, layout.align()).ok()
}

/// The layout a block of the caller's `layout` was allocated with here.
///
/// # Safety
/// [`with_trailer`] gives a layout for `layout`: a block allocated here with `layout`
/// was (it is only handed out when it does), so is a block being resized or freed.
#[inline(always)]
unsafe fn allocated_with(layout: Layout) -> Layout {
    // SAFETY: the caller's promise.
    unsafe { Layout::from_size_align_unchecked(layout.size() + TRAILER, layout.align()) }
}

/// Writes `owner` into the trailer of the block at `ptr` of the caller's `size` bytes.
///
/// # Safety
/// `ptr` is a block of at least `size + TRAILER` bytes.
#[inline(always)]
unsafe fn write_owner(ptr: *mut u8, size: usize, owner: Owner) {
    // SAFETY: the trailer is within the block (the caller's promise); unaligned, as the
    // caller's bytes end anywhere.
    unsafe { ptr.add(size).cast::<Owner>().write_unaligned(owner) }
}

/// The owner in the trailer of the block at `ptr` of the caller's `size` bytes.
///
/// # Safety
/// As [`write_owner`], the trailer written.
#[inline(always)]
unsafe fn read_owner(ptr: *mut u8, size: usize) -> Owner {
    // SAFETY: as in `write_owner`.
    unsafe { ptr.add(size).cast::<Owner>().read_unaligned() }
}

// SAFETY: every block handed out is one `A` allocated with room for the trailer after
// the caller's bytes, at the caller's alignment; it is handed back to `A` with the same
// layout it was allocated with. Nothing here allocates, unwinds or panics.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Tracking<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: `outer` has a non-zero size (the trailer).
        self.tracked(layout, |outer| unsafe { self.inner.alloc(outer) })
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        self.tracked(layout, |outer| unsafe { self.inner.alloc_zeroed(outer) })
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated here with `layout` (the caller's promise): with a
        // trailer, whose owner was written.
        unsafe {
            let owner = read_owner(ptr, layout.size());
            cells::freed(owner, layout.size());
            self.inner.dealloc(ptr, allocated_with(layout));
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The new layout is valid at the old alignment (the caller's promise).
        let Some(new_outer) = Layout::from_size_align(new_size, layout.align())
            .ok()
            .and_then(with_trailer)
        else {
            return std::ptr::null_mut();
        };
        // SAFETY: `ptr` was allocated here with `layout`, so with its trailer.
        let (owner, outer) = unsafe { (read_owner(ptr, layout.size()), allocated_with(layout)) };
        // SAFETY: `ptr` is `A`'s with `outer`; the new size is non-zero and valid at the
        // alignment (checked by `with_trailer`).
        let moved = unsafe { self.inner.realloc(ptr, outer, new_outer.size()) };
        if !moved.is_null() {
            // SAFETY: `moved` holds `new_outer`. The owner stays the block's.
            unsafe { write_owner(moved, new_size, owner) };
            cells::resized(owner, layout.size(), new_size);
            if new_size > layout.size() {
                alloc_owner::grown(owner, new_size - layout.size());
            }
        }
        moved
    }
}
