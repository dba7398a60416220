//! The timeline's flight recorder: each thread's ring of the latest slices of its
//! operators' work — a segment's busy stretch, a wait inside it — and the process's
//! ring of runs and steps, kept only while a timeline is asked for ([`start`]), read
//! when it is written (`insight::chrome_trace`).
//!
//! Recording rides on the check every segment already makes as it ends, whether its
//! time is among its operator's slowest: while the recorder runs, every thread's floor
//! of the slowest is held at zero, so that every segment takes the rare path, which
//! records it. With no timeline asked for, a call's common path does not reach the
//! recorder at all.
//!
//! Each thread's ring holds the latest [`TIMELINE_SLICES_PER_THREAD`] slices; older ones
//! roll off, counted, and the written timeline says how many. A thread's ring outlives
//! the thread (its work stays on the timeline), up to [`TIMELINE_THREADS`] rings: past
//! them, a new thread takes the place of the longest-exited one, whose slices count as
//! rolled off.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::counters::registry;
use crate::counters::shards;

/// The most slices a thread's ring keeps (65,536, 3.5 MiB a thread at most): the
/// latest; the written timeline says how many rolled off before them.
pub const TIMELINE_SLICES_PER_THREAD: usize = 1 << 16;

/// The most threads' rings kept (1,024): past them, a new thread's ring replaces the
/// oldest ring of a thread that exited (its slices counted as rolled off); while all
/// are alive, the new thread records nothing.
pub const TIMELINE_THREADS: usize = 1024;

/// The most runs and steps kept (65,536): the latest; the written timeline says how
/// many rolled off before them.
pub const TIMELINE_SPANS: usize = 1 << 16;

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
}

/// Each channel's batches numbered as sent and as received, while recording: a
/// channel hands its batches over in order, so the `n`th received is the `n`th sent.
static HANDOVERS: Mutex<Option<std::collections::HashMap<u32, [u64; 2]>>> = Mutex::new(None);

/// Records a batch handed to channel `channel` (`out`) or taken from it, by operator
/// `series` (`inside` its segment, or the one next to it on the thread), at `tick`.
pub(crate) fn handover(channel: u32, out: bool, series: u32, inside: bool, tick: u64) {
    if !recording() {
        return;
    }
    let number = {
        let mut handovers = HANDOVERS.lock().unwrap_or_else(PoisonError::into_inner);
        let counts = handovers
            .get_or_insert_with(Default::default)
            .entry(channel)
            .or_default();
        let count = &mut counts[usize::from(!out)];
        *count += 1;
        *count
    };
    record(Slice {
        start: tick,
        end: tick,
        series,
        kind: SliceKind::Handover {
            channel,
            number,
            out,
            inside,
        },
        rows: None,
    });
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

/// A run or a step, from its start to its end, in clock ticks: it may start on one
/// thread and end on another (an async step), so it is the process's, not a thread's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// `run <pipeline>` or `step <step>`.
    pub(crate) kind: SpanKind,
    pub(crate) name: &'static str,
    /// The pipeline a step ran in, if in a run.
    pub(crate) pipeline: Option<&'static str>,
    pub(crate) failed: bool,
}

/// Which a [`Span`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanKind {
    Run,
    Step,
}

/// The latest runs and steps, and how many rolled off before them.
static SPANS: Mutex<(VecDeque<Span>, u64)> = Mutex::new((VecDeque::new(), 0));

/// Keeps `span`, if recording.
pub(crate) fn record_span(span: Span) {
    if !recording() {
        return;
    }
    let mut spans = SPANS.lock().unwrap_or_else(PoisonError::into_inner);
    if spans.0.len() == TIMELINE_SPANS {
        spans.0.pop_front();
        spans.1 += 1;
    }
    spans.0.push_back(span);
}

/// The runs and steps kept, oldest end first, and how many rolled off before them.
pub(crate) fn spans() -> (Vec<Span>, u64) {
    let spans = SPANS.lock().unwrap_or_else(PoisonError::into_inner);
    (spans.0.iter().copied().collect(), spans.1)
}

/// One thread's ring.
#[derive(Debug)]
struct Ring {
    /// The thread's name, or its id when it has none.
    thread: String,
    /// The thread's number among those that recorded (its track in the timeline).
    number: u32,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    slices: VecDeque<Slice>,
    rolled_off: u64,
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

static RECORDING: AtomicBool = AtomicBool::new(false);

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
        let held = ring.held.lock().unwrap_or_else(PoisonError::into_inner);
        rings.let_go += held.slices.len() as u64 + held.rolled_off;
    }
    let current = std::thread::current();
    rings.numbered += 1;
    let ring = Arc::new(Ring {
        thread: current
            .name()
            .map_or_else(|| format!("{:?}", current.id()), str::to_owned),
        number: rings.numbered,
        held: Mutex::new(Held::default()),
    });
    rings.kept.push(ring.clone());
    Some(ring)
}

