//! What the tracking allocator charged, read from its tables: one series' memory for a
//! snapshot or a collection ([`SeriesMemory`]; labelled and folded by `insight::memory`,
//! as the snapshot labels operators), and the allocator's whole [`balance`].

use crate::alloc::{cells, peaks};
use crate::counters::alloc_owner::UNATTRIBUTED;

/// Bytes and blocks allocated and freed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryCounts {
    /// Bytes allocated (a block grown in place or moved counts its growth).
    pub allocated: u64,
    /// Bytes freed (a block shrunk counts what it gave back).
    pub freed: u64,
    /// Blocks allocated.
    pub allocations: u64,
    /// Blocks freed.
    pub frees: u64,
}

impl MemoryCounts {
    /// Bytes held now: allocated less freed (0, not less, while a free is counted
    /// before the allocation another thread just made is).
    pub fn live(&self) -> u64 {
        self.allocated.saturating_sub(self.freed)
    }
}

/// One series' memory (or that outside any operator's: [`UNATTRIBUTED`]), its peak
/// sampled now.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SeriesMemory {
    pub(crate) counts: MemoryCounts,
    pub(crate) peak: u64,
    pub(crate) retained: u64,
}

impl SeriesMemory {
    /// What `series` allocated, freed, holds, held at most and retained.
    pub(crate) fn of(series: u32) -> SeriesMemory {
        // The peak sampled first: live bytes read after it are not above it by much.
        let peak = peaks::sample(series);
        let counts = counts(cells::read(series));
        SeriesMemory {
            peak: peak.max(counts.live()),
            retained: peaks::retained(series),
            counts,
        }
    }

    /// The memory allocated outside any operator.
    pub(crate) fn unattributed() -> SeriesMemory {
        SeriesMemory::of(UNATTRIBUTED.into())
    }
}

/// Counts as the tables give them: allocated, freed, allocations, frees.
fn counts([allocated, freed, allocations, frees]: [u64; 4]) -> MemoryCounts {
    MemoryCounts {
        allocated,
        freed,
        allocations,
        frees,
    }
}

/// The allocator's balance: every owner's counts added up, read without allocating (so
/// that what it reads is what the program holds through
/// [`Tracking`](crate::alloc::Tracking) at that moment, when no other thread allocates).
/// Reads the whole table: for checks, not per call. Each operator's own figures are in
/// the snapshot ([`OperatorSnapshot::memory`](crate::snapshot::OperatorSnapshot::memory)).
pub fn balance() -> MemoryCounts {
    counts(cells::total())
}
