//! Metrics at export time: the OpenTelemetry meter provider, with the OTLP metric
//! exporter and any other reader; `operator_metrics` turns the counters into data points,
//! `call_distributions` the per-call buckets into histograms and the shares into skew,
//! `progress_gauges` the estimates into gauges.
//!
//! The provider's periodic reader runs on its own thread (the SDK's), every
//! `OTEL_METRIC_EXPORT_INTERVAL`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
#[cfg(feature = "otlp")]
use opentelemetry_otlp::{MetricExporter, WithExportConfig as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    MeterProviderBuilder, PeriodicReader, SdkMeterProvider, Temporality,
};
use opentelemetry_sdk::Resource;

use crate::env::SignalExport;
use crate::export::call_distributions;
use crate::export::cardinality::{self, OverflowWatch};
use crate::export::exporter::{self, Reporting};
use crate::export::grpc_runtime::GrpcRuntime;
use crate::export::memory_metrics;
use crate::export::operator_metrics;
use crate::export::progress_gauges;
use crate::export::signal::{self, AddTo, SignalPipeline};
use crate::names::{self, DurationUnit};
use crate::warn::RateLimited;

/// A running metrics pipeline.
pub(crate) type MetricsPipeline = SignalPipeline<SdkMeterProvider>;

/// Adds one reader (with its exporter) to a provider being built.
pub(crate) type AddReader =
    Box<dyn FnOnce(MeterProviderBuilder, Duration) -> MeterProviderBuilder + Send>;

/// A reader hook exporting to `exporter` every interval, watched for the SDK's overflow.
pub(crate) fn periodic<E: PushMetricExporter>(exporter: E) -> AddReader {
    Box::new(move |builder, interval| {
        builder.with_reader(
            PeriodicReader::builder(OverflowWatch::new(exporter))
                .with_interval(interval)
                .build(),
        )
    })
}

/// Starts the meter provider with the OTLP exporter of `target` (when given and it can be
/// built; otherwise a warning) and the `extra` readers, collecting every `interval`, and
/// registers the operator instruments under `namespace`; `None` when there is no reader.
pub(crate) fn start(
    target: Option<&SignalExport>,
    extra: Vec<AddReader>,
    resource: &Resource,
    runtime: &mut GrpcRuntime,
    interval: Duration,
    namespace: &str,
    duration_unit: DurationUnit,
) -> Option<MetricsPipeline> {
    let every_interval = |add: AddReader| -> AddTo<MeterProviderBuilder> {
        Box::new(move |builder| add(builder, interval))
    };
    let metrics = signal::start_signal(
        target,
        extra.into_iter().map(every_interval).collect(),
        |target, failures| otlp_reader(target, failures, runtime).map(every_interval),
        SdkMeterProvider::builder()
            .with_resource(resource.clone())
            .with_view(cardinality::view),
        MeterProviderBuilder::build,
    )?;
    let meter = metrics.provider.meter(names::SCOPE);
    let distributions = Mutex::new(call_distributions::register(&meter, namespace));
    operator_metrics::register(&meter, namespace, duration_unit, move |shares| {
        distributions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .collect(shares);
    });
    progress_gauges::register(&meter, namespace);
    memory_metrics::register(&meter, namespace);
    Some(metrics)
}

impl<E: PushMetricExporter> PushMetricExporter for Reporting<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        self.report(self.inner.export(metrics).await)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

/// The periodic reader of the OTLP metric exporter of `target`.
#[cfg(feature = "otlp")]
fn otlp_reader(
    target: &SignalExport,
    failures: Arc<RateLimited>,
    runtime: &mut GrpcRuntime,
) -> Result<AddReader, String> {
    Ok(periodic(exporter::build_exporter!(
        MetricExporter::builder().with_temporality(Temporality::Cumulative),
        target,
        runtime,
        failures
    )))
}

/// Without an OTLP transport: why there is no OTLP metric exporter.
#[cfg(not(feature = "otlp"))]
fn otlp_reader(
    target: &SignalExport,
    _failures: Arc<RateLimited>,
    _runtime: &mut GrpcRuntime,
) -> Result<AddReader, String> {
    Err(exporter::transport_missing(target))
}
