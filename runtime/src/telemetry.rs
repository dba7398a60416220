//! [`Telemetry`]: the guard [`init`](crate::init) returns; dropping it exports what was
//! recorded and stops every signal.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::metrics::noop::NoopMeterProvider;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::noop::NoopTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::dashboard::server::DashboardServer;
use crate::env::ReportDestination;
use crate::export::grpc_runtime::GrpcRuntime;
use crate::export::line_logs;
use crate::export::log_layer::log_layer;
use crate::export::logs::LogsPipeline;
use crate::export::metrics::MetricsPipeline;
use crate::export::prometheus::PrometheusEndpoint;
use crate::export::shutdown::shut_down_within;
use crate::export::traces::TracesPipeline;
use crate::insight::diagnoses;
use crate::insight::periodic::Periodic;
use crate::insight::progress::{self, Progress};
use crate::insight::read_snapshot;
use crate::insight::report::target::write_report;
use crate::insight::report::Report;
use crate::insight::run_views;
use crate::insight::snapshot_dir::write::SnapshotWriter;
use crate::insight::timeline_samples;
use crate::insight::watch;
use crate::logs::event_layer::operator_lines;
use crate::names;
use crate::operator::clock;
use crate::operator::recording::set_enabled;
use crate::operator::user_counter;
use crate::pipeline::recorder::{self, PipelineRecorder};
use crate::warn::warn;

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
    report: Option<ReportDestination>,
    /// Whether the timeline's recorder runs, stopped with telemetry.
    timeline: bool,
    /// Samples the process's memory and progress for the timeline while it records.
    timeline_samples: Option<Periodic>,
    snapshots: Option<SnapshotWriter>,
    progress: Option<Progress>,
    watch: Option<Periodic>,
    /// Reads the lanes of ended runs (their views).
    runs: Option<Periodic>,
    prometheus: Option<PrometheusEndpoint>,
    dashboard: Option<DashboardServer>,
    shutdown_timeout: Duration,
    claimed: bool,
}

