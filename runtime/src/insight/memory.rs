//! The tracking allocator's figures (feature `alloc`) read for a snapshot: each series'
//! memory, for the snapshot to fold a query's lanes into their operator as it folds the
//! other counters, and the memory allocated outside any operator.

use std::collections::HashMap;

use crate::counters::registry::SeriesLabels;
use crate::insight::snapshot::Memory;

/// The memory of a series whose calls said their partition: its own owner's `own` and
/// its partitions' `parts` added up. Its peak is sampled as a whole at readings (the sum
/// of every owner's live bytes now, kept as the series' highest sample), and is at least
/// each partition's and its own: a peak is never below a part of it.
#[cfg(feature = "alloc")]
fn with_partitions(series: u32, own: Memory, parts: &[(u32, Memory)]) -> Memory {
    let mut sum = own;
    for (_, part) in parts {
        sum.add(part);
    }
    let highest_part = parts.iter().map(|(_, part)| part.peak).max().unwrap_or(0);
    // Not the sum of the peaks, which were not held at once.
    sum.peak = crate::alloc::sample_series(series, sum.live)
        .max(own.peak)
        .max(highest_part);
    sum
}

/// Whether the tracking allocator counts: the `alloc` feature is on and
/// `pipetel::alloc::Tracking` is the global allocator.
pub(crate) fn tracking() -> bool {
    #[cfg(feature = "alloc")]
    return crate::alloc::counting();
    #[cfg(not(feature = "alloc"))]
    false
}

/// What the tracking allocator charged, read at one moment.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemoryReading {
    /// By series id: each series' own owner and its partitions' added up.
    pub(crate) by_series: Vec<Memory>,
    /// By series id, for series whose calls said their partition: each partition's
    /// memory, in partition order.
    pub(crate) partitions: HashMap<u32, Vec<(u32, Memory)>>,
    /// Outside any operator.
    pub(crate) unattributed: Memory,
}

impl MemoryReading {
    /// Series `0..series_count`, their partitions and the unattributed memory, each
    /// peak sampled now; `None` when nothing is tracked (the feature off, or
    /// `pipetel::alloc::Tracking` not the global allocator). Reads every series' and
    /// partition's slots: a few dozen loads each.
    #[cfg(feature = "alloc")]
    pub(crate) fn read(series_count: usize) -> Option<MemoryReading> {
        use crate::alloc::OwnerMemory;
        if !tracking() {
            return None;
        }
        let memory = |read: OwnerMemory| Memory {
            allocated: read.counts.allocated,
            freed: read.counts.freed,
            allocations: read.counts.allocations,
            frees: read.counts.frees,
            live: read.counts.live(),
            peak: read.peak,
            retained: read.retained,
        };
        let series_count = u32::try_from(series_count).unwrap_or(u32::MAX);
        let mut partitions: HashMap<u32, Vec<(u32, Memory)>> = HashMap::new();
        for (owner, series, partition) in crate::counters::partition_owners::all() {
            if series < series_count {
                let read = memory(OwnerMemory::of(owner));
                partitions
                    .entry(series)
                    .or_default()
                    .push((partition, read));
            }
        }
        for parts in partitions.values_mut() {
            parts.sort_unstable_by_key(|&(partition, _)| partition);
        }
        let by_series = (0..series_count)
            .map(|series| {
                let own = memory(OwnerMemory::of_series(series));
                match partitions.get(&series) {
                    None => own,
                    Some(parts) => with_partitions(series, own, parts),
                }
            })
            .collect();
        Some(MemoryReading {
            by_series,
            partitions,
            unattributed: memory(OwnerMemory::unattributed()),
        })
    }

    /// Without the `alloc` feature, nothing is tracked.
    #[cfg(not(feature = "alloc"))]
    pub(crate) fn read(_series_count: usize) -> Option<MemoryReading> {
        None
    }

    /// Each lane series' memory (and its partitions') added into its canonical series'
    /// (an operator counted apart per query: the process's totals), as the counters are
    /// folded.
    pub(crate) fn fold_lanes(&mut self, labels: &[SeriesLabels]) {
        for (series, label) in labels.iter().enumerate() {
            let canonical = label.canonical as usize;
            if canonical == series || series >= self.by_series.len() {
                continue;
            }
            let lane = std::mem::take(&mut self.by_series[series]);
            if let Some(into) = self.by_series.get_mut(canonical) {
                into.add(&lane);
            }
            if let Some(parts) = self.partitions.remove(&(series as u32)) {
                let into = self.partitions.entry(canonical as u32).or_default();
                for (partition, memory) in parts {
                    match into.iter_mut().find(|(had, _)| *had == partition) {
                        Some((_, had)) => had.add(&memory),
                        None => into.push((partition, memory)),
                    }
                }
                into.sort_unstable_by_key(|&(partition, _)| partition);
            }
        }
    }

    /// The memory of each partition of `series`, if its calls said their partition.
    pub(crate) fn partitions_of(&self, series: usize) -> &[(u32, Memory)] {
        u32::try_from(series)
            .ok()
            .and_then(|series| self.partitions.get(&series))
            .map_or(&[], Vec::as_slice)
    }

    /// The memory of `series`.
    pub(crate) fn of(&self, series: usize) -> Memory {
        self.by_series.get(series).copied().unwrap_or_default()
    }
}
