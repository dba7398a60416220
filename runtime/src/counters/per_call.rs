//! What a snapshot or a collection reads beyond the sums: each series' per-call
//! distributions and slowest segments (its block, shared by the threads that run it:
//! `counters::details`).
//!
//! Reads are incremental: readers keep each series' block as last read, and read a block
//! again only when a writer marked it changed since. So a read costs the series that ran
//! since the previous read, whatever the number of threads that ran them.
//!
//! Reads take turns (one lock). Each thread's list of segments not yet emptied into the
//! blocks counts too: every thread's emptying mark is taken, the blocks read, then the
//! lists; when a thread emptied its list in between (its segments then in neither), the
//! read is made again, [`READ_TRIES`] times at most, yielding between tries. After that,
//! a list that moved is left out of the read (at most `LISTED` segments a thread),
//! counted by the next; a segment is never counted twice. So a read made once the
//! series' calls have ended — a run's view — misses a segment only when some thread
//! emptied its list during each of the reads.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use crate::counters::details::{self, Details};
use crate::counters::histogram::{self, Buckets, ALLOCATED_FIRST, TIME_BUCKETS};
use crate::counters::segment_list::Listed;
use crate::counters::shards::{self, Shard};
use crate::counters::slowest::{self, SlowSegment};
use crate::counters::sums::ThreadShare;

/// One series' per-call counts, as read: its histograms and its slowest segments.
#[derive(Debug, Clone, Default)]
pub(crate) struct PerCallCounts {
    pub(crate) busy: Buckets,
    pub(crate) rows: Buckets,
    /// Bytes allocated per segment (tracking allocator; empty without the `alloc`
    /// feature).
    pub(crate) allocated: Buckets,
    /// The slowest segments, slowest first.
    pub(crate) slowest: Vec<SlowSegment>,
}

impl PerCallCounts {
    /// Its three histograms: busy, rows, bytes allocated.
    pub(crate) fn histograms(&self) -> [&Buckets; 3] {
        [&self.busy, &self.rows, &self.allocated]
    }

    /// [`histograms`](Self::histograms), to change.
    pub(crate) fn histograms_mut(&mut self) -> [&mut Buckets; 3] {
        [&mut self.busy, &mut self.rows, &mut self.allocated]
    }
}

/// One series, read: its per-call counts (read through `Deref`) and its shares by thread.
///
/// The counts are shared between the readers' record of what they took in and every
/// read handed out, so that a read copies no series' buckets (a copy is three
/// allocations a series, freed after the read: 30,000 at 10,000 series). A change —
/// a block taken in again, a listed segment counted, lanes folded — copies one series'
/// counts only while a read still holds them ([`Arc::make_mut`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct PerCall {
    counts: Arc<PerCallCounts>,
    /// Per thread that ran the series: not read here (`sums` reads them with the
    /// counters, from the same cells), filled by the reader that wants them.
    pub(crate) threads: Vec<ThreadShare>,
}

impl Deref for PerCall {
    type Target = PerCallCounts;

    fn deref(&self) -> &PerCallCounts {
        &self.counts
    }
}

impl PerCall {
    /// The counts, to change (copied first if a read holds them).
    pub(crate) fn counts_mut(&mut self) -> &mut PerCallCounts {
        Arc::make_mut(&mut self.counts)
    }

    /// Counts a segment not yet in its series' buckets.
    fn count(&mut self, segment: &Listed) {
        let counts = self.counts_mut();
        counts.busy.add(segment.busy, 1);
        if let Some(rows) = segment.rows {
            counts.rows.add(rows, 1);
        }
        if let Some(allocated) = segment.allocated {
            counts.allocated.add(allocated, 1);
        }
    }

    /// Takes in `block` if it changed since it was last read (its counts whole: each is a
    /// count its bucket had, all only grow, and a writer that changes the block meanwhile
    /// marks it changed again).
    fn take_block(
        &mut self,
        block: &Details,
        carried: &histogram::Carried,
        counts: &mut Vec<(u16, u64)>,
    ) {
        if !block.take_changed() {
            return;
        }
        let taken = self.counts_mut();
        counts.clear();
        block.histogram.read_counts(counts, carried);
        let rows_at = counts.partition_point(|&(index, _)| usize::from(index) < TIME_BUCKETS);
        let allocated_at =
            counts.partition_point(|&(index, _)| usize::from(index) < ALLOCATED_FIRST);
        // Each histogram's counts, numbered from its first bucket, in the room its
        // previous counts took (a series' counts change little between reads).
        let refill = |buckets: &mut Buckets, counts: &[(u16, u64)], first: usize| {
            buckets.0.clear();
            buckets.0.extend(
                counts
                    .iter()
                    .map(|&(index, count)| (u32::from(index) - first as u32, count)),
            );
        };
        refill(&mut taken.busy, &counts[..rows_at], 0);
        refill(
            &mut taken.rows,
            &counts[rows_at..allocated_at],
            TIME_BUCKETS,
        );
        refill(
            &mut taken.allocated,
            &counts[allocated_at..],
            ALLOCATED_FIRST,
        );
        taken.slowest.clear();
        block.slowest.read_into(&mut taken.slowest);
        slowest::slowest_first(&mut taken.slowest);
    }
}

/// What readers took in so far: by series id, buckets and slowest as last read (no
/// threads).
static TAKEN: Mutex<Vec<PerCall>> = Mutex::new(Vec::new());

