//! Metrics at export time: the OpenTelemetry meter provider, the OTLP metric exporter,
//! and the observable instruments whose callbacks turn the counters into data points.
//!
//! The provider's periodic reader runs on its own thread (the SDK's), every
//! `OTEL_METRIC_EXPORT_INTERVAL`. At each collection the callbacks read the series
//! labels and the sums of every thread's cells (one pass, shared by all instruments) —
//! the only place OpenTelemetry data is built.

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
use crate::counters::collection;
use crate::counters::registry;
use crate::counters::sums::{SeriesSums, Sums};
use crate::env::SignalExport;
use crate::export::cardinality::{self, OverflowWatch};
use crate::export::exporter::{self, Reporting};
use crate::export::grpc_runtime::GrpcRuntime;
use crate::export::signal::{self, AddTo, SignalPipeline};
use crate::names::{self, DurationUnit, Instrument, MetricName};
use crate::operator::clock::ticks_to_nanos;

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
        |target, failures| {
            Ok(every_interval(periodic(exporter::build_exporter!(
                MetricExporter::builder().with_temporality(Temporality::Cumulative),
                target,
                runtime,
                failures
            ))))
        },
        SdkMeterProvider::builder()
            .with_resource(resource.clone())
            .with_view(cardinality::view),
        MeterProviderBuilder::build,
    )?;
    register_operator_instruments(
        &metrics.provider.meter(names::SCOPE),
        namespace,
        duration_unit,
    );
    Some(metrics)
}

/// How an operator metric's value follows from the sums of its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// The tally's sum over every thread.
    Sum(Tally),
    /// The sum of busy ticks, in seconds.
    Seconds(Tally),
    /// The sum of busy ticks, in whole microseconds.
    Micros(Tally),
    /// Calls running now: those started less those that ended.
    Active,
}

impl Value {
    /// The value of one series, as a float.
    fn real(self, sums: &SeriesSums) -> f64 {
        match self {
            Value::Seconds(tally) => ticks_to_nanos(sums.get(tally)) as f64 / 1e9,
            Value::Sum(_) | Value::Micros(_) | Value::Active => self.whole(sums) as f64,
        }
    }

    /// The value of one series in its unit, rounded down to a whole number.
    fn whole(self, sums: &SeriesSums) -> u64 {
        match self {
            Value::Sum(tally) => sums.get(tally),
            Value::Seconds(tally) => ticks_to_nanos(sums.get(tally)) / 1_000_000_000,
            Value::Micros(tally) => ticks_to_nanos(sums.get(tally)) / 1_000,
            Value::Active => sums.active(),
        }
    }
}

/// Every operator metric and the value it exports: the one place a metric meets what it
/// counts. In the order of [`names::OPERATOR_METRICS`] (a test checks).
const OPERATOR_METRICS: [(MetricName, Value); 10] = [
    (names::ROWS_IN, Value::Sum(Tally::RowsIn)),
    (names::ROWS_OUT, Value::Sum(Tally::RowsOut)),
    (names::ROWS_WRITTEN, Value::Sum(Tally::RowsWritten)),
    (names::BYTES_READ, Value::Sum(Tally::BytesRead)),
    (names::BYTES_WRITTEN, Value::Sum(Tally::BytesWritten)),
    (names::DURATION, Value::Seconds(Tally::BusyTicks)),
    (names::TASK_ACTIVE, Value::Active),
    (names::TASK_COMPLETED, Value::Sum(Tally::Completed)),
    (names::TASK_FAILED, Value::Sum(Tally::Failed)),
    (names::TASK_CANCELLED, Value::Sum(Tally::Cancelled)),
];

/// Where `duration` sits in [`OPERATOR_METRICS`].
const DURATION_INDEX: usize = 5;

// Calls running now can go down (an up-down counter); every other value only goes up (a
// counter). No operator metric is a histogram. `duration` is where `DURATION_INDEX` says.
const _: () = {
    let mut index = 0;
    while index < OPERATOR_METRICS.len() {
        let (metric, value) = OPERATOR_METRICS[index];
        assert!(match value {
            Value::Active => matches!(metric.instrument, Instrument::UpDownCounter),
            Value::Sum(_) | Value::Micros(_) | Value::Seconds(_) =>
                matches!(metric.instrument, Instrument::Counter),
        });
        index += 1;
    }
    assert!(matches!(
        OPERATOR_METRICS[DURATION_INDEX].1,
        Value::Seconds(Tally::BusyTicks)
    ));
};

/// The operator metrics with `duration` in `unit`.
fn operator_metrics(unit: DurationUnit) -> [(MetricName, Value); 10] {
    let mut metrics = OPERATOR_METRICS;
    metrics[DURATION_INDEX] = match unit {
        DurationUnit::Seconds => (names::DURATION, Value::Seconds(Tally::BusyTicks)),
        DurationUnit::Microseconds => (
            names::DURATION_MICROSECONDS,
            Value::Micros(Tally::BusyTicks),
        ),
    };
    metrics
}

/// One observable instrument per operator metric. The first leads each collection: it
/// reads the sums every other one reuses (`counters::collection`).
fn register_operator_instruments(meter: &Meter, namespace: &str, unit: DurationUnit) {
    for (index, (metric, value)) in operator_metrics(unit).into_iter().enumerate() {
        let name = names::full_name(namespace, &metric);
        let MetricName {
            unit, description, ..
        } = metric;
        let sums = if index == 0 {
            collection::lead
        } else {
            collection::follow
        };
        match value {
            Value::Active => {
                meter
                    .i64_observable_up_down_counter(name)
                    .with_unit(unit)
                    .with_description(description)
                    .with_callback(move |observer| {
                        observe(observer, &sums(), |s| value.whole(s) as i64);
                    })
                    .build();
            }
            Value::Seconds(_) => {
                meter
                    .f64_observable_counter(name)
                    .with_unit(unit)
                    .with_description(description)
                    .with_callback(move |observer| {
                        observe(observer, &sums(), |s| value.real(s));
                    })
                    .build();
            }
            Value::Sum(_) | Value::Micros(_) => {
                meter
                    .u64_observable_counter(name)
                    .with_unit(unit)
                    .with_description(description)
                    .with_callback(move |observer| {
                        observe(observer, &sums(), |s| value.whole(s));
                    })
                    .build();
            }
        }
    }
}

/// Observes the value of every series in `sums`.
fn observe<T>(observer: &dyn AsyncInstrument<T>, sums: &Sums, value: impl Fn(&SeriesSums) -> T) {
    registry::with_labels(|labels| {
        for (labels, sums) in labels.iter().zip(sums.series()) {
            observer.observe(value(sums), &labels.attributes);
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

#[cfg(test)]
mod tests {
    use super::OPERATOR_METRICS;
    use crate::names;

    #[test]
    fn the_public_list_of_operator_metrics_is_the_export_tables() {
        assert_eq!(
            OPERATOR_METRICS.map(|(metric, _)| metric),
            names::OPERATOR_METRICS
        );
    }
}
