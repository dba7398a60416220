//! [`usage`]: what the tracking allocator charged to each operator, read from its table
//! and labelled as the snapshot labels operators.

use std::collections::BTreeMap;

use crate::alloc::{cells, peaks};
use crate::counters::alloc_owner::UNATTRIBUTED;
use crate::counters::registry;

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

    fn add(&mut self, other: &MemoryCounts) {
        self.allocated += other.allocated;
        self.freed += other.freed;
        self.allocations += other.allocations;
        self.frees += other.frees;
    }
}

/// One operator's memory, by its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperatorMemory {
    /// The `node.type` label.
    pub node_type: String,
    /// The `node.id` label.
    pub node_id: String,
    /// What the allocator charged to it (the blocks it allocated, wherever they were
    /// freed).
    pub counts: MemoryCounts,
    /// The most it held, sampled each time it returns (a call, a poll, an item) and at
    /// each reading (this one included): a peak reached and given back inside one call
    /// is missed. Of an operator counted apart in several queries at once, the sum of
    /// their peaks.
    pub peak: u64,
    /// What it held when it last returned from a call (a poll, an item) in which it
    /// allocated.
    pub retained: u64,
}

impl std::ops::Deref for OperatorMemory {
    type Target = MemoryCounts;

    fn deref(&self) -> &MemoryCounts {
        &self.counts
    }
}

/// What the tracking allocator charged, per operator and outside any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryUsage {
    /// Each operator that allocated, by `(node.type, node.id)` (every query's and run's
    /// series of it added up).
    pub operators: Vec<OperatorMemory>,
    /// Blocks allocated outside any operator, or before telemetry started.
    pub unattributed: MemoryCounts,
}

impl MemoryUsage {
    /// The operator with these labels, if it allocated.
    pub fn operator(&self, node_type: &str, node_id: &str) -> Option<&OperatorMemory> {
        self.operators
            .iter()
            .find(|op| op.node_type == node_type && op.node_id == node_id)
    }

    /// Every count added up: the allocator's balance (its live bytes are what the
    /// program holds through it now).
    pub fn total(&self) -> MemoryCounts {
        let mut total = self.unattributed;
        for op in &self.operators {
            total.add(&op.counts);
        }
        total
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

    fn add(&mut self, other: &SeriesMemory) {
        self.counts.add(&other.counts);
        self.peak += other.peak;
        self.retained += other.retained;
    }
}

/// Whether [`Tracking`](crate::alloc::Tracking) is the global allocator: whether it
/// counted any block. Blocks allocated before `main` or telemetry, outside any
/// operator, answer in a few loads; otherwise the whole table is read.
pub(crate) fn tracking() -> bool {
    cells::read(UNATTRIBUTED.into())[2] > 0 || cells::total()[2] > 0
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
/// that what it reads is what the program holds through the allocator at that moment,
/// when no other thread allocates). Reads the whole table: for checks, not per call.
pub fn balance() -> MemoryCounts {
    counts(cells::total())
}

/// What the tracking allocator ([`Tracking`](crate::alloc::Tracking)) charged so far.
/// Reads the allocator's table (one slot per operator series): call it when a report is
/// made, not per call. Empty when `Tracking` is not the global allocator.
pub fn usage() -> MemoryUsage {
    let mut by_labels: BTreeMap<(&'static str, &'static str), SeriesMemory> = BTreeMap::new();
    registry::with_labels(|labels| {
        for (series, label) in labels.iter().enumerate() {
            let memory = SeriesMemory::of(series as u32);
            if memory.counts.allocations == 0 && memory.counts.allocated == 0 {
                continue;
            }
            let canonical = &labels[label.canonical as usize];
            by_labels
                .entry((canonical.node_type, canonical.node_id))
                .or_default()
                .add(&memory);
        }
    });
    MemoryUsage {
        operators: by_labels
            .into_iter()
            .map(|((node_type, node_id), memory)| OperatorMemory {
                node_type: node_type.to_owned(),
                node_id: node_id.to_owned(),
                counts: memory.counts,
                peak: memory.peak,
                retained: memory.retained,
            })
            .collect(),
        unattributed: counts(cells::read(UNATTRIBUTED.into())),
    }
}
