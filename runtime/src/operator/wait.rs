//! Waits inside an operator's call: a receive that found its channel empty (starved: no
//! input yet) or a send that found it full (blocked: the output is not taken).
//!
//! A blocking wait is timed where it happens: its ticks leave the operator's busy time
//! (they count as nested in the segment, as a child operator's would) and go to its
//! starved or blocked time. Pipetel's channels wait through [`waiting`] only after a
//! `try_` found they must, so a receive or send that does not wait reads no clock.
//!
//! An async send that finds its channel full returns `Pending` rather than block: it
//! says so with [`output_full`], and the task's next gap (until it is polled again) is
//! blocked time rather than the starved time a `Pending` means otherwise
//! (`operator::task`).

use crate::counters::cells::Tally;
use crate::counters::thread_state::this_thread;
use crate::operator::clock::ticks;
use crate::operator::recording::enabled;
use crate::timeline::{self, Slice, SliceKind};

/// What an operator waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Input: a receive on an empty channel.
    Starved,
    /// Room for its output: a send on a full channel.
    Blocked,
}

impl Wait {
    /// The tally its time goes to.
    pub(crate) fn tally(self) -> Tally {
        match self {
            Wait::Starved => Tally::StarvedTicks,
            Wait::Blocked => Tally::BlockedTicks,
        }
    }
}

/// Runs `block`, which waits as `wait` says, and counts its time as waiting for the
/// operator running now on this thread (just runs it when none runs, or telemetry is
/// off).
pub(crate) fn waiting<R>(wait: Wait, block: impl FnOnce() -> R) -> R {
    if !enabled() {
        return block();
    }
    let thread = this_thread();
    let current = thread.current();
    // SAFETY: a non-null `cells` of a current operator points into a shard's table,
    // whose chunks are never freed.
    let Some(cells) = (unsafe { current.cells.as_ref() }) else {
        return block();
    };
    let start = ticks();
    let result = block();
    let end = ticks();
    let waited = end.saturating_sub(start);
    thread.add_waited(waited);
    cells.add(wait.tally(), waited);
    if timeline::recording() {
        timeline::record(Slice {
            start,
            end: start + waited,
            series: current.series,
            kind: match wait {
                Wait::Starved => SliceKind::Starved,
                Wait::Blocked => SliceKind::Blocked,
            },
            rows: None,
        });
    }
    result
}

/// Says that the operator running now found its output full and is about to return
/// `Pending` for it.
#[cfg(feature = "tokio")]
pub(crate) fn output_full() {
    if enabled() {
        this_thread().note_output_full();
    }
}
