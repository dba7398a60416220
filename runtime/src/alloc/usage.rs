//! What the tracking allocator charged, read from its tables: one owner's memory for a
//! snapshot or a collection ([`OwnerMemory`]; added up by series, labelled and folded by
//! `insight::memory`, as the snapshot labels operators), and the allocator's whole
//! [`balance`].

use crate::alloc::{cells, peaks};
use crate::counters::alloc_owner::{self, Owner, UNATTRIBUTED};

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

/// One owner's memory — a series', a partition's, or that outside any operator
/// ([`UNATTRIBUTED`]) — its peak sampled now.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OwnerMemory {
    pub(crate) counts: MemoryCounts,
    pub(crate) peak: u64,
    pub(crate) retained: u64,
}

impl OwnerMemory {
    /// What `owner` allocated, freed, holds, held at most and retained.
    pub(crate) fn of(owner: Owner) -> OwnerMemory {
        let counts = counts(cells::read(owner));
        OwnerMemory {
            peak: peaks::sample(owner, counts.live()),
            retained: peaks::retained(owner),
            counts,
        }
    }

    /// The memory of `series`' own owner (its calls that said no partition).
    pub(crate) fn of_series(series: u32) -> OwnerMemory {
        OwnerMemory::of(alloc_owner::of_series(series))
    }

    /// The memory allocated outside any operator.
    pub(crate) fn unattributed() -> OwnerMemory {
        OwnerMemory::of(UNATTRIBUTED)
    }
}

/// Samples the peak of `series`, all of whose owners (its own and its partitions') hold
/// `live` bytes together now: the highest of the series' samples so far, raised to them.
pub(crate) fn sample_series(series: u32, live: u64) -> u64 {
    peaks::sample(alloc_owner::of_series(series), live)
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
