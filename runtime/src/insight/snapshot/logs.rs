//! An operator's log lines in a snapshot: `tracing` events emitted inside its calls and
//! the output of the child processes it started (`pipetel::process`).

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The log lines of one operator: how many, by level, and the latest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct OperatorLogs {
    /// Lines counted: events seen by [`Telemetry::log_layer`](crate::Telemetry::log_layer)
    /// (or the subscriber pipetel installs) inside the operator's calls, and lines of the
    /// child processes it started with [`pipetel::process::Command`](crate::process::Command).
    pub lines: u64,
    /// Of them, `WARN` events.
    pub warnings: u64,
    /// Of them, `ERROR` events.
    pub errors: u64,
    /// The latest lines, oldest first: at most
    /// [`LOG_LINES_KEPT`](crate::limits::LOG_LINES_KEPT) per process.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latest: Vec<LogLine>,
}

/// One log line of an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogLine {
    /// When it was emitted (read).
    pub time: SystemTime,
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: String,
    /// The event's target, or the stream a child process wrote it to (`stdout`,
    /// `stderr`).
    pub source: String,
    /// The message and fields, or the child's line; cut to
    /// [`LOG_LINE_CHARS`](crate::limits::LOG_LINE_CHARS) characters.
    pub text: String,
}

impl OperatorLogs {
    /// `other`'s lines added to these (another series or process of the same operator):
    /// counts added, the latest of both kept, in order of time.
    pub(crate) fn add(&mut self, other: &OperatorLogs, keep: usize) {
        self.lines += other.lines;
        self.warnings += other.warnings;
        self.errors += other.errors;
        self.latest.extend(other.latest.iter().cloned());
        self.latest.sort_by_key(|line| line.time);
        let extra = self.latest.len().saturating_sub(keep);
        self.latest.drain(..extra);
    }
}
