//! Every series' counts summed over every thread's shard, in one pass over the cells:
//! what one metrics collection (for all its instruments) and one snapshot read.
//!
//! The pass walks each shard's allocated chunks once, a chunk of series at a time over
//! every shard, and adds all of a series' tallies while its cells are in cache; the cost
//! is one pass over `shards × series` cells, whatever the number of metrics read from the
//! result (BENCHMARKS.md, "Collection"), asking for the next shard's cells ahead of
//! their turn. The same pass gives each series' shares by thread (for skew).

use crate::counters::cells::{Cells, LinkCells, LinkTally, Tally, MAX_CUSTOM_COUNTERS};
use crate::counters::shards;
use crate::counters::step_slot::StepCall;
use crate::counters::table::CHUNK;

/// The sums of one series over every thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeriesSums {
    tallies: [u64; Tally::COUNT],
    /// The step call the series last ran in, on any thread: the latest.
    pub(crate) step: StepCall,
}

impl SeriesSums {
    pub(crate) const ZERO: SeriesSums = SeriesSums {
        tallies: [0; Tally::COUNT],
        step: StepCall::NONE,
    };

    /// Adds one thread's `cells` of the series (shard `thread`'s), each read once; returns
    /// that thread's share, if it ran the series.
    #[inline]
    pub(crate) fn add_cells(&mut self, cells: &Cells, thread: u32) -> Option<ThreadShare> {
        let tallies = Tally::ALL.map(|tally| cells.get(tally));
        for (sum, added) in self.tallies.iter_mut().zip(tallies) {
            *sum = sum.wrapping_add(added);
        }
        self.step = self.step.max(cells.step.get());
        let get = |tally: Tally| tallies[tally as usize];
        let (rows_out, busy_ticks) = (get(Tally::RowsOut), get(Tally::BusyTicks));
        (get(Tally::Started) > 0 || busy_ticks > 0 || rows_out > 0).then_some(ThreadShare {
            thread,
            rows_out,
            busy_ticks,
        })
    }

    /// `other` (of another series) added to these sums; the step is the later.
    pub(crate) fn add(&mut self, other: &SeriesSums) {
        for (sum, added) in self.tallies.iter_mut().zip(other.tallies) {
            *sum = sum.wrapping_add(added);
        }
        self.step = self.step.max(other.step);
    }

    /// What was counted after `before` (an earlier read of the series); the step stays
    /// this read's.
    pub(crate) fn since(&self, before: &SeriesSums) -> SeriesSums {
        let mut since = *self;
        for (sum, earlier) in since.tallies.iter_mut().zip(before.tallies) {
            *sum = sum.wrapping_sub(earlier);
        }
        since
    }

    /// Whether nothing was counted.
    pub(crate) fn is_zero(&self) -> bool {
        self.tallies == [0; Tally::COUNT]
    }

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
#[derive(Debug, Default, Clone)]
pub(crate) struct Sums {
    series: Vec<SeriesSums>,
    /// Custom counters by series; empty when no thread ever counted one.
    custom: Vec<[u64; MAX_CUSTOM_COUNTERS]>,
}

impl Sums {
    /// Reads series `0..series_count` from every shard, and each series' shares by
    /// thread, in one pass over the cells.
    ///
    /// A thread may be counting while this reads: each cell is read once, with a relaxed
    /// load, so every sum is one that held at some instant of the pass. Calls running now
    /// are derived from sums that may straddle a call's end; they saturate at zero.
    pub(crate) fn read_with_shares(series_count: usize) -> (Sums, Vec<Vec<ThreadShare>>) {
        let mut shares: Vec<Vec<ThreadShare>> = vec![Vec::new(); series_count];
        let series = read_cells(series_count, &mut shares);
        (
            Sums {
                series,
                custom: read_custom(series_count),
            },
            shares,
        )
    }

    /// [`read_with_shares`](Self::read_with_shares) for an export, which needs of most
    /// series' shares only what their skew score needs: those shares summed, with no
    /// share kept. The series `kept` marks (by series id; those past its end too) keep
    /// their shares: a lane's shares add into its canonical series' by thread before
    /// they are scored (`reading::fold_lanes`), and sums do not add by thread.
    pub(crate) fn read_for_export(series_count: usize, kept: &[bool]) -> (Sums, ExportShares) {
        let mut shares = ExportShares {
            sums: vec![ShareSums::default(); series_count],
            kept: vec![Vec::new(); series_count],
        };
        let series = read_cells(
            series_count,
            &mut ForExport {
                shares: &mut shares,
                kept,
            },
        );
        (
            Sums {
                series,
                custom: read_custom(series_count),
            },
            shares,
        )
    }

