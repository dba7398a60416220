//! [`Telemetry`]: the guard [`init`](crate::init) returns; dropping it exports what was
//! recorded and stops every signal.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::metrics::noop::NoopMeterProvider;
use opentelemetry::trace::noop::NoopTracerProvider;

use crate::hot_path::set_enabled;
use crate::metrics_export::MetricsPipeline;
use crate::otlp::GrpcRuntime;
use crate::pipeline_state::{self, PipelineTelemetry};
use crate::trace_export::TracesPipeline;

/// Whether a [`Telemetry`] guard with a pipeline (or one being built) exists.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Running telemetry. Dropping it flushes: everything recorded before the drop is exported.
///
/// ```
/// let telemetry = pipetel::init(); // off here: no OTEL_EXPORTER_OTLP_ENDPOINT
/// assert!(!telemetry.is_enabled());
/// drop(telemetry); // exports what was recorded, then stops
/// ```
#[must_use = "telemetry stops when this guard is dropped: keep it, as in `let _telemetry = pipetel::init();`"]
#[derive(Default)]
pub struct Telemetry {
    metrics: Option<MetricsPipeline>,
    traces: Option<TracesPipeline>,
    runtime: GrpcRuntime,
    claimed: bool,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("metrics", &self.metrics.is_some())
            .field("traces", &self.traces.is_some())
            .finish()
    }
}

/// The signals a starting [`Telemetry`] runs.
pub(crate) struct Signals {
    pub(crate) metrics: Option<MetricsPipeline>,
    pub(crate) traces: Option<TracesPipeline>,
    pub(crate) pipelines: PipelineTelemetry,
    pub(crate) runtime: GrpcRuntime,
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

    /// A guard for running signals; recording starts now, and pipetel's providers
    /// become the global OpenTelemetry ones.
    pub(crate) fn on(signals: Signals) -> Self {
        if let Some(traces) = &signals.traces {
            opentelemetry::global::set_tracer_provider(traces.provider.clone());
        }
        if let Some(metrics) = &signals.metrics {
            opentelemetry::global::set_meter_provider(metrics.provider.clone());
        }
        pipeline_state::install(Some(signals.pipelines));
        set_enabled(signals.metrics.is_some());
        Telemetry {
            metrics: signals.metrics,
            traces: signals.traces,
            runtime: signals.runtime,
            claimed: true,
        }
    }

    /// Whether anything is being recorded and exported (metrics or traces).
    pub fn is_enabled(&self) -> bool {
        self.metrics.is_some() || self.traces.is_some()
    }

    /// Whether metrics (operator and pipeline) are being collected and exported.
    pub fn metrics_enabled(&self) -> bool {
        self.metrics.is_some()
    }

    /// Whether run and step spans are being exported.
    pub fn traces_enabled(&self) -> bool {
        self.traces.is_some()
    }

    /// Exports what was recorded so far, now, and waits for the exports to finish.
    pub fn flush(&self) {
        if let Some(traces) = &self.traces {
            if let Err(error) = traces.provider.force_flush() {
                crate::warn::warn(format_args!("traces flush: {error}"));
            }
        }
        if let Some(metrics) = &self.metrics {
            if let Err(error) = metrics.provider.force_flush() {
                crate::warn::warn(format_args!("metrics flush: {error}"));
            }
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        let (metrics, traces) = (self.metrics.take(), self.traces.take());
        let runtime = std::mem::take(&mut self.runtime);
        if metrics.is_some() || traces.is_some() {
            set_enabled(false);
            pipeline_state::install(None);
            opentelemetry::global::set_tracer_provider(NoopTracerProvider::new());
            opentelemetry::global::set_meter_provider(NoopMeterProvider::new());
            // A thread of its own, so that a blocking HTTP client is never torn down
            // inside the caller's async runtime. Spans first: the run metrics they
            // complete are then in the final metrics export.
            let finished = std::thread::scope(|scope| {
                std::thread::Builder::new()
                    .name("pipetel-shutdown".into())
                    .spawn_scoped(scope, move || {
                        if let Some(traces) = traces {
                            traces.shutdown();
                        }
                        if let Some(metrics) = metrics {
                            metrics.shutdown();
                        }
                        runtime.shutdown();
                    })
                    .map(|handle| handle.join().is_ok())
            });
            if !matches!(finished, Ok(true)) {
                crate::warn::warn(format_args!("telemetry shutdown did not finish"));
            }
        }
        if self.claimed {
            RUNNING.store(false, Ordering::Release);
        }
    }
}
