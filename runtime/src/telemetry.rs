//! [`Telemetry`]: the guard [`init`](crate::init) returns; dropping it exports what was
//! counted and stops collection.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::export::MetricsPipeline;
use crate::hot_path::set_enabled;

/// Whether a [`Telemetry`] guard with a pipeline (or one being built) exists.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Running telemetry. Dropping it flushes: everything counted before the drop is exported.
///
/// ```
/// let telemetry = pipetel::init(); // off here: no OTEL_EXPORTER_OTLP_ENDPOINT
/// assert!(!telemetry.is_enabled());
/// drop(telemetry); // exports what was counted, then stops
/// ```
#[must_use = "telemetry stops when this guard is dropped: keep it, as in `let _telemetry = pipetel::init();`"]
#[derive(Default)]
pub struct Telemetry {
    metrics: Option<MetricsPipeline>,
    claimed: bool,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("metrics", &self.metrics.is_some())
            .finish()
    }
}

impl Telemetry {
    /// Takes the one running slot; false when another guard holds it.
    pub(crate) fn claim() -> bool {
        RUNNING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// A guard that does nothing and holds no slot.
    pub(crate) fn off() -> Self {
        Telemetry::default()
    }

    /// Gives the slot back and returns a guard that does nothing.
    pub(crate) fn unclaimed_off() -> Self {
        RUNNING.store(false, Ordering::Release);
        Telemetry::off()
    }

    /// A guard for a running pipeline; collection starts now.
    pub(crate) fn on(metrics: MetricsPipeline) -> Self {
        set_enabled(true);
        Telemetry {
            metrics: Some(metrics),
            claimed: true,
        }
    }

    /// Whether operator metrics are being collected and exported.
    pub fn is_enabled(&self) -> bool {
        self.metrics.is_some()
    }

    /// Exports what was counted so far, now, and waits for the export to finish.
    pub fn flush(&self) {
        if let Some(metrics) = &self.metrics {
            if let Err(error) = metrics.provider.force_flush() {
                crate::warn::warn(format_args!("metrics flush: {error}"));
            }
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(metrics) = self.metrics.take() {
            set_enabled(false);
            // A thread of its own, so that a blocking HTTP client is never torn down
            // inside the caller's async runtime.
            let finished = std::thread::scope(|scope| {
                std::thread::Builder::new()
                    .name("pipetel-shutdown".into())
                    .spawn_scoped(scope, move || metrics.shutdown())
                    .map(|handle| handle.join().is_ok())
            });
            if !matches!(finished, Ok(true)) {
                crate::warn::warn(format_args!("metrics shutdown did not finish"));
            }
        }
        if self.claimed {
            RUNNING.store(false, Ordering::Release);
        }
    }
}
