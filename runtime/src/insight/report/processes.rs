//! The report's note on the processes a merged snapshot comes from: how many, of which
//! job, and which of them are still running or stopped without saying so.

use std::fmt::Write as _;

use crate::insight::figures::units::duration;
use crate::insight::snapshot::{Snapshot, SourceState};

/// The `PROCESSES` note, for a snapshot of several processes or of one that stopped
/// without saying so; nothing for a process's own snapshot.
pub(super) fn note(text: &mut String, snapshot: &Snapshot) {
    let sources = &snapshot.sources;
    let partial = |state: &SourceState| matches!(state, SourceState::Partial { .. });
    if sources.len() < 2 && !sources.iter().any(|source| partial(&source.state)) {
        return;
    }
    let count = |wanted: fn(&SourceState) -> bool| {
        sources
            .iter()
            .filter(|source| wanted(&source.state))
            .count()
    };
    let (live, done, stopped) = (
        count(|state| *state == SourceState::Live),
        count(|state| *state == SourceState::Done),
        count(|state| matches!(state, SourceState::Partial { .. })),
    );
    let _ = write!(text, "\nPROCESSES {}", sources.len());
    if let Some(job) = snapshot.job() {
        let _ = write!(text, " (job {job})");
    }
    let states: Vec<String> = [(done, "done"), (live, "running"), (stopped, "partial")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, state)| format!("{n} {state}"))
        .collect();
    let _ = writeln!(text, ": {}", states.join(", "));
    for source in sources {
        if let SourceState::Partial { age } = source.state {
            let _ = writeln!(
                text,
                "  {} stopped without saying so: its figures are those of its last snapshot, \
                 {} old",
                source.name(),
                duration(age)
            );
        }
    }
}
