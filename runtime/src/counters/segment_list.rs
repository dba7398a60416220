//! A thread's list of its latest segments — (series, busy ticks' bucket, rows' bucket,
//! bytes allocated's bucket) — on their way to the series' buckets
//! (`counters::histogram`), a few dozen at a time.
//!
//! A segment adds one word to its thread's own list, whose place the thread already
//! holds: no lookup of the series' block per call, no atomic add to a block other
//! threads share, and no store to an address computed from the clock (the next call's
//! load of the same bucket would wait for it). The buckets are found when listing (a
//! conversion to `f64`, no branch) so that the segment fits one store. A full list goes
//! to the buckets in one go, and marks each block it changed: a list of one series (the
//! common case) adds each distinct bucket once, with its count (`counters::distinct`); a
//! mixed list adds its segments one by one. Readers count the listed segments too, when
//! the sequence number the owner bumps around each emptying reads the same before they
//! read the buckets and after they read the list: then each segment is in one of the two.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering, Ordering::Relaxed};

use crate::counters::cells::Zeroed;
use crate::counters::details::Details;
use crate::counters::distinct;
use crate::counters::histogram::{
    self, ALLOCATED_BUCKETS, LAST_BUCKET, NOT_COUNTED, NO_ROWS, ROW_BUCKETS, TIME_BUCKETS,
};

/// Segments listed before they go to their buckets.
pub(crate) const LISTED: usize = distinct::WIDTH;

// A listed segment is one word: the series (32 bits), its busy ticks' bucket (8), its
// rows' bucket (8, or `NOTHING`) and its bytes allocated's bucket (8, or `NOTHING`), so
// that listing is one store. The buckets are `any_bucket`'s, capped to the histogram's
// only when the list is emptied: capping costs a compare and a move, and the emptying
// runs once every `LISTED` segments.
const _: () = assert!(LAST_BUCKET < NOTHING as usize);

/// The rows bucket listed for a segment that handed nothing out, and the bytes
/// allocated bucket of one whose bytes were not counted.
const NOTHING: u64 = u8::MAX as u64;

/// One thread's list.
#[derive(Debug)]
pub(crate) struct SegmentList {
    /// Packed segments (`pack`).
    entries: [AtomicU64; LISTED],
    listed: AtomicU32,
    /// Odd while the owner empties the list.
    sequence: AtomicU32,
}

impl Zeroed for SegmentList {
    const ZERO: Self = SegmentList {
        entries: [const { AtomicU64::new(0) }; LISTED],
        listed: AtomicU32::new(0),
        sequence: AtomicU32::new(0),
    };
}

/// Whether listing a segment filled the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Listing {
    /// The list has room for more.
    Room,
    /// The list is full: empty it.
    Full,
}

/// A segment as listed.
pub(crate) struct Listed {
    pub(crate) series: u32,
    /// The bucket of its busy ticks.
    pub(crate) busy: usize,
    /// The bucket of the rows it handed out (`None`: nothing).
    pub(crate) rows: Option<usize>,
    /// The bucket of the bytes it allocated (`None`: not counted).
    pub(crate) allocated: Option<usize>,
}

#[inline(always)]
fn pack(series: u32, busy: u64, rows: Option<u64>, allocated: Option<u64>) -> u64 {
    let busy = histogram::any_bucket(busy) as u64;
    let rows = rows.map_or(NOTHING, |rows| histogram::any_bucket(rows) as u64);
    // Without the `alloc` feature no bucket is read back: nothing to store.
    let allocated = if ALLOCATED_BUCKETS == 0 {
        0
    } else {
        allocated.map_or(NOTHING, |bytes| histogram::any_bucket(bytes) as u64)
    };
    u64::from(series) | busy << 32 | rows << 40 | allocated << 48
}

/// A listed segment's cells: its busy bucket, rows bucket ([`NO_ROWS`]: it handed
/// nothing out) and bytes allocated bucket ([`NOT_COUNTED`]), capped to the histogram's.
#[inline(always)]
fn buckets(entry: u64) -> (usize, usize, usize) {
    let (busy, rows) = ((entry >> 32) as u8, (entry >> 40) as u8);
    (
        usize::from(busy).min(TIME_BUCKETS - 1),
        rows_cell(rows),
        allocated_cell((entry >> 48) as u8),
    )
}

