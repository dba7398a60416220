//! The names of the `OTEL_*` variables pipetel decides on, and their defaults.

use std::time::Duration;

/// `OTEL_SDK_DISABLED`: `true` turns all telemetry off.
pub(crate) const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// `OTEL_METRICS_EXPORTER`: `none` turns metrics export off.
pub(crate) const OTEL_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// The endpoint of every signal (`http://host:4317` for gRPC, `http://host:4318` for HTTP).
pub(crate) const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The endpoint of metrics, used as is (no `/v1/metrics` is appended).
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
/// The endpoint of traces.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// The endpoint of logs.
pub(crate) const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// The protocol of every signal: `grpc` (the default) or `http/protobuf`.
pub(crate) const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// The protocol of metrics.
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";
/// The protocol of traces.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// The protocol of logs.
pub(crate) const OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL";
/// `OTEL_METRIC_EXPORT_INTERVAL`: milliseconds between metric exports.
pub(crate) const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";

/// The metric export interval when `OTEL_METRIC_EXPORT_INTERVAL` is unset (as Daft).
pub(crate) const DEFAULT_METRIC_EXPORT_INTERVAL: Duration = Duration::from_millis(500);
/// `OTEL_SERVICE_NAME`: the `service.name` of the resource.
pub(crate) const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// `OTEL_RESOURCE_ATTRIBUTES`: more resource attributes, `key=value,…`.
pub(crate) const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";

/// `PIPETEL_REPORT`: where the report goes when telemetry stops.
pub(crate) const PIPETEL_REPORT: &str = "PIPETEL_REPORT";
/// `PIPETEL_SNAPSHOT_DIR`: the directory each process of a job writes its snapshot to.
pub(crate) const PIPETEL_SNAPSHOT_DIR: &str = "PIPETEL_SNAPSHOT_DIR";
/// `PIPETEL_PROGRESS`: progress lines forced on or off.
pub(crate) const PIPETEL_PROGRESS: &str = "PIPETEL_PROGRESS";
/// `PIPETEL_DASHBOARD_ADDR`: where to serve the live dashboard.
pub(crate) const PIPETEL_DASHBOARD_ADDR: &str = "PIPETEL_DASHBOARD_ADDR";
/// `PIPETEL_DASHBOARD_LINGER`: how long the dashboard stays up at exit for a page to
/// fetch the final figures.
pub(crate) const PIPETEL_DASHBOARD_LINGER: &str = "PIPETEL_DASHBOARD_LINGER";
/// Where the dashboard is served when `PIPETEL_DASHBOARD_ADDR` is only switched on.
pub(crate) const DEFAULT_DASHBOARD_ADDR: &str = "127.0.0.1:9465";
/// `PIPETEL_PROMETHEUS_ADDR`: where to serve `/metrics`.
pub(crate) const PIPETEL_PROMETHEUS_ADDR: &str = "PIPETEL_PROMETHEUS_ADDR";
/// `PIPETEL_PROMETHEUS_LINGER`: how long `/metrics` stays up at exit for a final scrape.
pub(crate) const PIPETEL_PROMETHEUS_LINGER: &str = "PIPETEL_PROMETHEUS_LINGER";
/// Where `/metrics` is served when `PIPETEL_PROMETHEUS_ADDR` is only switched on.
pub(crate) const DEFAULT_PROMETHEUS_ADDR: &str = "127.0.0.1:9464";

/// The environment variables that carry the caller's W3C trace context, and the header
/// each stands for.
pub(crate) const TRACE_CONTEXT_CARRIERS: [(&str, &str); 3] = [
    ("TRACEPARENT", "traceparent"),
    ("TRACESTATE", "tracestate"),
    ("BAGGAGE", "baggage"),
];
