//! [`Telemetry`]: the guard [`init`](crate::init) returns; dropping it exports what was
//! recorded and stops every signal.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::metrics::noop::NoopMeterProvider;
use opentelemetry::trace::noop::NoopTracerProvider;

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use tracing_subscriber::filter::{filter_fn, Filtered};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::export::logs::LogsPipeline;
use crate::export::metrics::MetricsPipeline;
use crate::export::prometheus::PrometheusEndpoint;
use crate::export::signal::{GrpcRuntime, LateFinalExport, Provider, SignalPipeline};
use crate::export::traces::TracesPipeline;
use crate::insight::progress::{self, Progress};
use crate::insight::report_target::ReportTarget;
use crate::operator::hot_path::set_enabled;
use crate::pipeline::recorder::{self, PipelineTelemetry};
use crate::warn::{warn, RateLimited};

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
    logs: Option<LogsPipeline>,
    runtime: GrpcRuntime,
    /// Whether operators, runs and steps are counted (for export or locally).
    collecting: bool,
    report: Option<ReportTarget>,
    progress: Option<Progress>,
    prometheus: Option<PrometheusEndpoint>,
    shutdown_timeout: Duration,
    claimed: bool,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("metrics", &self.metrics.is_some())
            .field("traces", &self.traces.is_some())
            .field("logs", &self.logs.is_some())
            .finish()
    }
}

/// The signals a starting [`Telemetry`] runs.
pub(crate) struct Signals {
    pub(crate) metrics: Option<MetricsPipeline>,
    pub(crate) traces: Option<TracesPipeline>,
    pub(crate) logs: Option<LogsPipeline>,
    /// Whether to make the log bridge the global `tracing` subscriber.
    pub(crate) install_log_subscriber: bool,
    /// Whether to count for local consumers (snapshot, report) without exporting.
    pub(crate) local: bool,
    /// Where the report goes at shutdown.
    pub(crate) report: Option<ReportTarget>,
    /// How progress is drawn.
    pub(crate) progress: progress::Mode,
    /// The `/metrics` server, if one runs.
    pub(crate) prometheus: Option<PrometheusEndpoint>,
    pub(crate) pipelines: PipelineTelemetry,
    pub(crate) runtime: GrpcRuntime,
    /// How long the guard waits for the final exports.
    pub(crate) shutdown_timeout: Duration,
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
        if let (Some(logs), true) = (&signals.logs, signals.install_log_subscriber) {
            let subscriber = tracing_subscriber::registry().with(log_layer(&logs.provider));
            if tracing::subscriber::set_global_default(subscriber).is_err() {
                crate::warn::warn(format_args!(
                    "a global tracing subscriber is already set, so logs are not exported; \
                     add Telemetry::log_layer() to it, with Config::install_log_subscriber(false)"
                ));
            }
        }
        recorder::install(Some(signals.pipelines));
        let collecting = signals.metrics.is_some() || signals.local;
        set_enabled(collecting);
        Telemetry {
            collecting,
            report: signals.report,
            progress: Progress::start(signals.progress),
            prometheus: signals.prometheus,
            metrics: signals.metrics,
            traces: signals.traces,
            logs: signals.logs,
            runtime: signals.runtime,
            shutdown_timeout: signals.shutdown_timeout,
            claimed: true,
        }
    }

    /// Whether anything is being recorded (for export, or locally for the report).
    pub fn is_enabled(&self) -> bool {
        self.collecting || self.traces.is_some() || self.logs.is_some()
    }

    /// Whether anything is being exported (metrics, traces or logs).
    pub fn is_exporting(&self) -> bool {
        self.metrics.is_some() || self.traces.is_some() || self.logs.is_some()
    }

    /// Whether `tracing` events are being exported as log records.
    pub fn logs_enabled(&self) -> bool {
        self.logs.is_some()
    }

    /// A `tracing` layer exporting events as OTLP log records, for a program that builds
    /// its own subscriber (with [`Config::install_log_subscriber(false)`](crate::Config::install_log_subscriber));
    /// `None` while logs are not exported.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt as _;
    ///
    /// let telemetry = pipetel::Config::new().install_log_subscriber(false).init();
    /// let subscriber = tracing_subscriber::registry().with(telemetry.log_layer());
    /// let _default = tracing::subscriber::set_default(subscriber);
    /// tracing::info!(rows = 3, "loaded");
    /// ```
    pub fn log_layer<S>(&self) -> Option<impl Layer<S>>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        self.logs.as_ref().map(|logs| log_layer(&logs.provider))
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
            traces.flush();
        }
        if let Some(logs) = &self.logs {
            logs.flush();
        }
        if let Some(metrics) = &self.metrics {
            metrics.flush();
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        let (metrics, traces, logs) = (self.metrics.take(), self.traces.take(), self.logs.take());
        let runtime = std::mem::take(&mut self.runtime);
        if let Some(progress) = self.progress.take() {
            progress.finish();
        }
        if let Some(prometheus) = self.prometheus.take() {
            prometheus.stop();
        }
        if let Some(report) = self.report.take() {
            report.write(&crate::insight::report::report());
        }
        if metrics.is_some() || traces.is_some() || logs.is_some() || self.collecting {
            set_enabled(false);
            recorder::install(None);
            crate::operator::user_counter::set_meter(None);
            opentelemetry::global::set_tracer_provider(NoopTracerProvider::new());
            opentelemetry::global::set_meter_provider(NoopMeterProvider::new());
            shut_down_within(self.shutdown_timeout, metrics, traces, logs);
            let _ = std::thread::Builder::new()
                .name("pipetel-shutdown-runtime".into())
                .spawn(move || runtime.shutdown())
                .map(|handle| handle.join());
        }
        if self.claimed {
            RUNNING.store(false, Ordering::Release);
        }
    }
}

