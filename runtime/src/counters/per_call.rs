//! What a snapshot or a collection reads beyond the sums, in one pass over the shards:
//! each series' per-call distributions (summed over threads), its slowest segments (the
//! slowest of every thread's), and its rows out and busy ticks on each thread (for skew).
//!
//! Reads are incremental. Readers keep, between reads, what they took in so far: each
//! series' bucket counts and slowest segments over the (series, thread) blocks of details
//! as last read, and each block's non-zero counts as last read. A block is read again
//! only when its owner marked it changed (`counters::details`), and adds the difference.
//! So a read costs the blocks that changed since the previous read, not every pair of a
//! series and a thread that ever ran it: 10,000 series that ran on 64 threads are 640,000
//! blocks, and a collection after one thread ran them all reads 10,000.
//!
//! Reads take turns (one lock). Segments a thread listed but has not yet emptied into
//! its blocks count too, when the list was not emptied while the blocks were read; a
//! thread that keeps emptying its list through a few tries has its latest segments (at
//! most 31) left out of that read, never counted twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::counters::cells::{Cells, Tally};
use crate::counters::details::Details;
use crate::counters::histogram::{self, Buckets, TIME_BUCKETS};
use crate::counters::segment_list::Listed;
use crate::counters::shards::{self, Shard};
use crate::counters::slowest::{SlowSegment, SLOWEST_CALLS};

/// What one thread (one shard) counted for a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ThreadShare {
    /// The thread's name (of the thread that has the shard now, or had it last), shared
    /// by every series the thread ran.
    pub(crate) thread: Arc<str>,
    pub(crate) rows_out: u64,
    pub(crate) busy_ticks: u64,
}

/// One series, read.
#[derive(Debug, Clone, Default)]
pub(crate) struct PerCall {
    pub(crate) busy: Buckets,
    pub(crate) rows: Buckets,
    /// The slowest segments, slowest first.
    pub(crate) slowest: Vec<SlowSegment>,
    /// Per thread that ran the series.
    pub(crate) threads: Vec<ThreadShare>,
}

impl PerCall {
    /// Counts a segment not yet in its block's buckets.
    fn count(&mut self, segment: &Listed) {
        self.busy.add(segment.busy, 1);
        if let Some(rows) = segment.rows {
            self.rows.add(rows, 1);
        }
    }

    /// Adds the difference between a block's counts `now` and as last read (`before`), so
    /// that the series' counts stay the sum of its blocks as last read: the old counts
    /// come off, the new go on. Counts only grow, but for the moment a bucket carries past
    /// 32 bits (its carry counted, the bucket not yet back to 0) a block may read higher
    /// than it reads next: wrapping arithmetic follows it down too.
    fn add_difference(&mut self, now: &[(u16, u64)], before: &[(u16, u64)]) {
        let minus = before
            .iter()
            .map(|&(index, count)| (index, count.wrapping_neg()));
        for (index, added) in minus.chain(now.iter().copied()) {
            let index = usize::from(index);
            match index.checked_sub(TIME_BUCKETS) {
                None => self.busy.add(index, added),
                Some(rows) => self.rows.add(rows, added),
            }
        }
    }

    /// Merges a block's slowest segments into the series' (a block's entry read before is
    /// already there: blocks only replace their entries with slower ones).
    fn merge_slowest(&mut self, block: &[SlowSegment]) {
        for segment in block {
            if !self.slowest.contains(segment) {
                self.slowest.push(*segment);
            }
        }
        self.slowest
            .sort_by(|a, b| b.ticks.cmp(&a.ticks).then(a.ended.cmp(&b.ended)));
        self.slowest.truncate(SLOWEST_CALLS);
    }
}

/// What readers took in so far.
struct Taken {
    /// By series id: buckets and slowest over every block as last read (no threads).
    series: Vec<PerCall>,
    /// By block address: its non-zero counts as last read, in bucket order.
    last_read: HashMap<usize, Vec<(u16, u64)>>,
}

static TAKEN: Mutex<Option<Taken>> = Mutex::new(None);