/// The bytes allocated cell of listed bucket `allocated`.
#[inline(always)]
fn allocated_cell(allocated: u8) -> usize {
    if u64::from(allocated) == NOTHING || ALLOCATED_BUCKETS == 0 {
        NOT_COUNTED
    } else {
        usize::from(allocated).min(ALLOCATED_BUCKETS - 1)
    }
}

/// The rows cell of listed rows bucket `rows`.
#[inline(always)]
fn rows_cell(rows: u8) -> usize {
    if u64::from(rows) == NOTHING {
        NO_ROWS
    } else {
        usize::from(rows).min(ROW_BUCKETS - 1)
    }
}

fn unpack(entry: u64) -> Listed {
    let (busy, rows, allocated) = buckets(entry);
    Listed {
        series: entry as u32,
        busy,
        rows: (rows != NO_ROWS).then_some(rows),
        allocated: (allocated != NOT_COUNTED).then_some(allocated),
    }
}

impl SegmentList {
    /// Lists a segment of `series` that took `busy` ticks, handed out `rows` rows
    /// (`None`: nothing) and allocated `allocated` bytes (`None`: not counted); a full
    /// list goes to the buckets of each segment's series through `details`. Only the
    /// owning thread may call this.
    #[inline(always)]
    pub(crate) fn add(
        &self,
        series: u32,
        busy: u64,
        rows: Option<u64>,
        allocated: Option<u64>,
        details: impl Fn(u32) -> &'static Details,
    ) {
        if self.put(series, busy, rows, allocated) == Listing::Full {
            self.empty(details);
        }
    }

    /// Lists a segment as [`add`](Self::add) does, but leaves a list it fills for the
    /// caller to [`empty`](Self::empty), last: in tail position, the call costs the
    /// common case nothing. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn put(
        &self,
        series: u32,
        busy: u64,
        rows: Option<u64>,
        allocated: Option<u64>,
    ) -> Listing {
        // `listed` is below `LISTED` but between the segment that fills the list and its
        // emptying, which follows at once: `% LISTED` changes nothing, and spares a
        // bounds check.
        let listed = self.listed.load(Relaxed) as usize % LISTED;
        self.entries[listed].store(pack(series, busy, rows, allocated), Relaxed);
        self.listed.store(listed as u32 + 1, Relaxed);
        if listed + 1 == LISTED {
            Listing::Full
        } else {
            Listing::Room
        }
    }

    /// Counts a full list's segments in their series' buckets (through `details_of`) and
    /// starts the list anew. Only the owning thread may call this.
    #[cold]
    #[inline(never)]
    pub(crate) fn empty(&self, details_of: impl Fn(u32) -> &'static Details) {
        let sequence = self.sequence.load(Relaxed);
        self.sequence.store(sequence.wrapping_add(1), Relaxed);
        fence(Ordering::Release);
        // SAFETY: `AtomicU64` has `u64`'s layout, and only this thread writes the list:
        // plain reads race with no write.
        let entries: &[u64; LISTED] = unsafe { &*self.entries.as_ptr().cast::<[u64; LISTED]>() };
        let series = entries[0] as u32;
        // A list mostly holds segments of one series (a loop calling one operator).
        let mixed = entries
            .iter()
            .fold(0, |mixed, &entry| mixed | (entry as u32 ^ series));
        if mixed == 0 {
            count_one_series(details_of(series), entries);
        } else {
            count_each(entries, details_of);
        }
        self.listed.store(0, Relaxed);
        self.sequence
            .store(sequence.wrapping_add(2), Ordering::Release);
    }

    fn iter(&self, count: usize) -> impl Iterator<Item = Listed> + '_ {
        self.entries[..count]
            .iter()
            .map(|entry| unpack(entry.load(Relaxed)))
    }

    /// A mark of the emptyings so far (odd while one runs): a reader takes it before it
    /// reads the buckets, and [`listed_since`](Self::listed_since) then tells it whether
    /// the list moved into them meanwhile.
    pub(crate) fn emptying_mark(&self) -> u32 {
        self.sequence.load(Ordering::Acquire)
    }

    /// The segments listed now, if no emptying ran since `mark` was taken (then none of
    /// them is in the buckets, and none of those in the buckets was listed after the
    /// mark); `None` otherwise.
    pub(crate) fn listed_since(&self, mark: u32) -> Option<Vec<Listed>> {
        if !mark.is_multiple_of(2) {
            return None;
        }
        // `LISTED` between the segment that fills the list and its emptying.
        let listed = (self.listed.load(Relaxed) as usize).min(LISTED);
        let segments: Vec<Listed> = self.iter(listed).collect();
        fence(Ordering::Acquire);
        (self.sequence.load(Relaxed) == mark).then_some(segments)
    }
}

