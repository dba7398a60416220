//! The process's figures sampled over time while the timeline records — its memory and
//! how far its runs got — for the written timeline's counter tracks.

use crate::latest::SharedLatest;
use crate::timeline::{recording, TIMELINE_SAMPLES};

/// The process's figures at one moment; each `None` where it could not be read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sample {
    /// When, in clock ticks.
    pub(crate) tick: u64,
    /// Resident memory, in bytes, as the operating system counts it.
    pub(crate) resident: Option<u64>,
    /// Bytes live in the tracking allocator (with `pipetel::alloc::Tracking` set).
    pub(crate) allocated: Option<u64>,
    /// How far the work is done, from 0 to 1: the snapshot's overall estimate.
    pub(crate) done: Option<f64>,
}

/// The latest samples.
static SAMPLES: SharedLatest<Sample> = SharedLatest::new(TIMELINE_SAMPLES);

/// Keeps `sample`, if recording.
pub(crate) fn record_sample(sample: Sample) {
    if recording() {
        SAMPLES.push(sample);
    }
}

/// The samples kept, oldest first, and how many rolled off before them.
pub(crate) fn samples() -> (Vec<Sample>, u64) {
    SAMPLES.read()
}

/// Empties the ring, for a new recording.
pub(super) fn clear() {
    SAMPLES.clear();
}
