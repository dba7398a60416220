//! Shutting the signals down in parallel, within `Config::shutdown_timeout`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::export::logs::LogsPipeline;
use crate::export::metrics::MetricsPipeline;
use crate::export::signal::{LateFinalExport, Provider, SignalPipeline};
use crate::export::traces::TracesPipeline;
use crate::warn::{warn, RateLimited};

/// Shuts the signals down, each on a thread of its own — so that a blocking HTTP client
/// is never torn down inside the caller's async runtime, and a stalled collector delays
/// the program once, not once per signal — and waits for them at most `timeout`. The
/// signals still exporting then are left to finish on their own (or die with the
/// process), with one warning naming them.
pub(crate) fn shut_down_within(
    timeout: Duration,
    metrics: Option<MetricsPipeline>,
    traces: Option<TracesPipeline>,
    logs: Option<LogsPipeline>,
) {
    let (done, finished) = mpsc::channel();
    let mut shutdowns = Shutdowns {
        timeout,
        abandoned: Arc::new(AtomicBool::new(false)),
        done,
        running: Vec::new(),
    };
    shutdowns.start(traces);
    shutdowns.start(logs);
    shutdowns.start(metrics);
    let Shutdowns {
        abandoned,
        done,
        mut running,
        ..
    } = shutdowns;
    drop(done);
    // A little past `timeout`, so that a signal's own timeout reports first.
    let deadline = Instant::now() + timeout + Duration::from_millis(250);
    while !running.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match finished.recv_timeout(left) {
            Ok(name) => running.retain(|(running, _)| *running != name),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                abandoned.store(true, Ordering::Release);
                // Signals that warned less than a minute ago stay quiet.
                let late: Vec<&str> = running
                    .iter()
                    .filter(|(_, failures)| failures.take())
                    .map(|(name, _)| *name)
                    .collect();
                if !late.is_empty() {
                    warn(format_args!(
                        "{}",
                        LateFinalExport(&late.join(", "), timeout)
                    ));
                }
                break;
            }
        }
    }
}

/// The signal shutdowns under way, for [`shut_down_within`].
struct Shutdowns {
    timeout: Duration,
    /// Set when the guard stops waiting: the signals still running then stay quiet.
    abandoned: Arc<AtomicBool>,
    /// Each shutdown thread sends its signal's name when done.
    done: mpsc::Sender<&'static str>,
    /// The signals shut down so far, with the rate limit of their warnings.
    running: Vec<(&'static str, Arc<RateLimited>)>,
}

impl Shutdowns {
    /// Shuts `pipeline` down on a thread of its own.
    fn start<P: Provider + Send + 'static>(&mut self, pipeline: Option<SignalPipeline<P>>) {
        let Some(pipeline) = pipeline else {
            return;
        };
        let failures = pipeline.failures();
        let (done, abandoned, timeout) = (self.done.clone(), self.abandoned.clone(), self.timeout);
        let spawned = std::thread::Builder::new()
            .name(format!("pipetel-shutdown-{}", P::SIGNAL.name()))
            .spawn(move || {
                pipeline.shutdown(timeout, &abandoned);
                let _ = done.send(P::SIGNAL.name());
            });
        match spawned {
            Ok(_) => self.running.push((P::SIGNAL.name(), failures)),
            Err(error) => warn(format_args!(
                "{}: cannot shut down: {error}",
                P::SIGNAL.name()
            )),
        }
    }
}
