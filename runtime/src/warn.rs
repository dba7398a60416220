//! Warnings for the person running the program: one line on stderr, prefixed `pipetel: warning:`.
//!
//! Telemetry problems (a bad environment value, an unreachable collector) are reported
//! here and never panic or stop the program. Writing ignores a closed stderr.
//! Repeating problems go through [`RateLimited`], which lets one line through per period.

use std::fmt;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Prints one warning line to stderr.
pub(crate) fn warn(message: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "pipetel: warning: {message}");
}

/// Lets a repeating warning through at most once per period.
#[derive(Debug)]
pub(crate) struct RateLimited {
    period: Duration,
    last: Mutex<Option<Instant>>,
}

impl RateLimited {
    pub(crate) const fn new(period: Duration) -> Self {
        RateLimited {
            period,
            last: Mutex::new(None),
        }
    }

    /// Prints the warning unless one was printed less than a period ago.
    pub(crate) fn warn(&self, message: fmt::Arguments<'_>) {
        if self.take() {
            warn(message);
        }
    }

    /// Whether a warning may go out now; if so, the period starts again (the caller
    /// prints it, perhaps together with others).
    pub(crate) fn take(&self) -> bool {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        let allowed = last.is_none_or(|at| now.duration_since(at) >= self.period);
        if allowed {
            *last = Some(now);
        }
        allowed
    }
}
