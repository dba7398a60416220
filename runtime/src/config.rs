//! [`Config`]: what the environment cannot say (the metric namespace, a default service
//! name, extra exporters), and [`init`], which starts telemetry from the environment.

use std::fmt;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::SpanExporter;
use opentelemetry_sdk::Resource;

use opentelemetry::metrics::MeterProvider as _;

use crate::counters::registry::{self, DEFAULT_MAX_NODE_IDS_PER_TYPE};
use crate::dashboard;
use crate::env::{EnvSettings, ReportDestination, ResourceSettings};
use crate::export::grpc_runtime::GrpcRuntime;
use crate::export::logs;
use crate::export::metrics::{self, AddReader};
#[cfg(feature = "process-metrics")]
use crate::export::process_metrics;
use crate::export::prometheus;
use crate::export::traces::{self, AddSpanExporter};
use crate::insight::diagnoses::{self, Thresholds};
use crate::insight::progress;
use crate::insight::this_process;
use crate::names::{self, DurationUnit};
use crate::pipeline::propagation;
use crate::pipeline::recorder::{PipelineInstruments, PipelineRecorder};
use crate::telemetry::{Signals, Telemetry};
use crate::warn::warn;

/// Starts telemetry as the `OTEL_*` environment says; off when no endpoint is set.
///
/// Keep the returned guard alive for the life of the program: dropping it exports what
/// was counted and stops. Same as `Config::new().init()`.
///
/// ```
/// let _telemetry = pipetel::init();
/// // … run the pipeline …
/// ```
pub fn init() -> Telemetry {
    Config::new().init()
}

/// How long the final export of each signal may take at shutdown, unless
/// [`Config::shutdown_timeout`] says otherwise.
pub(crate) const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings the environment cannot give. Everything else comes from the `OTEL_*` variables.
///
/// ```
/// let _telemetry = pipetel::Config::new()
///     .namespace("daft") // daft.rows.in, daft.task.completed, …
///     .service_name("my-engine") // unless OTEL_SERVICE_NAME says otherwise
///     .init();
/// ```
pub struct Config {
    namespace: String,
    service_name: Option<String>,
    max_node_ids_per_type: usize,
    process_metrics: bool,
    install_log_subscriber: bool,
    collect_locally: bool,
    record_timeline: bool,
    dashboard: Option<String>,
    shutdown_timeout: Duration,
    thresholds: Thresholds,
    duration_unit: DurationUnit,
    readers: Vec<AddReader>,
    span_exporters: Vec<AddSpanExporter>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("namespace", &self.namespace)
            .field("service_name", &self.service_name)
            .field("max_node_ids_per_type", &self.max_node_ids_per_type)
            .field("process_metrics", &self.process_metrics)
            .field("install_log_subscriber", &self.install_log_subscriber)
            .field("collect_locally", &self.collect_locally)
            .field("record_timeline", &self.record_timeline)
            .field("dashboard", &self.dashboard)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("thresholds", &self.thresholds)
            .field("duration_unit", &self.duration_unit)
            .field("metric_exporters", &self.readers.len())
            .field("span_exporters", &self.span_exporters.len())
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// The defaults: namespace `pipetel`, no extra exporter.
    pub fn new() -> Self {
        Config {
            namespace: names::DEFAULT_NAMESPACE.to_owned(),
            service_name: None,
            max_node_ids_per_type: DEFAULT_MAX_NODE_IDS_PER_TYPE,
            process_metrics: true,
            install_log_subscriber: true,
            collect_locally: false,
            record_timeline: false,
            dashboard: None,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            thresholds: Thresholds::default(),
            duration_unit: DurationUnit::Seconds,
            readers: Vec::new(),
            span_exporters: Vec::new(),
        }
    }

