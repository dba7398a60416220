//! While the timeline records, a background thread samples the process's memory and how
//! far its work got, every [`TIMELINE_SAMPLE_INTERVAL`] (never with more than 1 % of one
//! core), for the written timeline's counter tracks; the first as telemetry starts, the
//! last as it stops.

use std::time::{Duration, Instant};

use crate::insight::periodic::{pause_after, Periodic};
use crate::insight::read_snapshot::snapshot;
use crate::operator::clock::ticks;
#[cfg(feature = "process-metrics")]
use crate::process_usage::UsageReader;
use crate::timeline::{record_sample, Sample, TIMELINE_SAMPLE_INTERVAL};

/// Takes the first sample on the calling thread (telemetry starting: nothing counted
/// yet, so it costs little) and starts sampling; `None` if the thread cannot start
/// (then the timeline has that one sample).
pub(crate) fn start() -> Option<Periodic> {
    let mut sampler = Sampler::new();
    let took = sampler.sample();
    let first = pause_after(TIMELINE_SAMPLE_INTERVAL, took);
    Periodic::start("pipetel-timeline", first, move |_last| {
        let took = sampler.sample();
        pause_after(TIMELINE_SAMPLE_INTERVAL, took)
    })
}

/// What a sample reads.
struct Sampler {
    #[cfg(feature = "process-metrics")]
    usage: Option<UsageReader>,
}

impl Sampler {
    fn new() -> Sampler {
        Sampler {
            #[cfg(feature = "process-metrics")]
            usage: UsageReader::new(),
        }
    }

    /// Records a sample of now; how long it took.
    fn sample(&mut self) -> Duration {
        let started = Instant::now();
        let tick = ticks();
        #[cfg(feature = "process-metrics")]
        let resident = self
            .usage
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
        started.elapsed()
    }
}

/// The bytes live in the tracking allocator, when it is the program's allocator.
fn allocated() -> Option<u64> {
    #[cfg(feature = "alloc")]
    if crate::alloc::counting() {
        return Some(crate::alloc::balance().live());
    }
    None
}
