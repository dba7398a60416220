//! The log lines each operator emitted: counts by level and its latest lines, by series —
//! `tracing` events inside its calls (`logs::event_layer`) and the output of the child
//! processes it started (`process`). A snapshot reads them into each operator's
//! [`logs`](crate::snapshot::OperatorSnapshot::logs).
//!
//! A line takes one lock (a line is rare beside a call: formatting it costs more) and is
//! kept cut to [`LOG_LINE_CHARS`]; each operator keeps its latest [`LOG_LINES_KEPT`].

use std::sync::Mutex;
use std::time::SystemTime;

use crate::latest::Latest;

/// The latest lines kept per operator (20): older ones are counted, not kept.
pub const LOG_LINES_KEPT: usize = 20;

/// The characters a kept line keeps (1,000); a longer one is cut, and ends in `…`.
pub const LOG_LINE_CHARS: usize = 1_000;

/// Levels a line is counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl Severity {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warn => "WARN",
            Severity::Info => "INFO",
            Severity::Debug => "DEBUG",
            Severity::Trace => "TRACE",
        }
    }
}

impl From<&tracing::Level> for Severity {
    fn from(level: &tracing::Level) -> Severity {
        match *level {
            tracing::Level::ERROR => Severity::Error,
            tracing::Level::WARN => Severity::Warn,
            tracing::Level::INFO => Severity::Info,
            tracing::Level::DEBUG => Severity::Debug,
            tracing::Level::TRACE => Severity::Trace,
        }
    }
}

/// One line kept.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) time: SystemTime,
    pub(crate) severity: Severity,
    /// The event's target, or the child's stream (`stdout`, `stderr`).
    pub(crate) source: String,
    pub(crate) text: String,
}

/// One operator's lines: counts, and the latest kept.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lines {
    pub(crate) lines: u64,
    pub(crate) warnings: u64,
    pub(crate) errors: u64,
    pub(crate) latest: Latest<Line>,
}

/// By series id.
static LINES: Mutex<Vec<Option<Box<Lines>>>> = Mutex::new(Vec::new());

/// Counts a line `text` of `severity` from `source` (an event's target, or the stream of
/// a child process) for `series`, and keeps it among its latest.
pub(crate) fn record(series: u32, severity: Severity, source: &str, text: &str) {
    let line = Line {
        time: SystemTime::now(),
        severity,
        source: source.to_owned(),
        text: cut(text),
    };
    let Ok(mut all) = LINES.lock() else {
        return;
    };
    let index = series as usize;
    if all.len() <= index {
        all.resize_with(index + 1, || None);
    }
    let lines = all[index].get_or_insert_with(Box::default);
    lines.lines += 1;
    match severity {
        Severity::Error => lines.errors += 1,
        Severity::Warn => lines.warnings += 1,
        _ => {}
    }
    lines.latest.push(line, LOG_LINES_KEPT);
}

/// Every series' lines so far, by series.
pub(crate) fn read() -> Vec<(u32, Lines)> {
    let Ok(all) = LINES.lock() else {
        return Vec::new();
    };
    all.iter()
        .enumerate()
        .filter_map(|(series, lines)| Some((series as u32, (**lines.as_ref()?).clone())))
        .collect()
}

/// `text` cut to [`LOG_LINE_CHARS`] characters, its line ending taken off.
fn cut(text: &str) -> String {
    let text = text.trim_end_matches(['\n', '\r']);
    match text.char_indices().nth(LOG_LINE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_cut_and_the_latest_kept() {
        assert_eq!(cut("short\r\n"), "short");
        let long = "é".repeat(LOG_LINE_CHARS + 5);
        assert_eq!(cut(&long).chars().count(), LOG_LINE_CHARS + 1);
        // A series no other test uses.
        let series = 50_000;
        for n in 0..LOG_LINES_KEPT + 3 {
            record(series, Severity::Info, "stdout", &format!("line {n}"));
        }
        record(series, Severity::Error, "my_app", "broke");
        let (_, lines) = read()
            .into_iter()
            .find(|(s, _)| *s == series)
            .expect("recorded");
        assert_eq!((lines.lines, lines.warnings, lines.errors), (24, 0, 1));
        let (latest, _) = lines.latest.read();
        assert_eq!(latest.len(), LOG_LINES_KEPT);
        assert_eq!(latest[0].text, "line 4");
        assert_eq!(latest.last().map(|l| l.severity), Some(Severity::Error));
    }
}