/// Where each signal goes (the OTLP endpoint's variable and value, its password hidden),
/// and whether operators, runs and steps are counted.
impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("metrics", &self.metrics.as_ref().map(|m| m.destination()))
            .field("traces", &self.traces.as_ref().map(|t| t.destination()))
            .field("logs", &self.logs.as_ref().map(|l| l.destination()))
            .field("collecting", &self.collecting)
            .field("report", &self.report)
            .field("timeline", &self.timeline)
            .field("prometheus", &self.prometheus.is_some())
            .field("dashboard", &self.dashboard.is_some())
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
    pub(crate) report: Option<ReportDestination>,
    /// Whether to record the timeline.
    pub(crate) timeline: bool,
    /// The directory to write snapshots to, while running and at shutdown.
    pub(crate) snapshot_dir: Option<PathBuf>,
    /// How progress is drawn.
    pub(crate) progress: progress::Mode,
    /// The `/metrics` server, if one runs.
    pub(crate) prometheus: Option<PrometheusEndpoint>,
    /// The dashboard's listener, if one runs.
    pub(crate) dashboard: Option<DashboardServer>,
    pub(crate) pipelines: PipelineRecorder,
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

    /// A guard for running signals: what they need installed process-wide is installed,
    /// and recording starts now.
    pub(crate) fn on(signals: Signals) -> Self {
        let collecting = signals.metrics.is_some() || signals.local;
        // Before the switch every call checks: the first calls are recorded too.
        let timeline = collecting && signals.timeline;
        if timeline {
            crate::timeline::start();
        }
        install(&signals, collecting);
        Telemetry {
            collecting,
            report: signals.report,
            timeline,
            timeline_samples: timeline.then(timeline_samples::start).flatten(),
            snapshots: signals
                .snapshot_dir
                .as_deref()
                .and_then(|dir| SnapshotWriter::start(dir, crate::env::PIPETEL_SNAPSHOT_DIR)),
            progress: Progress::start(signals.progress),
            watch: collecting
                .then(|| watch::start(diagnoses::thresholds().check_every))
                .flatten(),
            runs: collecting.then(run_views::start_reader).flatten(),
            prometheus: signals.prometheus,
            dashboard: signals.dashboard,
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

    /// A `tracing` layer for a program that builds its own subscriber (with
    /// [`Config::install_log_subscriber(false)`](crate::Config::install_log_subscriber)):
    /// it counts each event emitted inside an operator's call as that operator's line
    /// (the report's and the dashboard's `logs`), and, while logs are exported, exports
    /// events as OTLP log records tagged with the operator. `None` while telemetry is off.
    /// Add [`logs::WithOperator`](crate::logs::WithOperator) to the program's `fmt` layer
    /// for its own lines to say their operator too.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt as _;
    ///
    /// let telemetry = pipetel::Config::new().install_log_subscriber(false).init();
    /// let subscriber = tracing_subscriber::registry().with(telemetry.log_layer());
    /// let _default = tracing::subscriber::set_default(subscriber);
    /// tracing::info!(rows = 3, "loaded");
    /// ```
    pub fn log_layer<S>(&self) -> Option<Box<dyn Layer<S> + Send + Sync>>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        if !self.is_enabled() {
            return None;
        }
        // Two layers or one, never an `Option` of the second: a `None` layer hints that
        // no level is enabled, and beside a filtered layer that hint turns every event off.
        Some(match &self.logs {
            Some(logs) => Box::new(operator_lines().and_then(log_layer(&logs.provider))),
            None => Box::new(operator_lines()),
        })
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
        if let Some(watch) = self.watch.take() {
            watch.finish();
        }
        if let Some(runs) = self.runs.take() {
            run_views::stop_reader(runs);
        }
        if let Some(progress) = self.progress.take() {
            progress.finish();
        }
        if let Some(prometheus) = self.prometheus.take() {
            prometheus.stop();
        }
        if let Some(dashboard) = self.dashboard.take() {
            dashboard.stop();
        }
        // The timeline's last sample before the timeline is written.
        if let Some(samples) = self.timeline_samples.take() {
            samples.finish();
        }
        if let Some(snapshots) = self.snapshots.take() {
            snapshots.finish();
        }
        if let Some(report) = self.report.take() {
            write_report(&report, &Report::of(read_snapshot::last()));
        }
        if self.timeline {
            crate::timeline::stop();
        }
        if metrics.is_some() || traces.is_some() || logs.is_some() || self.collecting {
            uninstall();
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

/// Installs what running signals need process-wide: pipetel's providers as the global
/// OpenTelemetry ones, the log bridge as the global `tracing` subscriber (when asked),
/// the tracer and instruments runs and steps record into, the meter of
/// [`OperatorCounter`](crate::engine::OperatorCounter)s, and — last — the switch every operator
/// call checks. [`uninstall`] undoes it, switch first.
fn install(signals: &Signals, collecting: bool) {
    // Steps and runs time themselves with it too, whatever is exported.
    clock::start();
    // Runs' lanes are read, once each run has ended, into the views it keeps.
    run_views::register();
    if let Some(traces) = &signals.traces {
        opentelemetry::global::set_tracer_provider(traces.provider.clone());
    }
    if let Some(metrics) = &signals.metrics {
        opentelemetry::global::set_meter_provider(metrics.provider.clone());
        user_counter::set_meter(Some(metrics.provider.meter(names::SCOPE)));
    }
    if let (Some(logs), true) = (&signals.logs, signals.install_log_subscriber) {
        let subscriber = tracing_subscriber::registry()
            .with(operator_lines())
            .with(log_layer(&logs.provider));
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            warn(format_args!(
                "a global tracing subscriber is already set, so logs are not exported; \
                 add Telemetry::log_layer() to it, with Config::install_log_subscriber(false)"
            ));
        }
    }
    line_logs::install(signals.logs.as_ref().map(|logs| &logs.provider));
    recorder::install(Some(signals.pipelines.clone()));
    set_enabled(collecting);
}

/// Undoes [`install`]: operators stop recording, runs and steps stop, the global
/// providers become no-ops. The global `tracing` subscriber stays (`tracing` cannot
/// replace it); with its provider shut down, it exports nothing more.
fn uninstall() {
    set_enabled(false);
    recorder::install(None);
    line_logs::install(None);
    user_counter::set_meter(None);
    opentelemetry::global::set_tracer_provider(NoopTracerProvider::new());
    opentelemetry::global::set_meter_provider(NoopMeterProvider::new());
}