impl Taken {
    /// What readers took in so far (`slot`: under the lock), with room for
    /// `series_count` series.
    fn of(slot: &mut Option<Taken>, series_count: usize) -> &mut Taken {
        let taken = slot.get_or_insert_with(|| Taken {
            series: Vec::new(),
            last_read: HashMap::new(),
        });
        if taken.series.len() < series_count {
            taken.series.resize_with(series_count, PerCall::default);
        }
        taken
    }

    /// Takes in the blocks of `shard` (series below `series_count`) that changed since
    /// they were last read.
    fn take_changed(
        &mut self,
        shard: &Shard,
        series_count: usize,
        carried: &histogram::Carried,
        scratch: &mut Scratch,
    ) {
        for (series, block) in shard.all_details(series_count) {
            self.take_block(series, block, carried, scratch);
        }
    }

    /// [`take_changed`](Self::take_changed) for the blocks of `ids` only.
    fn take_changed_of(
        &mut self,
        shard: &'static Shard,
        ids: &[u32],
        carried: &histogram::Carried,
        scratch: &mut Scratch,
    ) {
        for &series in ids {
            if let Some(block) = shard.details_if_any(series) {
                self.take_block(series as usize, block, carried, scratch);
            }
        }
    }

    /// Takes in `block` of `series` if it changed since it was last read. Its counts are
    /// taken in whole: each is a count its bucket had (all only grow), and an owner that
    /// changes the block meanwhile marks it changed again.
    fn take_block(
        &mut self,
        series: usize,
        block: &Details,
        carried: &histogram::Carried,
        scratch: &mut Scratch,
    ) {
        if !block.take_changed() {
            return;
        }
        scratch.counts.clear();
        scratch.slowest.clear();
        block.histogram.read_counts(&mut scratch.counts, carried);
        block.slowest.read_into(&mut scratch.slowest);
        let before = self
            .last_read
            .entry(std::ptr::from_ref(block) as usize)
            .or_default();
        let taken = &mut self.series[series];
        taken.add_difference(&scratch.counts, before);
        before.clone_from(&scratch.counts);
        taken.merge_slowest(&scratch.slowest);
    }
}

/// What one thread's `cells` of a series say of its share, if it ran the series
/// (`thread`: the thread's name, made only then).
fn thread_share(cells: &Cells, thread: impl FnOnce() -> Arc<str>) -> Option<ThreadShare> {
    let (rows_out, busy_ticks) = (cells.get(Tally::RowsOut), cells.get(Tally::BusyTicks));
    (cells.get(Tally::Started) > 0 || busy_ticks > 0 || rows_out > 0).then(|| ThreadShare {
        thread: thread(),
        rows_out,
        busy_ticks,
    })
}

/// Reads the series `ids` only (each below `series_count`), in their order: what a read
/// of every series would give them, at the cost of theirs.
pub(crate) fn read_some(ids: &[u32], series_count: usize) -> Vec<PerCall> {
    let mut taken = TAKEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let taken = Taken::of(&mut taken, series_count);
    let ids: Vec<u32> = ids
        .iter()
        .copied()
        .filter(|&series| (series as usize) < series_count)
        .collect();
    let at: HashMap<u32, usize> = ids.iter().enumerate().map(|(at, &id)| (id, at)).collect();
    let mut scratch = Scratch::default();
    let mut listed: Vec<Listed> = Vec::new();
    let mut threads: Vec<Vec<ThreadShare>> = vec![Vec::new(); ids.len()];
    histogram::with_carried(|carried| {
        shards::for_each_shard(|shard| {
            let read = shard.segment_list().read_with(|segments| {
                taken.take_changed_of(shard, &ids, carried, &mut scratch);
                segments
            });
            if let Ok(segments) = read {
                listed.extend(
                    segments
                        .into_iter()
                        .filter(|segment| at.contains_key(&segment.series)),
                );
            }
            let mut thread: Option<Arc<str>> = None;
            for (shares, &series) in threads.iter_mut().zip(&ids) {
                let share = shard.cells_if_grown(series).and_then(|cells| {
                    thread_share(cells, || {
                        thread
                            .get_or_insert_with(|| Arc::from(shard.thread_name()))
                            .clone()
                    })
                });
                shares.extend(share);
            }
        })
    });
    let mut read: Vec<PerCall> = ids
        .iter()
        .map(|&series| taken.series[series as usize].clone())
        .collect();
    for segment in &listed {
        read[at[&segment.series]].count(segment);
    }
    for (read, shares) in read.iter_mut().zip(threads) {
        read.threads = shares;
    }
    read
}

