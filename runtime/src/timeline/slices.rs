//! Each thread's ring of the latest slices of its operators' work — a segment's busy
//! stretch, a wait inside it, a batch handed over, a task's gap between its segments —
//! kept while the timeline records, read when it is written.
//!
//! A thread's ring outlives the thread (its work stays on the timeline), up to
//! [`TIMELINE_THREADS`] rings: past them, a new thread takes the place of the
//! longest-exited one, whose slices count as rolled off.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::counters::cells::Tally;
use crate::latest::SharedLatest;
use crate::timeline::{recording, TIMELINE_SLICES_PER_THREAD, TIMELINE_THREADS};

/// What a slice shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SliceKind {
    /// An operator's segment: a call, a poll, an item; from its start to its end, the
    /// slices nested in it included.
    Segment,
    /// A wait for input inside a segment (a receive on an empty channel).
    Starved,
    /// A wait for room for its output inside a segment (a send on a full channel).
    Blocked,
    /// A batch handed to a pipetel channel (`out`) or taken from one, the `number`th of
    /// the channel's: an instant (its start is its end). `inside`: while its operator's
    /// segment ran; else on the thread after the segment that made the batch (a send)
    /// or before the one that takes it (a receive).
    Handover {
        channel: u32,
        number: u64,
        out: bool,
        inside: bool,
    },
    /// A gap of async or streaming task `task` (its number, [`task_number`]) between
    /// two of its segments, or before its first, waiting as `wait` says; recorded on the
    /// thread that measured it, written on the task's own track (the thread ran other
    /// work meanwhile).
    TaskGap { task: u64, wait: TaskWait },
}

/// What a task waited for in a gap between its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskWait {
    /// Input: its last poll returned `Pending`, and nothing woke it yet.
    Starved,
    /// Its consumer: the item it handed out not yet taken, or its output full.
    Blocked,
    /// The executor: woken, and not yet polled.
    Queued,
}

impl TaskWait {
    /// The tally its time counts to.
    #[inline(always)]
    pub(crate) fn tally(self) -> Tally {
        match self {
            TaskWait::Starved => Tally::StarvedTicks,
            TaskWait::Blocked => Tally::BlockedTicks,
            TaskWait::Queued => Tally::QueuedTicks,
        }
    }

    /// The word the timeline names the wait by, as the report does.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TaskWait::Starved => "starved",
            TaskWait::Blocked => "blocked",
            TaskWait::Queued => "queued",
        }
    }
}

/// Tasks numbered while recording: a task's gaps share a track in the written timeline.
static TASKS: AtomicU64 = AtomicU64::new(0);

/// A number for a task starting now: its own while recording, 0 (its gaps not kept)
/// otherwise.
#[inline]
pub(crate) fn task_number() -> u64 {
    if recording() {
        TASKS.fetch_add(1, Ordering::Relaxed) + 1
    } else {
        0
    }
}

/// One stretch of work or waiting on a thread, in clock ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slice {
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// The operator's series (a run's lane series included).
    pub(crate) series: u32,
    pub(crate) kind: SliceKind,
    /// Rows handed out by a segment that handed something out.
    pub(crate) rows: Option<u64>,
}

/// One thread's ring.
#[derive(Debug)]
struct Ring {
    /// The thread's name, or its id when it has none.
    thread: String,
    /// The thread's number among those that recorded (its track in the timeline).
    number: u32,
    held: SharedLatest<Slice>,
}

/// What one thread recorded, as read.
#[derive(Debug, Clone)]
pub(crate) struct ThreadSlices {
    pub(crate) thread: String,
    pub(crate) number: u32,
    /// Oldest first.
    pub(crate) slices: Vec<Slice>,
    /// Slices older than these that the ring let go.
    pub(crate) rolled_off: u64,
}

/// The rings kept, a thread's after it exits (at most [`TIMELINE_THREADS`]), and the
/// slices of rings let go to make room.
static RINGS: Mutex<Rings> = Mutex::new(Rings {
    kept: Vec::new(),
    let_go: 0,
    numbered: 0,
});

struct Rings {
    kept: Vec<Arc<Ring>>,
    /// Slices of the rings of exited threads let go for new threads.
    let_go: u64,
    /// Rings numbered so far: a ring's number is never reused.
    numbered: u32,
}

thread_local! {
    static THIS_THREAD: Option<Arc<Ring>> = register();
}

