//! The per-call details of one operator series on one thread — its distributions
//! (`counters::histogram`) and its slowest segments (`counters::slowest`) — allocated on
//! the series' first call on the thread, behind one pointer, within a process-wide budget.
//!
//! Cells are allocated a chunk of 64 series at a time; details are larger (about 1.3 KiB),
//! so each (series, thread) gets its own block, only once it runs there, and the blocks
//! together stay below [`MAX_DETAILS_BYTES`]: past it, further series and threads count
//! everything but their distributions and slowest calls, with one warning naming the
//! limit.
//!
//! A block says when it changed since readers last took it in (`counters::per_call`
//! reads only those): the owner raises the flag on its cold paths — emptying its segment
//! list into the buckets, keeping a new slowest segment — never per call.

use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

use crate::counters::cells::Zeroed;
use crate::counters::histogram::HistogramCells;
use crate::counters::slowest::SlowCells;
use crate::warn::warn;

/// The most memory the per-call details of all (operator, thread) pairs may take: 256 MiB,
/// about 190,000 pairs. Past it, new pairs keep no distributions or slowest calls, with
/// one warning naming this limit.
pub const MAX_DETAILS_BYTES: usize = 256 << 20;

/// One series' details on one thread.
#[derive(Debug)]
pub(crate) struct Details {
    pub(crate) histogram: HistogramCells,
    pub(crate) slowest: SlowCells,
    /// Set by the owner after it changes the block; taken (cleared) by the reader that
    /// reads it.
    changed: AtomicBool,
}

impl Details {
    /// Says the block changed, after the owner changed it. Only the owning thread may
    /// call this.
    #[inline]
    pub(crate) fn mark_changed(&self) {
        self.changed.store(true, Ordering::Release);
    }

    /// Keeps a segment of `ticks` busy ticks that ended at tick `ended` among the slowest
    /// if it is; returns the new floor ([`SlowCells::record`]). Only the owning thread may
    /// call this.
    #[cold]
    pub(crate) fn record_slow(&self, ticks: u64, ended: u64, trace_id: u128) -> u64 {
        let floor = self.slowest.record(ticks, ended, trace_id);
        self.mark_changed();
        floor
    }

    /// Whether the block changed since the flag was last taken, clearing it: what the
    /// owner wrote before raising it is visible once this returns `true`.
    pub(crate) fn take_changed(&self) -> bool {
        // A load first: most blocks are unchanged, and a swap would write every one.
        self.changed.load(Ordering::Relaxed) && self.changed.swap(false, Ordering::Acquire)
    }
}

/// Where a thread keeps a pointer to its details of one series (null until the first call).
#[derive(Debug)]
pub(crate) struct DetailsSlot(AtomicPtr<Details>);

impl Zeroed for DetailsSlot {
    const ZERO: Self = DetailsSlot(AtomicPtr::new(ptr::null_mut()));
}

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static WARNED: AtomicBool = AtomicBool::new(false);

impl DetailsSlot {
    /// The details, allocating them on first use; `None` past [`MAX_DETAILS_BYTES`]. Only
    /// the owning thread may call this.
    #[inline(always)]
    pub(crate) fn get_or_allocate(&self) -> Option<&'static Details> {
        let found = self.0.load(Ordering::Acquire);
        if found.is_null() {
            return self.allocate();
        }
        // SAFETY: a non-null pointer comes from `Box::leak` in `allocate`, never freed.
        Some(unsafe { &*found })
    }

    /// The details if the owner allocated them (any thread).
    pub(crate) fn get(&self) -> Option<&'static Details> {
        // SAFETY: as in `get_or_allocate`.
        unsafe { self.0.load(Ordering::Acquire).as_ref() }
    }

    #[cold]
    #[inline(never)]
    fn allocate(&self) -> Option<&'static Details> {
        let size = std::mem::size_of::<Details>();
        let before = ALLOCATED.fetch_add(size, Ordering::Relaxed);
        if before + size > MAX_DETAILS_BYTES {
            ALLOCATED.fetch_sub(size, Ordering::Relaxed);
            if !WARNED.swap(true, Ordering::Relaxed) {
                warn(format_args!(
                    "per-call distributions and slowest calls take {} MiB \
                     (pipetel::limits::MAX_DETAILS_BYTES); further operators and threads count \
                     everything else, without them",
                    MAX_DETAILS_BYTES >> 20
                ));
            }
            return None;
        }
        // Built in place: `Details` is over a kilobyte.
        let mut fresh = Box::<Details>::new_uninit();
        let block = fresh.as_mut_ptr();
        // SAFETY: the fields are written before `assume_init`, through raw pointers into
        // the allocation.
        let details: &'static Details = unsafe {
            ptr::addr_of_mut!((*block).histogram).write(HistogramCells::ZERO);
            ptr::addr_of_mut!((*block).slowest).write(SlowCells::ZERO);
            ptr::addr_of_mut!((*block).changed).write(AtomicBool::new(false));
            Box::leak(fresh.assume_init())
        };
        self.0
            .store(ptr::from_ref(details).cast_mut(), Ordering::Release);
        Some(details)
    }
}