    pub(crate) fn move_into(&mut self, from: usize, to: usize) {
        let moved = std::mem::replace(&mut self.series[from], SeriesSums::ZERO);
        let into = &mut self.series[to];
        for (sum, added) in into.tallies.iter_mut().zip(moved.tallies) {
            *sum = sum.wrapping_add(added);
        }
        into.step = into.step.max(moved.step);
        if let Some(moved) = self.custom.get(from).copied() {
            self.custom[from] = [0; MAX_CUSTOM_COUNTERS];
            for (sum, added) in self.custom[to].iter_mut().zip(moved) {
                *sum = sum.wrapping_add(added);
            }
        }
    }

    /// Empty sums of `len` series.
    pub(crate) fn zero(len: usize) -> Sums {
        Sums {
            series: vec![SeriesSums::ZERO; len],
            custom: Vec::new(),
        }
    }

    /// Sets series `series`' sums (a view's: custom counters are the export's only).
    pub(crate) fn set(&mut self, series: usize, sums: SeriesSums) {
        if let Some(slot) = self.series.get_mut(series) {
            *slot = sums;
        }
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

/// Where the pass over the cells puts each series' shares by thread.
trait ShareSink {
    /// Before the shares of the chunk of series from `first`, which `threads` shards have.
    fn chunk(&mut self, first: usize, threads: usize);
    /// Series `series`' share on one thread; a series' shares come in shard order.
    fn share(&mut self, series: usize, share: ThreadShare);
}

/// Every share kept, by series id.
impl ShareSink for Vec<Vec<ThreadShare>> {
    #[inline(always)]
    fn chunk(&mut self, first: usize, threads: usize) {
        // A series of the chunk has at most a share on each shard that has its chunk:
        // room for them at once rather than by doubling. Only threads that ran some
        // series of the chunk have it, so a list takes no more room than the cells it is
        // read from.
        for shares in self[first..].iter_mut().take(CHUNK) {
            shares.reserve_exact(threads);
        }
    }

    #[inline(always)]
    fn share(&mut self, series: usize, share: ThreadShare) {
        self[series].push(share);
    }
}

/// An export's: the shares of the series `kept` marks, the sums of the others'.
struct ForExport<'a> {
    shares: &'a mut ExportShares,
    kept: &'a [bool],
}

impl ForExport<'_> {
    #[inline(always)]
    fn keeps(&self, series: usize) -> bool {
        self.kept.get(series).copied().unwrap_or(true)
    }
}

impl ShareSink for ForExport<'_> {
    #[inline(always)]
    fn chunk(&mut self, first: usize, threads: usize) {
        for series in first..(first + CHUNK).min(self.shares.kept.len()) {
            if self.keeps(series) {
                self.shares.kept[series].reserve_exact(threads);
            }
        }
    }

    #[inline(always)]
    fn share(&mut self, series: usize, share: ThreadShare) {
        if self.keeps(series) {
            self.shares.kept[series].push(share);
        } else {
            self.shares.sums[series].add(share.rows_out, share.busy_ticks);
        }
    }
}

/// The pass over the cells: the sums of series `0..series_count`, and each series'
/// share on each thread that ran it put in `sink`.
#[inline(always)]
fn read_cells(series_count: usize, sink: &mut impl ShareSink) -> Vec<SeriesSums> {
    let mut series = vec![SeriesSums::ZERO; series_count];
    for_each_chunk(series_count, |first, group| {
        sink.chunk(first, group.len());
        // Each cell line is loaded once, for the sums and the share together; the next
        // shard's cells of the same series are fetched meanwhile.
        for (at, &(thread, chunk)) in group.iter().enumerate() {
            let next = group.get(at + 1).map_or(&[][..], |&(_, next)| next);
            for (offset, (sums, cells)) in series[first..].iter_mut().zip(chunk).enumerate() {
                if let Some(ahead) = next.get(offset) {
                    prefetch(ahead);
                }
                if let Some(found) = sums.add_cells(cells, thread) {
                    sink.share(first + offset, found);
                }
            }
        }
    });
    series
}

