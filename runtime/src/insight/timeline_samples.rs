//! While the timeline records, a background thread samples the process's memory and how
//! far its work got, every [`TIMELINE_SAMPLE_INTERVAL`] (never with more than 1 % of one
//! core), for the written timeline's counter tracks; once more as telemetry stops.

use std::time::Instant;

use crate::insight::periodic::{pause_after, Periodic};
use crate::insight::read_snapshot::snapshot;
use crate::operator::clock::ticks;
#[cfg(feature = "process-metrics")]
use crate::process_usage::UsageReader;
use crate::timeline::{record_sample, Sample, TIMELINE_SAMPLE_INTERVAL};

/// Starts sampling; `None` if its thread cannot start (then the timeline has no counter
/// tracks).
pub(crate) fn start() -> Option<Periodic> {
    #[cfg(feature = "process-metrics")]
    let mut usage = UsageReader::new();
    Periodic::start(
        "pipetel-timeline",
        std::time::Duration::ZERO,
        move |_last| {
            let started = Instant::now();
            let tick = ticks();
            #[cfg(feature = "process-metrics")]
            let resident = usage
                .as_mut()
                .and_then(UsageReader::read)
                .map(|usage| usage.resident);
            #[cfg(not(feature = "process-metrics"))]
            let resident = None;
            let done = snapshot().overall.map(|overall| overall.fraction);
            record_sample(Sample {
                tick,
                resident,
                allocated: allocated(),
                done,
            });
            pause_after(TIMELINE_SAMPLE_INTERVAL, started.elapsed())
        },
    )
}

/// The bytes live in the tracking allocator, when it is the program's allocator.
fn allocated() -> Option<u64> {
    #[cfg(feature = "alloc")]
    if crate::alloc::counting() {
        return Some(crate::alloc::balance().live());
    }
    None
}
