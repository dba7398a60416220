//! Traces at export time: the tracer provider with a batch span processor (its own
//! thread, a bounded queue — `OTEL_BSP_*` — that drops rather than blocks) and the OTLP
//! span exporter. The sampler is the SDK's, from `OTEL_TRACES_SAMPLER`; pipetel never
//! overrides it.

use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "otlp")]
use opentelemetry_otlp::{SpanExporter as OtlpSpanExporter, WithExportConfig as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter, TracerProviderBuilder};
use opentelemetry_sdk::Resource;

use crate::env::SignalExport;
use crate::export::exporter::{self, Reporting};
use crate::export::grpc_runtime::GrpcRuntime;
use crate::export::signal::{self, AddTo, SignalPipeline};
use crate::warn::RateLimited;

/// A running trace pipeline.
pub(crate) type TracesPipeline = SignalPipeline<SdkTracerProvider>;

/// Adds one span exporter (with its batch processor) to a provider being built.
pub(crate) type AddSpanExporter = AddTo<TracerProviderBuilder>;

/// A hook exporting spans to `exporter` through a batch processor.
pub(crate) fn batched<E: SpanExporter + 'static>(exporter: E) -> AddSpanExporter {
    Box::new(move |builder| builder.with_batch_exporter(exporter))
}

/// Starts the tracer provider with the OTLP exporter of `target` (when given and it can
/// be built; otherwise a warning) and the `extra` exporters; `None` when there is none.
pub(crate) fn start(
    target: Option<&SignalExport>,
    extra: Vec<AddSpanExporter>,
    resource: &Resource,
    runtime: &mut GrpcRuntime,
) -> Option<TracesPipeline> {
    signal::start_signal(
        target,
        extra,
        |target, failures| otlp_exporter(target, failures, runtime),
        SdkTracerProvider::builder().with_resource(resource.clone()),
        TracerProviderBuilder::build,
    )
}

impl<E: SpanExporter> SpanExporter for Reporting<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.report(self.inner.export(batch).await)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The OTLP span exporter of `target`, batched.
#[cfg(feature = "otlp")]
fn otlp_exporter(
    target: &SignalExport,
    failures: Arc<RateLimited>,
    runtime: &mut GrpcRuntime,
) -> Result<AddSpanExporter, String> {
    Ok(batched(exporter::build_exporter!(
        OtlpSpanExporter::builder(),
        target,
        runtime,
        failures
    )))
}

/// Without an OTLP transport: why there is no OTLP span exporter.
#[cfg(not(feature = "otlp"))]
fn otlp_exporter(
    target: &SignalExport,
    _failures: Arc<RateLimited>,
    _runtime: &mut GrpcRuntime,
) -> Result<AddSpanExporter, String> {
    Err(exporter::transport_missing(target))
}
