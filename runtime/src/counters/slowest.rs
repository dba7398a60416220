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
//! Writers take turns through a sequence number: a writer makes it odd (a
//! compare-and-swap), writes, and makes it even again, so a reader retries rather than
//! read half of an entry, and never waits. A writer tries [`WRITER_TRIES`] times to take
//! its turn and then lets its segment go rather than wait: another thread writes an
//! entry in nanoseconds, but one descheduled while writing would keep the turn for a
//! time slice, and a call must never wait for it. Only two threads keeping a slow call
//! of the same series at the same moment can meet there.

use std::sync::atomic::{AtomicU64, Ordering};

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

/// How many times a writer tries to take its turn before it lets its segment go.
const WRITER_TRIES: u32 = 64;

/// One series' slowest segments.
#[derive(Debug)]
pub(crate) struct SlowCells {
    /// Odd while a writer has its turn.
    sequence: AtomicU64,
    /// The shortest of the entries (0 while fewer than [`SLOWEST_CALLS`] are kept).
    floor: AtomicU64,
    entries: [Entry; SLOWEST_CALLS],
}

impl Zeroed for SlowCells {
    const ZERO: Self = SlowCells {
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

/// Puts `segments` slowest first (of equal times, the one that ended first first).
pub(crate) fn slowest_first(segments: &mut [SlowSegment]) {
    segments.sort_by(|a, b| b.ticks.cmp(&a.ticks).then(a.ended.cmp(&b.ended)));
}

impl SlowCells {
    /// The shortest of the slowest kept (0 while fewer than [`SLOWEST_CALLS`] are): a
    /// segment is among them only if it took longer.
    #[inline]
    pub(crate) fn floor(&self) -> u64 {
        self.floor.load(Ordering::Relaxed)
    }

    /// Keeps a segment of `ticks` busy ticks that ended at tick `ended` if it is among the
    /// slowest; returns the new [`floor`](Self::floor) (the current one, the segment let
    /// go, when another writer kept the turn through [`WRITER_TRIES`] tries).
    #[cold]
    #[inline(never)]
    pub(crate) fn record(&self, ticks: u64, ended: u64, trace_id: u128) -> u64 {
        let Some(sequence) = self.take_turn() else {
            return self.floor();
        };
        std::sync::atomic::fence(Ordering::Release);
        let shortest = (0..SLOWEST_CALLS)
            .min_by_key(|&i| self.entries[i].ticks.load(Ordering::Relaxed))
            .unwrap_or(0);
        let entry = &self.entries[shortest];
        if ticks > entry.ticks.load(Ordering::Relaxed) {
            entry.ticks.store(ticks, Ordering::Relaxed);
            entry.ended.store(ended, Ordering::Relaxed);
            entry
                .trace_high
                .store((trace_id >> 64) as u64, Ordering::Relaxed);
            entry.trace_low.store(trace_id as u64, Ordering::Relaxed);
        }
        let floor = self
            .entries
            .iter()
            .map(|entry| entry.ticks.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0);
        self.floor.store(floor, Ordering::Relaxed);
        self.sequence.store(sequence + 2, Ordering::Release);
        floor
    }

    /// Takes the writer's turn: the sequence number, even, made odd; `None` after
    /// [`WRITER_TRIES`] tries found another writer's turn.
    fn take_turn(&self) -> Option<u64> {
        for _ in 0..WRITER_TRIES {
            let sequence = self.sequence.load(Ordering::Relaxed);
            if sequence.is_multiple_of(2)
                && self
                    .sequence
                    .compare_exchange_weak(
                        sequence,
                        sequence + 1,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                return Some(sequence);
            }
            std::hint::spin_loop();
        }
        None
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
    fn threads_recording_at_once_keep_entries_whole_and_the_floor_their_least() {
        let cells: &'static SlowCells = Box::leak(Box::new(SlowCells::ZERO));
        // Four threads, each its own values (thread t: 4n + t, the trace t), each keeping
        // a floor of its own as segments do. A segment may be let go when two threads
        // meet; what is kept is whole: each entry a value a thread recorded, with its
        // own end and trace.
        let threads: Vec<_> = (0..4u64)
            .map(|thread| {
                std::thread::spawn(move || {
                    let mut floor = 0;
                    for n in 1..=1000u64 {
                        let ticks = 4 * n + thread;
                        if ticks > floor {
                            floor = if ticks > cells.floor() {
                                cells.record(ticks, ticks + 1, u128::from(thread))
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
        let kept = cells.read();
        assert_eq!(kept.len(), SLOWEST_CALLS);
        for segment in &kept {
            assert_eq!(segment.ended, segment.ticks + 1, "{kept:?}");
            assert_eq!(
                u64::try_from(segment.trace_id).ok(),
                Some(segment.ticks % 4)
            );
        }
        let least = kept.iter().map(|segment| segment.ticks).min();
        assert_eq!(Some(cells.floor()), least);
        // Alone again, a writer always has its turn: five slower segments are all kept.
        for ticks in 10_001..=10_005 {
            cells.record(ticks, ticks + 1, 0);
        }
        let mut kept: Vec<u64> = cells.read().iter().map(|segment| segment.ticks).collect();
        kept.sort_unstable();
        assert_eq!(kept, [10_001, 10_002, 10_003, 10_004, 10_005]);
    }

    #[test]
    fn a_writer_that_cannot_take_its_turn_lets_its_segment_go() {
        let cells = SlowCells::ZERO;
        cells.record(7, 8, 0);
        // Another writer's turn, held.
        cells.sequence.fetch_add(1, Ordering::Relaxed);
        assert_eq!(
            cells.record(50, 51, 0),
            0,
            "the floor as it was: fewer than five kept"
        );
        cells.sequence.fetch_add(1, Ordering::Relaxed);
        let kept: Vec<u64> = cells.read().iter().map(|segment| segment.ticks).collect();
        assert_eq!(kept, [7]);
        cells.record(50, 51, 0);
        assert_eq!(cells.read().len(), 2);
    }
}
