//! The names of the `OTEL_*` variables pipetel decides on, and their defaults.

use std::time::Duration;

/// `OTEL_SDK_DISABLED`: `true` turns all telemetry off.
pub const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// `OTEL_METRICS_EXPORTER`: `none` turns metrics export off.
pub const OTEL_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// The endpoint of every signal (`http://host:4317` for gRPC, `http://host:4318` for HTTP).
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The endpoint of metrics, used as is (no `/v1/metrics` is appended).
pub const OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
/// The endpoint of traces.
pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// The endpoint of logs.
pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// The protocol of every signal: `grpc` (the default) or `http/protobuf`.
pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// The protocol of metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";
/// The protocol of traces.
pub const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// The protocol of logs.
pub const OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL";
/// `OTEL_METRIC_EXPORT_INTERVAL`: milliseconds between metric exports.
pub const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";

/// The metric export interval when `OTEL_METRIC_EXPORT_INTERVAL` is unset (as Daft).
pub const DEFAULT_METRIC_EXPORT_INTERVAL: Duration = Duration::from_millis(500);
