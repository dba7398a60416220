//! The process's ring of runs and steps, kept while the timeline records: a step may
//! start on one thread and end on another (an async step), so they are not a thread's.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use crate::timeline::{recording, TIMELINE_SPANS};

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

/// Empties the ring, for a new recording.
pub(super) fn clear() {
    *SPANS.lock().unwrap_or_else(PoisonError::into_inner) = (VecDeque::new(), 0);
}