/// What readers took in so far (`taken`: under the lock), with room for `series_count`
/// series.
fn taken_of(taken: &mut Vec<PerCall>, series_count: usize) -> &mut Vec<PerCall> {
    if taken.len() < series_count {
        taken.resize_with(series_count, PerCall::default);
    }
    taken
}

/// How many times a read is made again because a thread emptied its list while it read.
/// The reader yields its core between tries, so that on a loaded machine a thread that
/// empties its list often (a loop calling one operator) does not make every try of a
/// reader preempted mid-read fail — each failed try can leave segments out of a run's
/// view.
const READ_TRIES: u32 = 64;

/// Runs `take_blocks` (which takes in blocks), then reads every thread's listed segments,
/// again while a thread emptied its list in between (see the module docs); the segments
/// of the lists that did not move.
fn take_with_listed(mut take_blocks: impl FnMut()) -> Vec<Listed> {
    let mut shards: Vec<&'static Shard> = Vec::new();
    shards::for_each_shard(|shard| shards.push(shard));
    let mut tries = 0;
    loop {
        tries += 1;
        let marks: Vec<u32> = shards
            .iter()
            .map(|shard| shard.segment_list().emptying_mark())
            .collect();
        take_blocks();
        let lists: Vec<Option<Vec<Listed>>> = shards
            .iter()
            .zip(marks)
            .map(|(shard, mark)| shard.segment_list().listed_since(mark))
            .collect();
        if tries == READ_TRIES || lists.iter().all(Option::is_some) {
            return lists.into_iter().flatten().flatten().collect();
        }
        std::thread::yield_now();
    }
}

/// Reads the series `ids` only (each below `series_count`), in their order: what a read
/// of every series would give them, at the cost of theirs.
pub(crate) fn read_some(ids: &[u32], series_count: usize) -> Vec<PerCall> {
    let mut taken = TAKEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let taken = taken_of(&mut taken, series_count);
    let ids: Vec<u32> = ids
        .iter()
        .copied()
        .filter(|&series| (series as usize) < series_count)
        .collect();
    // One block's non-zero counts as read, reused for every block.
    let mut counts = Vec::new();
    let listed = take_with_listed(|| {
        histogram::with_carried(|carried| {
            for &series in &ids {
                if let Some(block) = details::if_any(series) {
                    taken[series as usize].take_block(block, carried, &mut counts);
                }
            }
        });
    });
    let at: HashMap<u32, usize> = ids.iter().enumerate().map(|(at, &id)| (id, at)).collect();
    let mut read: Vec<PerCall> = ids
        .iter()
        .map(|&series| taken[series as usize].clone())
        .collect();
    for segment in &listed {
        if let Some(&at) = at.get(&segment.series) {
            read[at].count(segment);
        }
    }
    read
}

/// Reads series `0..series_count`.
pub(crate) fn read(series_count: usize) -> Vec<PerCall> {
    let mut taken = TAKEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let taken = taken_of(&mut taken, series_count);
    // One block's non-zero counts as read, reused for every block.
    let mut counts = Vec::new();
    let listed = take_with_listed(|| {
        histogram::with_carried(|carried| {
            for (series, block) in details::all(series_count) {
                taken[series].take_block(block, carried, &mut counts);
            }
        });
    });
    let mut series: Vec<PerCall> = taken[..series_count].to_vec();
    for segment in &listed {
        if let Some(read) = series.get_mut(segment.series as usize) {
            read.count(segment);
        }
    }
    series
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::cells::Zeroed;
    use crate::counters::histogram::NO_ROWS;

    #[test]
    fn a_block_is_read_again_only_after_it_changed() {
        let block: &'static Details = Box::leak(Box::new(Details::ZERO));
        let (mut taken, mut counts) = (PerCall::default(), Vec::new());
        let mut take = |taken: &mut PerCall| {
            histogram::with_carried(|carried| taken.take_block(block, carried, &mut counts));
        };
        block.histogram.add_busy(3, 2);
        block.histogram.add_rows(1, 5);
        block.histogram.add_rows(NO_ROWS, 7);
        take(&mut taken);
        assert!(taken.busy.0.is_empty(), "not marked changed: not read");
        block.mark_changed();
        take(&mut taken);
        assert_eq!(
            (taken.busy.0.as_slice(), taken.rows.0.as_slice()),
            (&[(3, 2)][..], &[(1, 5)][..])
        );
        block.histogram.add_busy(9, 1);
        block.record_slow(50, 7, || 1);
        block.record_slow(90, 8, || 2);
        take(&mut taken);
        assert_eq!(taken.busy.0, [(3, 2), (9, 1)]);
        let slowest: Vec<(u64, u128)> = taken
            .slowest
            .iter()
            .map(|s| (s.ticks, s.trace_id))
            .collect();
        assert_eq!(slowest, [(90, 2), (50, 1)], "slowest first");
    }

    #[test]
    fn a_list_emptied_while_the_blocks_are_read_is_read_again() {
        use crate::counters::segment_list::Listing;
        let shard = crate::counters::thread_state::this_thread().shard();
        let series = crate::counters::registry::resolve("per_call_test", "moved");
        let list_once = || loop {
            if shard.put_segment(series, 100, Some(1), None) == Listing::Full {
                shard.empty_list();
                break;
            }
        };
        let mut tries = 0;
        take_with_listed(|| {
            tries += 1;
            if tries == 1 {
                // This thread empties its list between the marks and the lists' read.
                list_once();
            }
        });
        // Other tests' threads may empty theirs too: at least once more.
        assert!(tries >= 2, "read once only");
    }
}