/// Shuts the signals down, each on a thread of its own — so that a blocking HTTP client
/// is never torn down inside the caller's async runtime, and a stalled collector delays
/// the program once, not once per signal — and waits for them at most `timeout`. The
/// signals still exporting then are left to finish on their own (or die with the
/// process), with one warning naming them.
fn shut_down_within(
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
            .name(format!("pipetel-shutdown-{}", P::SIGNAL))
            .spawn(move || {
                pipeline.shutdown(timeout, &abandoned);
                let _ = done.send(P::SIGNAL);
            });
        match spawned {
            Ok(_) => self.running.push((P::SIGNAL, failures)),
            Err(error) => warn(format_args!("{}: cannot shut down: {error}", P::SIGNAL)),
        }
    }
}

/// Crates whose own events must not become log records: the export path itself
/// (exporting them would feed back into the exporter). Matched on the target's crate.
const EXPORT_PATH_CRATES: [&str; 8] = [
    "tonic",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "tower",
    "tokio",
    "pipetel",
];

/// Whether an event of `target` comes from the export path.
fn from_export_path(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    krate.starts_with("opentelemetry") || EXPORT_PATH_CRATES.contains(&krate)
}

/// The bridge from `tracing` events (INFO and above, not from the export path) to
/// `provider`.
fn log_layer<S>(
    provider: &SdkLoggerProvider,
) -> Filtered<
    OpenTelemetryTracingBridge<SdkLoggerProvider, opentelemetry_sdk::logs::SdkLogger>,
    impl tracing_subscriber::layer::Filter<S>,
    S,
>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    OpenTelemetryTracingBridge::new(provider).with_filter(filter_fn(|metadata| {
        *metadata.level() <= tracing::Level::INFO && !from_export_path(metadata.target())
    }))
}

#[cfg(test)]
mod tests {
    use super::from_export_path;

    #[test]
    fn only_the_export_paths_own_crates_are_filtered() {
        for target in [
            "opentelemetry_sdk::metrics",
            "tonic::transport",
            "h2",
            "pipetel::export",
        ] {
            assert!(from_export_path(target), "{target}");
        }
        for target in ["pipetel_examples::regional_totals", "h2o_engine", "my_app"] {
            assert!(!from_export_path(target), "{target}");
        }
    }
}
