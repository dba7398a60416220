//! OpenTelemetry export: the OTLP signals, TLS, process metrics, the Prometheus endpoint
//! and custom instruments.

pub(crate) mod call_distributions;
pub(crate) mod cardinality;
pub(crate) mod custom_instruments;
pub(crate) mod exporter;
pub(crate) mod grpc_runtime;
pub(crate) mod line_logs;
pub(crate) mod log_layer;
pub(crate) mod logs;
pub(crate) mod memory_metrics;
pub(crate) mod metrics;
pub(crate) mod operator_metrics;
#[cfg(feature = "process-metrics")]
pub(crate) mod process_metrics;
pub(crate) mod progress_gauges;
pub(crate) mod prometheus;
pub(crate) mod shutdown;
pub(crate) mod signal;
#[cfg(feature = "otlp")]
pub(crate) mod tls;
pub(crate) mod traces;