/// The custom counters of series `0..series_count`, by series id; empty when no thread
/// ever counted one.
fn read_custom(series_count: usize) -> Vec<[u64; MAX_CUSTOM_COUNTERS]> {
    let mut custom: Vec<[u64; MAX_CUSTOM_COUNTERS]> = Vec::new();
    shards::for_each_shard(|shard| {
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
    custom
}

/// What an export reads of each series' shares by thread
/// ([`Sums::read_for_export`]), by series id.
#[derive(Debug, Default)]
pub(crate) struct ExportShares {
    /// The shares summed, for the series that keep none.
    pub(crate) sums: Vec<ShareSums>,
    /// The shares, for the series that keep them (empty for the others).
    pub(crate) kept: Vec<Vec<ThreadShare>>,
}

/// Shares — of a series' threads or partitions — as a skew score needs them: how many,
/// and the sums of their rows out and busy ticks and of the squares of each. Each value
/// converts to an `f64` as a share's does when scored, and adds in the same order (shard
/// order), so that the score is the one its shares give.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ShareSums {
    /// How many shares.
    pub(crate) count: usize,
    /// (sum, sum of squares) of rows out.
    pub(crate) rows: (f64, f64),
    /// (sum, sum of squares) of busy ticks.
    pub(crate) busy: (f64, f64),
}

impl ShareSums {
    /// The sums of shares given as (rows out, busy ticks), in their order.
    pub(crate) fn of(shares: impl IntoIterator<Item = (u64, u64)>) -> ShareSums {
        let mut sums = ShareSums::default();
        for (rows_out, busy_ticks) in shares {
            sums.add(rows_out, busy_ticks);
        }
        sums
    }

    fn add(&mut self, rows_out: u64, busy_ticks: u64) {
        let add = |(total, squares): (f64, f64), value: u64| {
            let value = value as f64;
            (total + value, squares + value * value)
        };
        self.count += 1;
        self.rows = add(self.rows, rows_out);
        self.busy = add(self.busy, busy_ticks);
    }
}

/// Asks for `cells` in the cache ahead of their use, without waiting for them.
///
/// A read goes over each shard's cells of a chunk of series (64 series, 8 KB) in turn: the
/// processor's own prefetcher follows each 8 KB run only once it has seen it start, and a
/// read at 10,000 series × 64 threads waits on memory for most of its time.
#[inline(always)]
fn prefetch<T>(cells: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let at = (cells as *const T).cast::<i8>();
        // Every line of the value: a series' cells are two.
        for line in (0..std::mem::size_of::<T>()).step_by(64) {
            // SAFETY: SSE is part of every x86-64 processor; a prefetch reads nothing and
            // faults on no address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(line)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = cells;
}

/// What one thread (one shard) counted for a series: its share, for skew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ThreadShare {
    /// The shard's index: the thread that has it now, or had it last, is named at this
    /// index of `shards::thread_names` (a number here, not the name: a read of 10,000
    /// series on 64 threads makes 640,000 shares, most of which only feed a skew score).
    pub(crate) thread: u32,
    pub(crate) rows_out: u64,
    pub(crate) busy_ticks: u64,
}

/// Calls `visit(first series, group)` for every chunk of series below `series_count`
/// that some shard allocated, with `group` the shards that have it: (shard index, cells).
/// A chunk of series at a time over every shard: what the visit adds to for those
/// series stays in the cache while every shard's cells of them go by (shard after
/// shard over all series, each series' entry left the cache between two shards).
fn for_each_chunk(series_count: usize, mut visit: impl FnMut(usize, &[(u32, &[Cells])])) {
    // Each shard's index and its chunks (first series, cells).
    type ShardChunks<'a> = (u32, Vec<(usize, &'a [Cells])>);
    let mut shards_chunks: Vec<ShardChunks> = Vec::new();
    shards::for_each_shard(|shard| {
        let chunks: Vec<(usize, &[Cells])> = shard.cell_chunks(series_count).collect();
        if !chunks.is_empty() {
            shards_chunks.push((shard.index(), chunks));
        }
    });
    let mut next = vec![0; shards_chunks.len()];
    let mut group: Vec<(u32, &[Cells])> = Vec::with_capacity(shards_chunks.len());
    for chunk_first in (0..series_count).step_by(CHUNK) {
        group.clear();
        for ((thread, chunks), next) in shards_chunks.iter().zip(&mut next) {
            match chunks.get(*next) {
                Some(&(first, cells)) if first == chunk_first => {
                    *next += 1;
                    group.push((*thread, cells));
                }
                // A chunk the shard never grew: its thread ran none of these series.
                _ => {}
            }
        }
        if !group.is_empty() {
            visit(chunk_first, &group);
        }
    }
}

/// The tallies of graph links `0..link_count`, summed over every shard, by link id.
pub(crate) fn read_links(link_count: usize) -> Vec<[u64; LinkTally::COUNT]> {
    let mut links = vec![[0u64; LinkTally::COUNT]; link_count];
    shards::for_each_shard(|shard| {
        for (first, chunk) in shard.link_chunks(link_count) {
            for (sums, cells) in links[first..].iter_mut().zip(chunk) {
                add_link_cells(sums, cells);
            }
        }
    });
    links
}

/// Adds one thread's `cells` of a link to its tallies.
pub(crate) fn add_link_cells(tallies: &mut [u64; LinkTally::COUNT], cells: &LinkCells) {
    for (index, tally) in tallies.iter_mut().enumerate() {
        *tally = tally.wrapping_add(cells.get_at(index));
    }
}
