//! Metrics at export time: the OpenTelemetry meter provider, the OTLP metric exporter,
//! and the observable instruments whose callbacks turn the counters into data points.
//!
//! The provider's periodic reader runs on its own thread (the SDK's), every
//! `OTEL_METRIC_EXPORT_INTERVAL`. At each collection the callbacks read the series
//! labels and sum every thread's cells — the only place OpenTelemetry data is built.

use std::time::Duration;

use opentelemetry::metrics::{AsyncInstrument, Meter, MeterProvider as _};
use opentelemetry_otlp::{MetricExporter, WithExportConfig as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    MeterProviderBuilder, PeriodicReader, SdkMeterProvider, Temporality,
};
use opentelemetry_sdk::Resource;

use crate::counters::cells::Tally;
use crate::counters::registry;
use crate::counters::shards;
use crate::env::SignalExport;
use crate::export::exporter::{self, Reporting};
use crate::export::grpc_runtime::GrpcRuntime;
use crate::export::signal::{self, SignalPipeline};
use crate::names::{self, Instrument, MetricName};
use crate::operator::recording::ticks_to_nanos;

/// A running metrics pipeline.
pub(crate) type MetricsPipeline = SignalPipeline<SdkMeterProvider>;

/// Adds one reader (with its exporter) to a provider being built.
pub(crate) type AddReader =
    Box<dyn FnOnce(MeterProviderBuilder, Duration) -> MeterProviderBuilder + Send>;

/// A reader hook exporting to `exporter` every interval.
pub(crate) fn periodic<E: PushMetricExporter>(exporter: E) -> AddReader {
    Box::new(move |builder, interval| {
        builder.with_reader(
            PeriodicReader::builder(exporter)
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
) -> Option<MetricsPipeline> {
    let metrics = signal::start_signal(
        target,
        extra,
        |target, failures| {
            Ok(periodic(exporter::build_exporter!(
                MetricExporter::builder().with_temporality(Temporality::Cumulative),
                target,
                runtime,
                failures
            )))
        },
        |readers| {
            let builder = SdkMeterProvider::builder().with_resource(resource.clone());
            readers
                .into_iter()
                .fold(builder, |builder, add| add(builder, interval))
                .build()
        },
    )?;
    register_operator_instruments(&metrics.provider.meter(names::SCOPE), namespace);
    Some(metrics)
}

/// One observable instrument per operator tally.
fn register_operator_instruments(meter: &Meter, namespace: &str) {
    for tally in Tally::ALL {
        let metric = tally.metric();
        let name = names::full_name(namespace, &metric);
        let MetricName {
            unit, description, ..
        } = metric;
        match metric.instrument {
            Instrument::UpDownCounter => {
                meter
                    .i64_observable_up_down_counter(name)
                    .with_unit(unit)
                    .with_description(description)
                    .with_callback(move |observer| observe(observer, tally, |sum| sum as i64))
                    .build();
            }
            // No tally is a histogram (checked at compile time beside the tallies).
            Instrument::Counter | Instrument::Histogram => {
                meter
                    .u64_observable_counter(name)
                    .with_unit(unit)
                    .with_description(description)
                    .with_callback(move |observer| observe(observer, tally, exported_value(tally)))
                    .build();
            }
        }
    }
}

/// How a tally's raw sum becomes its exported value.
fn exported_value(tally: Tally) -> fn(u64) -> u64 {
    match tally {
        Tally::BusyTicks => |ticks| ticks_to_nanos(ticks) / 1_000,
        _ => |sum| sum,
    }
}

fn observe<T>(observer: &dyn AsyncInstrument<T>, tally: Tally, value: impl Fn(u64) -> T) {
    registry::with_labels(|labels| {
        let totals = shards::sums(tally, labels.len());
        for (labels, total) in labels.iter().zip(totals) {
            observer.observe(value(total), &labels.attributes);
        }
    });
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
