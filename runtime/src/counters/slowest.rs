//! The slowest segments (calls, polls, items) of one operator series: the
//! [`SLOWEST_CALLS`] longest busy times over every thread that runs it, each with when it
//! ended and the trace it ran in.
//!
//! The hot path compares a segment's busy ticks with its thread's copy of the series'
//! floor (the shortest of its slowest, kept in the series' cells on the thread): one load
//! and a compare. Only a segment slower than that goes further: to the series' own floor
//! ([`SlowCells::floor`]), which it brings back as the thread's copy, and when slower
//! than that too, to [`SlowCells::record`], with the clock's ticks when it ended (turned
//! into a time of day only when read) and the current trace context. A thread's copy is
//! never above the series' floor (which only rises), so no slow segment is missed; a
//! thread goes that far once per series, and again only when a segment beats its copy.
//!
//! Writers take turns (a lock, on that rare path); a writer writes an entry between two
//! bumps of a sequence number, so a reader retries rather than read half of one, and
//! never waits for a writer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::counters::cells::Zeroed;

/// How many of its slowest calls each operator keeps: 5.
pub const SLOWEST_CALLS: usize = 5;

#[derive(Debug)]
struct Entry {
    ticks: AtomicU64,
    /// When it ended, in the clock's raw ticks.
    ended: AtomicU64,
    trace_high: AtomicU64,
    trace_low: AtomicU64,
}

/// One series' slowest segments.
#[derive(Debug)]
pub(crate) struct SlowCells {
    /// Held by the writer.
    writer: Mutex<()>,
    /// Odd while a writer writes an entry.
    sequence: AtomicU64,
    /// The shortest of the entries (0 while fewer than [`SLOWEST_CALLS`] are kept).
    floor: AtomicU64,
    entries: [Entry; SLOWEST_CALLS],
}

impl Zeroed for SlowCells {
    const ZERO: Self = SlowCells {
        writer: Mutex::new(()),
        sequence: AtomicU64::new(0),
        floor: AtomicU64::new(0),
        entries: [const {
            Entry {
                ticks: AtomicU64::new(0),
                ended: AtomicU64::new(0),
                trace_high: AtomicU64::new(0),
                trace_low: AtomicU64::new(0),
            }
        }; SLOWEST_CALLS],
    };
}

/// One of the slowest segments, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlowSegment {
    pub(crate) ticks: u64,
    /// When it ended, in the clock's raw ticks.
    pub(crate) ended: u64,
    /// The trace it ran in (all zeros: none).
    pub(crate) trace_id: u128,
}

impl SlowCells {
    /// The shortest of the slowest kept (0 while fewer than [`SLOWEST_CALLS`] are): a
    /// segment is among them only if it took longer.
    #[inline]
    pub(crate) fn floor(&self) -> u64 {
        self.floor.load(Ordering::Relaxed)
    }

    /// Keeps a segment of `ticks` busy ticks that ended at tick `ended` if it is among the
    /// slowest; returns the new [`floor`](Self::floor).
    #[cold]
    #[inline(never)]
    pub(crate) fn record(&self, ticks: u64, ended: u64, trace_id: u128) -> u64 {
        let _writing = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let shortest = (0..SLOWEST_CALLS)
            .min_by_key(|&i| self.entries[i].ticks.load(Ordering::Relaxed))
            .unwrap_or(0);
        let entry = &self.entries[shortest];
        if ticks > entry.ticks.load(Ordering::Relaxed) {
            let sequence = self.sequence.load(Ordering::Relaxed);
            self.sequence.store(sequence + 1, Ordering::Relaxed);
            std::sync::atomic::fence(Ordering::Release);
            entry.ticks.store(ticks, Ordering::Relaxed);
            entry.ended.store(ended, Ordering::Relaxed);
            entry
                .trace_high
                .store((trace_id >> 64) as u64, Ordering::Relaxed);
            entry.trace_low.store(trace_id as u64, Ordering::Relaxed);
            self.sequence.store(sequence + 2, Ordering::Release);
        }
        let floor = self
            .entries
            .iter()
            .map(|entry| entry.ticks.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0);
        self.floor.store(floor, Ordering::Relaxed);
        floor
    }

    /// The segments kept: a consistent copy, read again while a writer writes (a few
    /// tries, then what was read).
    #[cfg(test)]
    pub(crate) fn read(&self) -> Vec<SlowSegment> {
        let mut copy = Vec::with_capacity(SLOWEST_CALLS);
        self.read_into(&mut copy);
        copy
    }

    /// [`read`](Self::read), appending to `copy` (no allocation once it has room).
    pub(crate) fn read_into(&self, copy: &mut Vec<SlowSegment>) {
        let kept = copy.len();
        for _ in 0..8 {
            let before = self.sequence.load(Ordering::Acquire);
            copy.truncate(kept);
            copy.extend(self.entries.iter().filter_map(|entry| {
                let ticks = entry.ticks.load(Ordering::Relaxed);
                (ticks > 0).then(|| SlowSegment {
                    ticks,
                    ended: entry.ended.load(Ordering::Relaxed),
                    trace_id: u128::from(entry.trace_high.load(Ordering::Relaxed)) << 64
                        | u128::from(entry.trace_low.load(Ordering::Relaxed)),
                })
            }));
            std::sync::atomic::fence(Ordering::Acquire);
            if before.is_multiple_of(2) && self.sequence.load(Ordering::Relaxed) == before {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slowest_stay_and_the_floor_rises() {
        let cells = SlowCells::ZERO;
        let floors: Vec<u64> = [5, 1, 9, 3, 7, 2, 8, 10]
            .iter()
            .map(|&ticks| cells.record(ticks, 100 + ticks, ticks as u128))
            .collect();
        // Zero while fewer than five are kept, then the shortest of the five.
        assert_eq!(floors, [0, 0, 0, 0, 1, 2, 3, 5]);
        assert_eq!(cells.floor(), 5);
        let mut kept: Vec<u64> = cells.read().iter().map(|s| s.ticks).collect();
        kept.sort_unstable();
        assert_eq!(kept, [5, 7, 8, 9, 10]);
        assert!(cells
            .read()
            .iter()
            .all(|s| s.trace_id == s.ticks as u128 && s.ended == 100 + s.ticks));
    }

    #[test]
    fn threads_recording_at_once_keep_the_slowest_of_all() {
        let cells: &'static SlowCells = Box::leak(Box::new(SlowCells::ZERO));
        // Four threads, each its own values 1..=1000 (thread t: 4n + t), each keeping
        // a floor of its own as segments do.
        let threads: Vec<_> = (0..4u64)
            .map(|thread| {
                std::thread::spawn(move || {
                    let mut floor = 0;
                    for n in 1..=1000u64 {
                        let ticks = 4 * n + thread;
                        if ticks > floor {
                            floor = if ticks > cells.floor() {
                                cells.record(ticks, n, u128::from(thread))
                            } else {
                                cells.floor()
                            };
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("recorded");
        }
        let mut kept: Vec<u64> = cells.read().iter().map(|s| s.ticks).collect();
        kept.sort_unstable();
        assert_eq!(kept, [3_999, 4_000, 4_001, 4_002, 4_003]);
        assert_eq!(cells.floor(), 3_999);
    }
}
