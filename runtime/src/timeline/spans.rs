//! The process's ring of runs and steps, kept while the timeline records: a step may
//! start on one thread and end on another (an async step), so they are not a thread's.

use crate::latest::SharedLatest;
use crate::timeline::{recording, TIMELINE_SPANS};

/// A run or a step, from its start to its end, in clock ticks.
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

/// The latest runs and steps.
static SPANS: SharedLatest<Span> = SharedLatest::new(TIMELINE_SPANS);

/// Keeps `span`, if recording.
pub(crate) fn record_span(span: Span) {
    if recording() {
        SPANS.push(span);
    }
}

/// The runs and steps kept, oldest end first, and how many rolled off before them.
pub(crate) fn spans() -> (Vec<Span>, u64) {
    SPANS.read()
}

/// Empties the ring, for a new recording.
pub(super) fn clear() {
    SPANS.clear();
}