/// Counts a list of one series' segments: each distinct bucket once, with how many
/// segments fell in it.
#[inline(always)]
fn count_one_series(details: &Details, entries: &[u64; LISTED]) {
    distinct::each_distinct(&distinct::bytes_at(entries, 32), |bucket, count| {
        details
            .histogram
            .add_busy(usize::from(bucket).min(TIME_BUCKETS - 1), count);
    });
    distinct::each_distinct(&distinct::bytes_at(entries, 40), |bucket, count| {
        details.histogram.add_rows(rows_cell(bucket), count);
    });
    if ALLOCATED_BUCKETS != 0 {
        distinct::each_distinct(&distinct::bytes_at(entries, 48), |bucket, count| {
            details
                .histogram
                .add_allocated(allocated_cell(bucket), count);
        });
    }
    details.mark_changed();
}

/// Counts a list of several series' segments one by one, looking each run's block up
/// once.
fn count_each(entries: &[u64; LISTED], details_of: impl Fn(u32) -> &'static Details) {
    let mut series = entries[0] as u32;
    let mut details = details_of(series);
    for &entry in entries {
        if entry as u32 != series {
            details.mark_changed();
            series = entry as u32;
            details = details_of(series);
        }
        let (busy, rows, allocated) = buckets(entry);
        details.histogram.add_busy(busy, 1);
        details.histogram.add_rows(rows, 1);
        // Without the `alloc` feature there is nothing to count (a constant: no code).
        if ALLOCATED_BUCKETS != 0 {
            details.histogram.add_allocated(allocated, 1);
        }
    }
    details.mark_changed();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::cells::Zeroed;

    /// The non-zero bucket counts of a details block.
    fn counts_of(details: &Details) -> Vec<(u16, u64)> {
        let mut counts = Vec::new();
        histogram::with_carried(|carried| details.histogram.read_counts(&mut counts, carried));
        counts
    }

    /// The bucket counts `segments` (series, busy ticks, rows, bytes allocated) make,
    /// as [`counts_of`] reads them.
    fn expected_counts<'a>(
        segments: impl Iterator<Item = &'a (u32, u64, Option<u64>, Option<u64>)>,
    ) -> Vec<(u16, u64)> {
        let mut expected: Vec<(u16, u64)> = Vec::new();
        let mut count = |index: usize| match expected.iter_mut().find(|(i, _)| *i as usize == index)
        {
            Some((_, n)) => *n += 1,
            None => expected.push((index as u16, 1)),
        };
        for &(_, busy, rows, allocated) in segments {
            count(histogram::bucket(busy, TIME_BUCKETS));
            if let Some(rows) = rows {
                count(TIME_BUCKETS + histogram::bucket(rows, ROW_BUCKETS));
            }
            if let Some(bytes) = allocated.filter(|_| ALLOCATED_BUCKETS != 0) {
                count(histogram::ALLOCATED_FIRST + histogram::bucket(bytes, ALLOCATED_BUCKETS));
            }
        }
        expected.sort_unstable();
        expected
    }

    #[test]
    fn a_full_list_counts_each_segment_in_its_series_buckets() {
        let list: &'static SegmentList = Box::leak(Box::new(SegmentList::ZERO));
        let blocks: &'static [Details; 2] = Box::leak(Box::new([Details::ZERO, Details::ZERO]));
        let details = |series: u32| &blocks[series as usize];
        // Two lists of runs of one series, equal segments in a row, buckets alternating,
        // no rows; then a list of one series, counted by distinct buckets, with values
        // past the last buckets.
        let mixed = (0..LISTED as u64 * 2).map(|n| {
            (
                (n / 20 % 2) as u32,
                100 + (n / 3 % 2) * 1_000,
                (n % 5 != 0).then_some(8),
                (n % 3 != 0).then_some(n * 100),
            )
        });
        let one_series = (0..LISTED as u64).map(|n| {
            let busy = [7, 100, 1_000, u64::MAX][n as usize % 4];
            let rows = [Some(8), None, Some(1 << 40), Some(8_192), Some(0)][n as usize % 5];
            let allocated = [Some(64), None, Some(u64::MAX), Some(0)][n as usize % 4];
            (1, busy, rows, allocated)
        });
        let segments: Vec<(u32, u64, Option<u64>, Option<u64>)> = mixed.chain(one_series).collect();
        for &(series, busy, rows, allocated) in &segments {
            list.add(series, busy, rows, allocated, details);
        }
        for (series, block) in blocks.iter().enumerate() {
            let own = segments.iter().filter(|s| s.0 as usize == series);
            assert_eq!(counts_of(block), expected_counts(own), "series {series}");
        }
    }

    /// Lists of segments of 1 to 40 series in turn (a list then of one series, counted
    /// by distinct buckets, or mixed, counted segment by segment), each series' segments
    /// in a few buckets: each series' block counts exactly its segments.
    #[test]
    fn lists_of_one_or_many_series_count_each_segment_once() {
        for series_count in [1u32, 2, 3, 5, 16, 17, 32, 40] {
            let blocks: &'static [Details] =
                Box::leak((0..series_count).map(|_| Details::ZERO).collect());
            let list: &'static SegmentList = Box::leak(Box::new(SegmentList::ZERO));
            let segments: Vec<(u32, u64, Option<u64>, Option<u64>)> = (0..LISTED as u64 * 5)
                .map(|n| {
                    let series = (n % u64::from(series_count)) as u32;
                    let busy = [100, 100, 5_000, 100, 70][(n / 7 % 5) as usize];
                    let rows = (n % 11 != 3).then_some(8_192 + (n / 13 % 2) * 100_000);
                    let allocated = (n % 4 != 0).then_some(64 << (n % 3));
                    (series, busy, rows, allocated)
                })
                .collect();
            for &(series, busy, rows, allocated) in &segments {
                list.add(series, busy, rows, allocated, |series| {
                    &blocks[series as usize]
                });
            }
            for (series, block) in blocks.iter().enumerate() {
                let own = segments.iter().filter(|s| s.0 as usize == series);
                assert_eq!(
                    counts_of(block),
                    expected_counts(own),
                    "series {series} of {series_count}"
                );
            }
        }
    }

    #[test]
    fn a_list_filled_by_put_reads_whole_until_its_owner_empties_it() {
        let list: &'static SegmentList = Box::leak(Box::new(SegmentList::ZERO));
        let block: &'static Details = Box::leak(Box::new(Details::ZERO));
        let listed = |list: &SegmentList| {
            list.listed_since(list.emptying_mark())
                .map(|segments| segments.len())
        };
        for n in 1..LISTED {
            assert_eq!(list.put(3, 100, Some(n as u64), None), Listing::Room);
            assert_eq!(listed(list), Some(n));
        }
        assert_eq!(list.put(3, 100, Some(1), None), Listing::Full);
        // Between the segment that fills the list and the emptying, a reader sees all.
        assert_eq!(listed(list), Some(LISTED));
        assert!(
            counts_of(block).is_empty(),
            "nothing counted before the emptying"
        );
        assert!(!block.take_changed(), "nor the block marked");
        list.empty(|_| block);
        assert_eq!(listed(list), Some(0));
        let counts = counts_of(block);
        let busy = histogram::bucket(100, TIME_BUCKETS) as u16;
        assert!(counts.contains(&(busy, LISTED as u64)), "{counts:?}");
        assert_eq!(
            counts.iter().map(|&(_, count)| count).sum::<u64>(),
            2 * LISTED as u64,
            "each segment's busy and rows buckets"
        );
        assert_eq!(
            list.put(3, 100, None, None),
            Listing::Room,
            "the list starts anew"
        );
    }

    #[test]
    fn a_listed_segment_is_one_word_that_keeps_its_series_and_buckets() {
        for (series, busy, rows, allocated) in [
            (0, 0, None, None),
            (7, 1_000, Some(0), Some(0)),
            (u32::MAX - 1, u64::MAX, Some(u64::MAX), Some(u64::MAX)),
            (42, 1 << 20, Some(8_192), Some(3 << 20)),
        ] {
            let listed = unpack(pack(series, busy, rows, allocated));
            assert_eq!(listed.series, series);
            assert_eq!(listed.busy, histogram::bucket(busy, TIME_BUCKETS));
            assert_eq!(
                listed.rows,
                rows.map(|rows| histogram::bucket(rows, ROW_BUCKETS))
            );
            // Without the `alloc` feature there are no buckets to count bytes in.
            let counted = allocated.filter(|_| ALLOCATED_BUCKETS != 0);
            assert_eq!(
                listed.allocated,
                counted.map(|bytes| histogram::bucket(bytes, ALLOCATED_BUCKETS))
            );
        }
    }
}
