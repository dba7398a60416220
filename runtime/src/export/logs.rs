//! Logs at export time: `tracing` events become OTLP log records. A logger provider with
//! a batch processor (its own thread, bounded queue) and the OTLP log exporter; the
//! tracing bridge layer from `opentelemetry-appender-tracing`; and an enriching processor
//! that, on the emitting thread, adds `node.id` / `node.type` of the operator running
//! there and `pipeline.name` / `step` of the current run and step. The SDK adds the
//! trace and span ids of the current span.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::logs::LogRecord as _;
use opentelemetry::InstrumentationScope;
#[cfg(feature = "otlp")]
use opentelemetry_otlp::{LogExporter, WithExportConfig as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{
    BatchLogProcessor, LogBatch, LogProcessor, LoggerProviderBuilder, SdkLogRecord,
    SdkLoggerProvider,
};
use opentelemetry_sdk::Resource;

use crate::env::SignalExport;
use crate::export::exporter::{self, Reporting};
use crate::export::grpc_runtime::GrpcRuntime;
use crate::export::signal::{self, AddTo, SignalPipeline};
use crate::names;
use crate::pipeline::spans::{current_run, current_step_name};
use crate::warn::RateLimited;

/// A running log pipeline.
pub(crate) type LogsPipeline = SignalPipeline<SdkLoggerProvider>;

/// Adds one log exporter (behind the enriching processor and a batch processor) to a
/// provider being built.
pub(crate) type AddLogExporter = AddTo<LoggerProviderBuilder>;

/// A hook exporting log records to `exporter`, enriched, through a batch processor.
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
fn batched<E: opentelemetry_sdk::logs::LogExporter + 'static>(exporter: E) -> AddLogExporter {
    Box::new(move |builder| {
        builder.with_log_processor(Enriching(BatchLogProcessor::builder(exporter).build()))
    })
}

/// Starts the logger provider with the OTLP exporter of `target` (when given and it can
/// be built; otherwise a warning); `None` when there is none.
pub(crate) fn start(
    target: Option<&SignalExport>,
    resource: &Resource,
    runtime: &mut GrpcRuntime,
) -> Option<LogsPipeline> {
    signal::start_signal(
        target,
        Vec::new(),
        |target, failures| otlp_exporter(target, failures, runtime),
        SdkLoggerProvider::builder().with_resource(resource.clone()),
        LoggerProviderBuilder::build,
    )
}

/// Adds the operator and pipeline a record was emitted in, then hands it on.
#[derive(Debug)]
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
struct Enriching<P>(P);

impl<P: LogProcessor> LogProcessor for Enriching<P> {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        if let Some([node_id, node_type]) = crate::operator::current::current_operator_labels() {
            record.add_attribute(node_id.key, node_id.value.to_string());
            record.add_attribute(node_type.key, node_type.value.to_string());
        }
        if let Some(run) = current_run() {
            record.add_attribute(names::PIPELINE_NAME, run.pipeline);
        }
        if let Some(step) = current_step_name() {
            record.add_attribute(names::STEP, step);
        }
        self.0.emit(record, scope);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

impl<E: opentelemetry_sdk::logs::LogExporter> opentelemetry_sdk::logs::LogExporter
    for Reporting<E>
{
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        self.report(self.inner.export(batch).await)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The OTLP log exporter of `target`, batched.
#[cfg(feature = "otlp")]
fn otlp_exporter(
    target: &SignalExport,
    failures: Arc<RateLimited>,
    runtime: &mut GrpcRuntime,
) -> Result<AddLogExporter, String> {
    Ok(batched(exporter::build_exporter!(
        LogExporter::builder(),
        target,
        runtime,
        failures
    )))
}

/// Without an OTLP transport: why there is no OTLP log exporter.
#[cfg(not(feature = "otlp"))]
fn otlp_exporter(
    target: &SignalExport,
    _failures: Arc<RateLimited>,
    _runtime: &mut GrpcRuntime,
) -> Result<AddLogExporter, String> {
    Err(exporter::transport_missing(target))
}
