//! The tracking allocator's figures (feature `alloc`) read for a snapshot: each series'
//! memory, for the snapshot to fold a query's lanes into their operator as it folds the
//! other counters, and the memory allocated outside any operator.

use crate::counters::registry::SeriesLabels;
use crate::insight::snapshot::Memory;

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
    /// By series id.
    pub(crate) by_series: Vec<Memory>,
    /// Outside any operator.
    pub(crate) unattributed: Memory,
}

impl MemoryReading {
    /// Series `0..series_count` and the unattributed memory, each series' peak sampled
    /// now; `None` when nothing is tracked (the feature off, or
    /// `pipetel::alloc::Tracking` not the global allocator: no block counted). Reads
    /// every series' slots: a few dozen loads each.
    #[cfg(feature = "alloc")]
    pub(crate) fn read(series_count: usize) -> Option<MemoryReading> {
        use crate::alloc::SeriesMemory;
        let memory = |read: SeriesMemory| Memory {
            allocated: read.counts.allocated,
            freed: read.counts.freed,
            allocations: read.counts.allocations,
            frees: read.counts.frees,
            live: read.counts.live(),
            peak: read.peak,
            retained: read.retained,
        };
        let series_count = u32::try_from(series_count).unwrap_or(u32::MAX);
        let reading = MemoryReading {
            by_series: (0..series_count)
                .map(|series| memory(SeriesMemory::of(series)))
                .collect(),
            unattributed: memory(SeriesMemory::unattributed()),
        };
        let counted = |memory: &Memory| memory.allocations > 0;
        (counted(&reading.unattributed) || reading.by_series.iter().any(counted)).then_some(reading)
    }

    /// Without the `alloc` feature, nothing is tracked.
    #[cfg(not(feature = "alloc"))]
    pub(crate) fn read(_series_count: usize) -> Option<MemoryReading> {
        None
    }

    /// Each lane series' memory added into its canonical series' (an operator counted
    /// apart per query: the process's totals), as the counters are folded.
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
        }
    }

    /// The memory of `series`.
    pub(crate) fn of(&self, series: usize) -> Memory {
        self.by_series.get(series).copied().unwrap_or_default()
    }
}