    /// The prefix of every metric name: `daft` gives `daft.rows.in`. Default `pipetel`.
    ///
    /// It must start with a letter and hold only letters, digits, `_`, `.`, `-` and `/`
    /// (the OpenTelemetry instrument name rules); another value is refused at
    /// [`init`](Self::init) with a warning, and the default is used.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The `service.name` to use when neither `OTEL_SERVICE_NAME` nor
    /// `OTEL_RESOURCE_ATTRIBUTES` gives one.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The unit of the operator `duration` counter: seconds (default, the OpenTelemetry
    /// convention: Prometheus `pipetel_duration_seconds_total`), or Daft's whole
    /// microseconds (`pipetel_duration_microseconds_total`).
    ///
    /// ```
    /// use pipetel::names::DurationUnit;
    ///
    /// let _telemetry = pipetel::Config::new()
    ///     .namespace("daft")
    ///     .duration_unit(DurationUnit::Microseconds) // daft.duration, in us
    ///     .init();
    /// ```
    pub fn duration_unit(mut self, unit: DurationUnit) -> Self {
        self.duration_unit = unit;
        self
    }

    /// The most distinct `node.id` values kept per `node.type` (default 1000); further
    /// ones are counted together under `node.id = "other"`, with one warning naming this
    /// limit. The process as a whole keeps at most
    /// [`MAX_OPERATOR_SERIES`](crate::limits::MAX_OPERATOR_SERIES) series, whatever this says.
    pub fn max_node_ids_per_type(mut self, max: usize) -> Self {
        self.max_node_ids_per_type = max;
        self
    }

    /// Counts operators, runs and steps for [`snapshot`](crate::snapshot()) and
    /// [`report`](crate::report) even when nothing is exported (default: no; also on when
    /// `PIPETEL_REPORT` is set). Costs what collection for export costs: a few relaxed
    /// stores per operator call.
    pub fn collect_locally(mut self, on: bool) -> Self {
        self.collect_locally = on;
        self
    }

    /// Records a timeline of every operator's work while telemetry runs, for
    /// [`chrome_trace`](crate::chrome_trace()) (default: no; also on when
    /// `PIPETEL_REPORT` names a file `trace.json` or `*.trace.json`, written at
    /// shutdown). Counts locally, as [`collect_locally`](Self::collect_locally).
    ///
    /// Each thread keeps its latest
    /// [`TIMELINE_SLICES_PER_THREAD`](crate::limits::TIMELINE_SLICES_PER_THREAD) slices.
    /// While recording, every operator call takes the path a call among its operator's
    /// slowest takes, which records it (BENCHMARKS.md gives the cost); without a
    /// timeline, calls cost what they cost without the recorder.
    pub fn record_timeline(mut self, on: bool) -> Self {
        self.record_timeline = on;
        self
    }

    /// Serves the live dashboard at `address` (`host:port`; `127.0.0.1:0` picks a free
    /// port, printed with the URL): the operator graph, progress, the bottleneck and
    /// diagnoses, skew and distributions, the latest runs, memory and CPU, updated once
    /// a second. Counts locally, as [`collect_locally`](Self::collect_locally). Read-only,
    /// and on a loopback address it answers loopback host names only. The environment's
    /// `PIPETEL_DASHBOARD_ADDR` wins over this; `OTEL_SDK_DISABLED=true` turns it off. A bind failure is a warning naming the
    /// address; the program runs on without a dashboard. Needs the `dashboard` feature
    /// (not a default feature); without it, a warning names the feature and the program
    /// runs on.
    ///
    /// ```no_run
    /// let telemetry = pipetel::Config::new().dashboard("127.0.0.1:9465").init();
    /// // … the pipeline runs; open http://127.0.0.1:9465/ meanwhile …
    /// drop(telemetry);
    /// ```
    pub fn dashboard(mut self, address: impl Into<String>) -> Self {
        self.dashboard = Some(address.into());
        self
    }