/// A ring for the calling thread, or none when [`TIMELINE_THREADS`] live threads have
/// one each.
fn register() -> Option<Arc<Ring>> {
    let mut rings = RINGS.lock().unwrap_or_else(PoisonError::into_inner);
    if rings.kept.len() >= TIMELINE_THREADS {
        // The oldest ring whose thread exited: only the list holds it.
        let exited = rings
            .kept
            .iter()
            .position(|ring| Arc::strong_count(ring) == 1)?;
        let ring = rings.kept.remove(exited);
        let (kept, rolled_off) = ring.held.counts();
        rings.let_go += kept as u64 + rolled_off;
    }
    let current = std::thread::current();
    rings.numbered += 1;
    let ring = Arc::new(Ring {
        thread: current
            .name()
            .map_or_else(|| format!("{:?}", current.id()), str::to_owned),
        number: rings.numbered,
        held: SharedLatest::new(TIMELINE_SLICES_PER_THREAD),
    });
    rings.kept.push(ring.clone());
    Some(ring)
}

/// Keeps `slice` in this thread's ring, if recording.
pub(crate) fn record(slice: Slice) {
    if !recording() {
        return;
    }
    // A thread being torn down has no ring left: its last slices are not kept.
    let _ = THIS_THREAD.try_with(|ring| {
        if let Some(ring) = ring {
            ring.held.push(slice);
        }
    });
}

/// What every thread recorded so far, by thread number, and how many slices of
/// threads whose rings were let go for others.
pub(crate) fn read() -> (Vec<ThreadSlices>, u64) {
    // Under the lock, without taking a count of any ring: a thread that registers
    // meanwhile must still see which rings only the list holds (their threads exited).
    let rings = RINGS.lock().unwrap_or_else(PoisonError::into_inner);
    let threads = rings
        .kept
        .iter()
        .map(|ring| {
            let (slices, rolled_off) = ring.held.read();
            ThreadSlices {
                thread: ring.thread.clone(),
                number: ring.number,
                slices,
                rolled_off,
            }
        })
        .filter(|thread| !thread.slices.is_empty() || thread.rolled_off > 0)
        .collect();
    (threads, rings.let_go)
}

/// Empties every ring, for a new recording.
pub(super) fn clear() {
    let mut rings = RINGS.lock().unwrap_or_else(PoisonError::into_inner);
    rings.let_go = 0;
    for ring in &rings.kept {
        ring.held.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::registry;
    use crate::timeline::test_switch::recording_turn;

    /// A segment of `series` from tick `start` to the next.
    fn segment(series: u32, start: u64) -> Slice {
        Slice {
            start,
            end: start + 1,
            series,
            kind: SliceKind::Segment,
            rows: None,
        }
    }

    #[test]
    fn a_full_ring_lets_its_oldest_slices_go_and_counts_them() {
        let _turn = recording_turn();
        let series = registry::resolve("timeline_test", "ring");
        // On a thread of its own, so that the ring is this test's alone.
        std::thread::Builder::new()
            .name("timeline-ring-test".into())
            .spawn(move || {
                for start in 0..TIMELINE_SLICES_PER_THREAD as u64 + 3 {
                    record(segment(series, start));
                }
            })
            .expect("spawn")
            .join()
            .expect("join");
        // Read within the turn: another test's threads may take this exited thread's ring.
        let (read, _) = read();
        let ring = read
            .iter()
            .find(|thread| thread.thread == "timeline-ring-test")
            .expect("the thread's ring, kept after it exited");
        assert_eq!(ring.rolled_off, 3);
        assert_eq!(ring.slices.len(), TIMELINE_SLICES_PER_THREAD);
        assert_eq!(ring.slices[0], segment(series, 3), "the oldest kept");
        assert_eq!(
            crate::timeline::held_floor(7),
            0,
            "held at zero while recording"
        );
        // What TIMELINE_SLICES_PER_THREAD's documented bound (3.5 MiB a thread) is of.
        assert_eq!(std::mem::size_of::<Slice>(), 56);
    }

    #[test]
    fn past_the_most_threads_a_new_one_takes_the_ring_of_one_that_exited() {
        let _turn = recording_turn();
        let series = registry::resolve("timeline_test", "threads");
        for _ in 0..TIMELINE_THREADS + 5 {
            std::thread::spawn(move || record(segment(series, 1)))
                .join()
                .expect("join");
        }
        let rings = RINGS.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(rings.kept.len() <= TIMELINE_THREADS, "{}", rings.kept.len());
        assert!(rings.let_go >= 5, "the exited threads' slices counted");
        let mut numbers: Vec<u32> = rings.kept.iter().map(|ring| ring.number).collect();
        numbers.dedup();
        assert_eq!(numbers.len(), rings.kept.len(), "a number is never reused");
    }
}
