//! The timeline's flight recorder, kept only while a timeline is asked for ([`start`])
//! and read when it is written (`insight::chrome_trace`): each thread's ring of the
//! latest slices of its operators' work (`slices`), the process's ring of runs and steps
//! (`spans`), the channels' hand-overs numbered for the arrows between them
//! (`handovers`), and the process's figures sampled over time (`samples`).
//!
//! Recording rides on the check every segment already makes as it ends, whether its
//! time is among its operator's slowest: while the recorder runs, every thread's floor
//! of the slowest is held at zero, so that every segment takes the rare path, which
//! records it. With no timeline asked for, a call's common path does not reach the
//! recorder at all.
//!
//! Every ring is bounded: the latest are kept, older ones roll off, counted, and the
//! written timeline says how many.

mod handovers;
mod samples;
mod slices;
mod spans;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::counters::registry;
use crate::counters::shards;

pub(crate) use handovers::handover;
pub(crate) use samples::{record_sample, samples, Sample};
pub(crate) use slices::{read, record, task_number, Slice, SliceKind, TaskWait, ThreadSlices};
pub(crate) use spans::{record_span, spans, Span, SpanKind};

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

/// The most samples of the process's memory and progress kept (65,536: at one every
/// [`TIMELINE_SAMPLE_INTERVAL`], the last 109 minutes): the latest; the written
/// timeline says how many rolled off before them.
pub const TIMELINE_SAMPLES: usize = 1 << 16;

/// How often the process's memory and progress are sampled for the timeline's counter
/// tracks while it records (every 100 ms) — but never with more than 1 % of one core: a
/// sample reads a snapshot, and after one that took `t` the next waits at least `100 t`.
pub const TIMELINE_SAMPLE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

static RECORDING: AtomicBool = AtomicBool::new(false);

/// Whether slices are being recorded.
#[inline]
pub(crate) fn recording() -> bool {
    RECORDING.load(Ordering::Relaxed)
}

/// Starts recording: every thread's floor of the slowest segments goes to zero (new
/// cells start there), and [`held_floor`] keeps it there.
pub(crate) fn start() {
    // A new recording starts empty: an earlier one's slices are of its own run.
    slices::clear();
    spans::clear();
    handovers::clear();
    samples::clear();
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

#[cfg(test)]
pub(crate) mod test_switch {
    //! The recorder's switch is the process's: its tests take turns with it.

    use std::sync::atomic::Ordering;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    use super::RECORDING;

    /// This test's turn with the switch, recording; the switch as it was, when the turn
    /// ends.
    pub(crate) struct Turn {
        was: bool,
        _turn: MutexGuard<'static, ()>,
    }

    impl Drop for Turn {
        fn drop(&mut self) {
            RECORDING.store(self.was, Ordering::Relaxed);
        }
    }

    /// Waits for this test's turn and records until it ends.
    pub(crate) fn recording_turn() -> Turn {
        static TURN: Mutex<()> = Mutex::new(());
        let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
        let was = RECORDING.swap(true, Ordering::Relaxed);
        Turn { was, _turn: turn }
    }
}