/// Whether slices are being recorded.
#[inline]
pub(crate) fn recording() -> bool {
    RECORDING.load(Ordering::Relaxed)
}

/// Starts recording: every thread's floor of the slowest segments goes to zero (new
/// cells start there), and [`held_floor`] keeps it there.
pub(crate) fn start() {
    // A new recording starts empty: an earlier one's slices are of its own run.
    {
        let mut rings = RINGS.lock().unwrap_or_else(PoisonError::into_inner);
        rings.let_go = 0;
        for ring in &rings.kept {
            *ring.held.lock().unwrap_or_else(PoisonError::into_inner) = Held::default();
        }
        *SPANS.lock().unwrap_or_else(PoisonError::into_inner) = (VecDeque::new(), 0);
        *HANDOVERS.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
    RECORDING.store(true, Ordering::Relaxed);
    let series_count = registry::series_count();
    shards::for_each_shard(|shard| {
        for (_, chunk) in shard.cell_chunks(series_count) {
            for cells in chunk {
                cells.slow_floor.store(0, Ordering::Relaxed);
            }
        }
    });
}

/// Stops recording; what was recorded stays to be read.
pub(crate) fn stop() {
    RECORDING.store(false, Ordering::Relaxed);
}

/// The floor a segment leaves in its thread's cells after checking whether it is among
/// the slowest: `floor`, or zero while recording (every segment then comes to be
/// recorded).
#[inline]
pub(crate) fn held_floor(floor: u64) -> u64 {
    if recording() {
        0
    } else {
        floor
    }
}

/// Keeps `slice` in this thread's ring, if recording.
pub(crate) fn record(slice: Slice) {
    if !recording() {
        return;
    }
    // A thread being torn down has no ring left: its last slices are not kept.
    let _ = THIS_THREAD.try_with(|ring| {
        let Some(ring) = ring else { return };
        let mut held = ring.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.slices.len() == TIMELINE_SLICES_PER_THREAD {
            held.slices.pop_front();
            held.rolled_off += 1;
        }
        held.slices.push_back(slice);
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
            let held = ring.held.lock().unwrap_or_else(PoisonError::into_inner);
            ThreadSlices {
                thread: ring.thread.clone(),
                number: ring.number,
                slices: held.slices.iter().copied().collect(),
                rolled_off: held.rolled_off,
            }
        })
        .filter(|thread| !thread.slices.is_empty() || thread.rolled_off > 0)
        .collect();
    (threads, rings.let_go)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recorder's switch is the process's: its tests take turns with it.
    fn turn() -> std::sync::MutexGuard<'static, ()> {
        static TURN: Mutex<()> = Mutex::new(());
        TURN.lock().unwrap_or_else(PoisonError::into_inner)
    }

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
        let _turn = turn();
        let was = recording();
        RECORDING.store(true, Ordering::Relaxed);
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
        RECORDING.store(was, Ordering::Relaxed);
        let (read, _) = read();
        let ring = read
            .iter()
            .find(|thread| thread.thread == "timeline-ring-test")
            .expect("the thread's ring, kept after it exited");
        assert_eq!(ring.rolled_off, 3);
        assert_eq!(ring.slices.len(), TIMELINE_SLICES_PER_THREAD);
        assert_eq!(ring.slices[0], segment(series, 3), "the oldest kept");
        assert_eq!(held_floor(7), if was { 0 } else { 7 });
        // What TIMELINE_SLICES_PER_THREAD's documented bound (3.5 MiB a thread) is of.
        assert_eq!(std::mem::size_of::<Slice>(), 56);
    }

    #[test]
    fn past_the_most_threads_a_new_one_takes_the_ring_of_one_that_exited() {
        let _turn = turn();
        let was = recording();
        RECORDING.store(true, Ordering::Relaxed);
        let series = registry::resolve("timeline_test", "threads");
        for _ in 0..TIMELINE_THREADS + 5 {
            std::thread::spawn(move || record(segment(series, 1)))
                .join()
                .expect("join");
        }
        RECORDING.store(was, Ordering::Relaxed);
        let rings = RINGS.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(rings.kept.len() <= TIMELINE_THREADS, "{}", rings.kept.len());
        assert!(rings.let_go >= 5, "the exited threads' slices counted");
        let mut numbers: Vec<u32> = rings.kept.iter().map(|ring| ring.number).collect();
        numbers.dedup();
        assert_eq!(numbers.len(), rings.kept.len(), "a number is never reused");
    }
}
