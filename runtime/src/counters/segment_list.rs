//! A thread's list of its latest segments — (series, busy ticks, rows) — on their way to
//! the series' buckets (`counters::histogram`), a few dozen at a time.
//!
//! A segment adds three stores to its thread's own list, whose place the thread already
//! holds: no lookup of the series' block per call, and no store to an address computed
//! from the clock (a bucket store was: the next call's load of the same bucket raced it
//! and cost +17 ns a call). A full list goes to the buckets in one go, and marks each
//! block it changed. Readers count the listed segments too, between two equal readings of
//! a sequence number the owner bumps around each emptying.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering, Ordering::Relaxed};

use crate::counters::cells::Zeroed;
use crate::counters::details::Details;

/// Segments listed before they go to their buckets.
pub(crate) const LISTED: usize = 32;

/// A listed segment's rows when it handed nothing out (a `Pending` poll, an early exit).
const NO_ROWS: u64 = u64::MAX;

#[derive(Debug)]
struct Entry {
    series: AtomicU32,
    busy: AtomicU64,
    rows: AtomicU64,
}

/// One thread's list.
#[derive(Debug)]
pub(crate) struct SegmentList {
    entries: [Entry; LISTED],
    listed: AtomicU32,
    /// Odd while the owner empties the list.
    sequence: AtomicU32,
}

impl Zeroed for SegmentList {
    const ZERO: Self = SegmentList {
        entries: [const {
            Entry {
                series: AtomicU32::new(0),
                busy: AtomicU64::new(0),
                rows: AtomicU64::new(0),
            }
        }; LISTED],
        listed: AtomicU32::new(0),
        sequence: AtomicU32::new(0),
    };
}

/// A segment as listed.
pub(crate) struct Listed {
    pub(crate) series: u32,
    pub(crate) busy: u64,
    pub(crate) rows: Option<u64>,
}

impl SegmentList {
    /// Lists a segment of `series` that took `busy` ticks and handed out `rows` rows
    /// (`None`: nothing); a full list goes to the buckets of each segment's series
    /// through `details`. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn add(
        &self,
        series: u32,
        busy: u64,
        rows: Option<u64>,
        details: impl Fn(u32) -> Option<&'static Details>,
    ) {
        let listed = self.listed.load(Relaxed) as usize % LISTED;
        let entry = &self.entries[listed];
        entry.series.store(series, Relaxed);
        entry.busy.store(busy, Relaxed);
        entry.rows.store(rows.unwrap_or(NO_ROWS), Relaxed);
        if listed + 1 == LISTED {
            self.empty(details);
        } else {
            self.listed.store(listed as u32 + 1, Relaxed);
        }
    }

    #[cold]
    #[inline(never)]
    fn empty(&self, details: impl Fn(u32) -> Option<&'static Details>) {
        let sequence = self.sequence.load(Relaxed);
        self.sequence.store(sequence.wrapping_add(1), Relaxed);
        fence(Ordering::Release);
        for segment in self.iter(LISTED) {
            if let Some(details) = details(segment.series) {
                details.histogram.add(segment.busy, segment.rows);
                details.mark_changed();
            }
        }
        self.listed.store(0, Relaxed);
        self.sequence
            .store(sequence.wrapping_add(2), Ordering::Release);
    }

    fn iter(&self, count: usize) -> impl Iterator<Item = Listed> + '_ {
        self.entries[..count].iter().map(|entry| Listed {
            series: entry.series.load(Relaxed),
            busy: entry.busy.load(Relaxed),
            rows: match entry.rows.load(Relaxed) {
                NO_ROWS => None,
                rows => Some(rows),
            },
        })
    }

    /// Runs `read` (which reads this thread's buckets) and passes it the segments
    /// listed now, again while the owner empties the list meanwhile (a few times): `Ok`
    /// with a read that no emptying overlapped, or `Err` with the last read when none was.
    pub(crate) fn read_with<R>(&self, mut read: impl FnMut(Vec<Listed>) -> R) -> Result<R, R> {
        let mut tries = 0;
        loop {
            let before = self.sequence.load(Ordering::Acquire);
            let listed = self.listed.load(Relaxed) as usize % LISTED;
            let segments: Vec<Listed> = self.iter(listed).collect();
            let value = read(segments);
            fence(Ordering::Acquire);
            if before.is_multiple_of(2) && self.sequence.load(Relaxed) == before {
                return Ok(value);
            }
            tries += 1;
            if tries == 8 {
                return Err(value);
            }
        }
    }
}
