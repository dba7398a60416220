//! Every series' counts summed over every thread's shard, in one pass over the cells:
//! what one metrics collection (for all its instruments) and one snapshot read.
//!
//! The pass walks each shard's allocated chunks once and adds all of a series' tallies
//! while its cells are in cache; the cost is one pass over `shards × series` cells,
//! whatever the number of metrics read from the result (BENCHMARKS.md, "Collection").

use crate::counters::cells::{LinkTally, Tally, MAX_CUSTOM_COUNTERS};
use crate::counters::shards;
use crate::counters::step_slot::StepCall;

/// The sums of one series over every thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeriesSums {
    tallies: [u64; Tally::COUNT],
    /// The step call the series last ran in, on any thread: the latest.
    pub(crate) step: StepCall,
}

impl SeriesSums {
    const ZERO: SeriesSums = SeriesSums {
        tallies: [0; Tally::COUNT],
        step: StepCall::NONE,
    };

    /// The sum of `tally`.
    pub(crate) fn get(&self, tally: Tally) -> u64 {
        self.tallies[tally as usize]
    }

    /// Calls running now: those started less those that ended.
    pub(crate) fn active(&self) -> u64 {
        let ended = self
            .get(Tally::Completed)
            .saturating_add(self.get(Tally::Failed))
            .saturating_add(self.get(Tally::Cancelled));
        self.get(Tally::Started).saturating_sub(ended)
    }
}

/// The sums of series `0..len()`.
#[derive(Debug, Default)]
pub(crate) struct Sums {
    series: Vec<SeriesSums>,
    /// Custom counters by series; empty when no thread ever counted one.
    custom: Vec<[u64; MAX_CUSTOM_COUNTERS]>,
}

impl Sums {
    /// Reads series `0..series_count` from every shard.
    ///
    /// A thread may be counting while this reads: each cell is read once, with a relaxed
    /// load, so every sum is one that held at some instant of the pass. Calls running now
    /// are derived from sums that may straddle a call's end; they saturate at zero.
    pub(crate) fn read(series_count: usize) -> Sums {
        let mut series = vec![SeriesSums::ZERO; series_count];
        let mut custom: Vec<[u64; MAX_CUSTOM_COUNTERS]> = Vec::new();
        shards::for_each_shard(|shard| {
            for (first, chunk) in shard.cell_chunks(series_count) {
                for (sums, cells) in series[first..].iter_mut().zip(chunk) {
                    for tally in Tally::ALL {
                        let sum = &mut sums.tallies[tally as usize];
                        *sum = sum.wrapping_add(cells.get(tally));
                    }
                    sums.step = sums.step.max(cells.step.get());
                }
            }
            for (first, chunk) in shard.custom_chunks(series_count) {
                if custom.is_empty() {
                    custom = vec![[0; MAX_CUSTOM_COUNTERS]; series_count];
                }
                for (sums, cells) in custom[first..].iter_mut().zip(chunk) {
                    for (index, sum) in sums.iter_mut().enumerate() {
                        *sum = sum.wrapping_add(cells.get_at(index));
                    }
                }
            }
        });
        Sums { series, custom }
    }

    /// How many series were read.
    pub(crate) fn len(&self) -> usize {
        self.series.len()
    }

    /// The sums of each series, by series id.
    pub(crate) fn series(&self) -> &[SeriesSums] {
        &self.series
    }

    /// The total of custom counter `index` for each series, by series id.
    pub(crate) fn custom(&self, index: usize) -> impl Iterator<Item = u64> + '_ {
        let counted = self.custom.iter().map(move |sums| sums[index]);
        let none = std::iter::repeat_n(
            0,
            if self.custom.is_empty() {
                self.len()
            } else {
                0
            },
        );
        counted.chain(none)
    }
}

/// The tallies of graph links `0..link_count`, summed over every shard, by link id.
pub(crate) fn read_links(link_count: usize) -> Vec<[u64; LinkTally::COUNT]> {
    let mut links = vec![[0u64; LinkTally::COUNT]; link_count];
    shards::for_each_shard(|shard| {
        for (first, chunk) in shard.link_chunks(link_count) {
            for (sums, cells) in links[first..].iter_mut().zip(chunk) {
                for (index, sum) in sums.iter_mut().enumerate() {
                    *sum = sum.wrapping_add(cells.get_at(index));
                }
            }
        }
    });
    links
}