/// One block as read, reused for every block.
#[derive(Default)]
struct Scratch {
    counts: Vec<(u16, u64)>,
    slowest: Vec<SlowSegment>,
}

/// Reads series `0..series_count`.
pub(crate) fn read(series_count: usize) -> Vec<PerCall> {
    let mut taken = TAKEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let taken = Taken::of(&mut taken, series_count);
    let mut scratch = Scratch::default();
    // Segments listed and not yet in their buckets, and each series' shares by thread:
    // this read's only, never taken in.
    let mut listed: Vec<Listed> = Vec::new();
    let mut threads: Vec<Vec<ThreadShare>> = vec![Vec::new(); series_count];
    histogram::with_carried(|carried| {
        shards::for_each_shard(|shard| {
            // The listed segments count when no emptying of the list overlapped the
            // blocks' read: then each segment is in a block taken in or in the list.
            let read = shard.segment_list().read_with(|segments| {
                taken.take_changed(shard, series_count, carried, &mut scratch);
                segments
            });
            // When the owner kept emptying its list, the segments listed last are left
            // out of this read (at most `LISTED - 1`), and counted by the next.
            if let Ok(segments) = read {
                listed.extend(
                    segments
                        .into_iter()
                        .filter(|segment| (segment.series as usize) < series_count),
                );
            }
            let thread: Arc<str> = Arc::from(shard.thread_name());
            for (first, chunk) in shard.cell_chunks(series_count) {
                for (shares, cells) in threads[first..].iter_mut().zip(chunk) {
                    shares.extend(thread_share(cells, || thread.clone()));
                }
            }
        })
    });
    let mut series: Vec<PerCall> = taken.series[..series_count].to_vec();
    for segment in &listed {
        series[segment.series as usize].count(segment);
    }
    for (read, shares) in series.iter_mut().zip(threads) {
        read.threads = shares;
    }
    series
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_adds_what_it_counted_since_its_last_read() {
        let mut series = PerCall::default();
        let first = [(3, 2), (TIME_BUCKETS as u16 + 1, 5)];
        series.add_difference(&first, &[]);
        // Bucket 3 grew by 1, bucket 7 is new, the rows bucket is unchanged.
        let second = [(3, 3), (7, 4), (TIME_BUCKETS as u16 + 1, 5)];
        series.add_difference(&second, &first);
        assert_eq!((series.busy.get(3), series.busy.get(7)), (3, 4));
        assert_eq!(series.rows.0, [(1, 5)]);
        assert_eq!(histogram::count(&series.busy.0), 7);
        // A bucket read at the moment it carried past 32 bits, then back to 0 with its
        // carry: the series follows the block down, then up again.
        let carrying = [(3, 3 + (1 << 32)), (7, 4), (TIME_BUCKETS as u16 + 1, 5)];
        series.add_difference(&carrying, &second);
        series.add_difference(&[(7, 4), (TIME_BUCKETS as u16 + 1, 5)], &carrying);
        assert_eq!(series.busy.0, [(7, 4)]);
        series.add_difference(&second, &[(7, 4), (TIME_BUCKETS as u16 + 1, 5)]);
        assert_eq!(series.busy.0, [(3, 3), (7, 4)]);
    }

    #[test]
    fn slowest_merge_keeps_each_segment_once() {
        let at = |ticks: u64| SlowSegment {
            ticks,
            ended: ticks,
            trace_id: 0,
        };
        let mut series = PerCall::default();
        series.merge_slowest(&[at(5), at(1)]);
        series.merge_slowest(&[at(5), at(9), at(2), at(3), at(4), at(8)]);
        let kept: Vec<u64> = series.slowest.iter().map(|s| s.ticks).collect();
        assert_eq!(kept, [9, 8, 5, 4, 3]);
    }
}