    /// When the built-in diagnoses fire (a stall, skew, a row explosion, a dominant
    /// operator; see [`Thresholds`] for each and its default) and how often the watcher
    /// thread checks. The diagnoses are in [`Snapshot::diagnoses`](crate::snapshot::Snapshot::diagnoses),
    /// the report, and one log record each ([`DIAGNOSIS_TARGET`](crate::diagnose::DIAGNOSIS_TARGET)).
    pub fn thresholds(mut self, thresholds: Thresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// How long dropping the [`Telemetry`] guard waits for the final export of every
    /// signal (default 5 s, the SDK's own limit). A collector that stalls delays the
    /// program's exit by at most this; what it has not taken by then is dropped, with one
    /// warning naming the signals.
    ///
    /// ```
    /// let _telemetry = pipetel::Config::new()
    ///     .shutdown_timeout(std::time::Duration::from_secs(1))
    ///     .init();
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Whether to export `process.memory.usage` and `process.cpu.time` with the metrics
    /// (default: yes). They are read at collection time, never per call. They need the
    /// `process-metrics` feature, which every exporting feature (`otlp-grpc`,
    /// `otlp-http`, `prometheus`) implies; without it there are none to turn on.
    pub fn process_metrics(mut self, on: bool) -> Self {
        self.process_metrics = on;
        self
    }

    /// Whether `init` makes the log exporter the global `tracing` subscriber when logs
    /// are exported (default: yes). Say no when the program sets its own subscriber, and
    /// add [`Telemetry::log_layer`] to it.
    pub fn install_log_subscriber(mut self, install: bool) -> Self {
        self.install_log_subscriber = install;
        self
    }

    /// Also sends the metrics to `exporter`, every `OTEL_METRIC_EXPORT_INTERVAL`, and
    /// collects them even when no OTLP endpoint is set. For tests, benchmarks and
    /// in-process consumers (for example `opentelemetry_sdk`'s `InMemoryMetricExporter`).
    pub fn with_metric_exporter(mut self, exporter: impl PushMetricExporter) -> Self {
        self.readers.push(metrics::periodic(exporter));
        self
    }

    /// Also sends run, step and user spans to `exporter` (through a batch processor), and
    /// records them even when no OTLP endpoint is set. For tests, benchmarks and
    /// in-process consumers (for example `opentelemetry_sdk`'s `InMemorySpanExporter`).
    pub fn with_span_exporter(mut self, exporter: impl SpanExporter + 'static) -> Self {
        self.span_exporters.push(traces::batched(exporter));
        self
    }

    /// Starts telemetry. Never panics: every problem becomes one warning on stderr and
    /// the program runs on with that part of telemetry off.
    ///
    /// Built without the `enabled` feature, it reads nothing, starts nothing and returns
    /// a guard that does nothing.
    pub fn init(self) -> Telemetry {
        if !cfg!(feature = "enabled") {
            return Telemetry::off();
        }
        let settings = EnvSettings::from_env();
        for warning in &settings.warnings {
            warn(format_args!("{warning}"));
        }
        let (parent, traceparent_warning) =
            propagation::read_environment(|name| settings.trace_context(name));
        if let Some(warning) = traceparent_warning {
            warn(format_args!("{warning}"));
        }
        let job = this_process::job_of(parent.as_ref());
        propagation::set_environment_parent(parent);
        // Built on a thread of its own: the HTTP exporter's blocking client must not be
        // created inside the caller's async runtime, if it has one.
        std::thread::scope(|scope| {
            match std::thread::Builder::new()
                .name("pipetel-init".into())
                .spawn_scoped(scope, move || self.start(settings, job))
            {
                Ok(handle) => handle.join().unwrap_or_else(|_| Telemetry::unclaimed_off()),
                Err(error) => {
                    warn(format_args!("cannot start telemetry: {error}"));
                    Telemetry::off()
                }
            }
        })
    }

    fn start(mut self, settings: EnvSettings, job: Option<String>) -> Telemetry {
        if !Telemetry::claim() {
            warn(format_args!(
                "pipetel is already running; this init() does nothing"
            ));
            return Telemetry::off();
        }
        let namespace = checked_namespace(self.namespace);
        registry::set_max_node_ids_per_type(self.max_node_ids_per_type);
        diagnoses::set_thresholds(self.thresholds);
        let resource = resource(self.service_name, settings.resource);
        this_process::set(&resource, job);
        let mut runtime = GrpcRuntime::default();

        let pipetel = &settings.pipetel;
        let prometheus_address = pipetel.prometheus_address.as_ref();
        let prometheus = prometheus_address.and_then(|address| {
            prometheus::start(address, pipetel.prometheus_linger)
                .map(|(reader, endpoint)| {
                    self.readers.push(reader);
                    endpoint
                })
                .map_err(|problem| warn(format_args!("{problem}")))
                .ok()
        });
        // `OTEL_SDK_DISABLED` turns everything off, the dashboard asked for in code too
        // (the environment's variables are already off).
        let dashboard_address = pipetel
            .dashboard_address
            .clone()
            .or(self.dashboard)
            .filter(|_| !settings.sdk_disabled);
        let dashboard = dashboard_address.and_then(|address| {
            dashboard::server::start(
                &address,
                pipetel.dashboard_linger,
                pipetel.snapshot_dir.clone(),
            )
            .map_err(|problem| warn(format_args!("{problem}")))
            .ok()
        });
        let metrics = metrics::start(
            settings.metrics.as_ref(),
            self.readers,
            &resource,
            &mut runtime,
            settings.metric_export_interval,
            &namespace,
            self.duration_unit,
        );
        let traces = traces::start(
            settings.traces.as_ref(),
            self.span_exporters,
            &resource,
            &mut runtime,
        );
        let logs = logs::start(settings.logs.as_ref(), &resource, &mut runtime);
        let report = pipetel.report.clone();
        let timeline =
            self.record_timeline || report.as_ref().is_some_and(ReportDestination::is_timeline);
        let snapshot_dir = pipetel.snapshot_dir.clone();
        let progress = progress::Mode::new(pipetel.progress);
        let local = !settings.sdk_disabled
            && (self.collect_locally
                || timeline
                || report.is_some()
                || snapshot_dir.is_some()
                || progress != progress::Mode::Off
                || dashboard.is_some());
        if metrics.is_none() && traces.is_none() && logs.is_none() && !local {
            runtime.shutdown();
            return Telemetry::unclaimed_off();
        }
        let instruments = metrics.as_ref().map(|metrics| {
            let meter = metrics.provider.meter(names::SCOPE);
            #[cfg(feature = "process-metrics")]
            if self.process_metrics {
                process_metrics::register(&meter);
            }
            PipelineInstruments::new(&meter, &namespace)
        });
        let pipelines = PipelineRecorder::new(
            traces.as_ref().map(|traces| &traces.provider),
            instruments,
            logs.is_some(),
        );
        Telemetry::on(Signals {
            metrics,
            traces,
            logs,
            install_log_subscriber: self.install_log_subscriber,
            local,
            report,
            timeline,
            snapshot_dir,
            progress,
            prometheus,
            dashboard,
            pipelines,
            runtime,
            shutdown_timeout: self.shutdown_timeout,
        })
    }
}

/// The namespace if it makes valid instrument names, otherwise the default (with a warning).
fn checked_namespace(namespace: String) -> String {
    let mut chars = namespace.chars();
    let valid = chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
        && namespace.len() <= 200;
    if valid {
        namespace
    } else {
        warn(format_args!(
            "Config::namespace({namespace:?}) is not a valid metric name prefix \
             (a letter, then letters, digits, `_`, `.`, `-` or `/`); using {:?}",
            names::DEFAULT_NAMESPACE
        ));
        names::DEFAULT_NAMESPACE.to_owned()
    }
}

/// The resource: the SDK's detectors (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
/// telemetry.sdk.*), the configured default service name when the environment has none,
/// and a random `service.instance.id` (one per process) unless the environment sets one.
fn resource(default_service_name: Option<String>, environment: ResourceSettings) -> Resource {
    let mut builder = Resource::builder();
    if let Some(name) = default_service_name.filter(|_| !environment.names_service) {
        builder = builder.with_service_name(name);
    }
    if !environment.sets_instance_id {
        builder = builder.with_attribute(KeyValue::new(
            "service.instance.id",
            uuid::Uuid::new_v4().to_string(),
        ));
    }
    builder.build()
}
