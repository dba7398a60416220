//! The watcher: a thread that takes a snapshot every [`Thresholds::check_every`] while
//! telemetry counts, so that the diagnoses (`insight::diagnoses`) fire — and send their
//! log record — even when nothing else looks, and a stall is seen while it lasts. It
//! takes one more when telemetry stops, before the signals shut down, so that what the
//! run ended with is logged and exported.
//!
//! A snapshot of a large engine (tens of thousands of series on tens of threads) takes
//! hundreds of milliseconds of CPU; the watcher never spends more than
//! [`MAX_CPU_SHARE`](crate::insight::periodic::MAX_CPU_SHARE) of one core on it
//! ([`pause_after`]).
//!
//! [`Thresholds::check_every`]: crate::diagnose::Thresholds::check_every

use std::time::{Duration, Instant};

use crate::insight::periodic::{pause_after, Periodic};
use crate::insight::read_snapshot::observe;

/// Starts the watcher, looking every `every`; `None` if its thread cannot start (then
/// the diagnoses fire only when a snapshot is taken).
pub(crate) fn start(every: Duration) -> Option<Periodic> {
    Periodic::start("pipetel-watch", every, move |_last| {
        let started = Instant::now();
        let _ = observe();
        pause_after(every, started.elapsed())
    })
}
