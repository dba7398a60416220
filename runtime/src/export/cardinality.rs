//! The OpenTelemetry SDK's cardinality limit, set deliberately and watched.
//!
//! The SDK keeps at most a limit of attribute sets per metric (2,000 unless a view says
//! otherwise) and folds the rest into one point with `otel.metric.overflow = true`.
//! pipetel's own instruments get a view raising the limit to [`SDK_LIMIT`], above every
//! series pipetel can count (`MAX_OPERATOR_SERIES` plus the `other` series), so none is
//! folded; and every push exporter is wrapped in [`OverflowWatch`], which warns once per
//! metric that still overflows (a user's instrument from [`meter`](crate::otel::meter), or
//! steps past the limit), so nothing counted vanishes from an export unsaid.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{Instrument, Stream, Temporality};

use crate::counters::table::MAX_SERIES;
use crate::names;
use crate::warn::warn;

/// The cardinality limit of pipetel's instruments: as many attribute sets as pipetel's
/// tables have series.
pub(crate) const SDK_LIMIT: usize = MAX_SERIES;

/// The SDK's limit for instruments no view changes.
pub(crate) const SDK_DEFAULT_LIMIT: usize = 2000;

/// The attribute the SDK puts on the point holding what went past the limit.
const OVERFLOW_ATTRIBUTE: &str = "otel.metric.overflow";

/// The view giving pipetel's instruments [`SDK_LIMIT`]; other instruments keep theirs.
pub(crate) fn view(instrument: &Instrument) -> Option<Stream> {
    (instrument.scope().name() == names::SCOPE)
        .then(|| {
            Stream::builder()
                .with_cardinality_limit(SDK_LIMIT)
                .build()
                .ok()
        })
        .flatten()
}

/// A push exporter that warns, once per metric, when an export carries the SDK's
/// overflow point.
pub(crate) struct OverflowWatch<E> {
    inner: E,
    warned: Mutex<HashSet<String>>,
}

impl<E> OverflowWatch<E> {
    pub(crate) fn new(inner: E) -> Self {
        OverflowWatch {
            inner,
            warned: Mutex::new(HashSet::new()),
        }
    }

    fn check(&self, metrics: &ResourceMetrics) {
        for scope in metrics.scope_metrics() {
            for metric in scope.metrics() {
                if !overflowed(metric.data()) {
                    continue;
                }
                let mut warned = self
                    .warned
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if warned.insert(metric.name().to_owned()) {
                    let limit = if scope.scope().name() == names::SCOPE {
                        SDK_LIMIT
                    } else {
                        SDK_DEFAULT_LIMIT
                    };
                    warn(format_args!(
                        "metric {:?} (scope {:?}) has more attribute sets than the OpenTelemetry \
                         SDK's cardinality limit ({limit} unless a view sets another); the rest \
                         are exported together as one point with {OVERFLOW_ATTRIBUTE}=true",
                        metric.name(),
                        scope.scope().name(),
                    ));
                }
            }
        }
    }
}

/// Whether any point of `data` is the overflow point.
fn overflowed(data: &AggregatedMetrics) -> bool {
    match data {
        AggregatedMetrics::F64(data) => has_overflow_point(data),
        AggregatedMetrics::U64(data) => has_overflow_point(data),
        AggregatedMetrics::I64(data) => has_overflow_point(data),
    }
}

fn has_overflow_point<T>(data: &MetricData<T>) -> bool {
    match data {
        MetricData::Gauge(gauge) => gauge
            .data_points()
            .any(|point| is_overflow(point.attributes())),
        MetricData::Sum(sum) => sum
            .data_points()
            .any(|point| is_overflow(point.attributes())),
        MetricData::Histogram(histogram) => histogram
            .data_points()
            .any(|point| is_overflow(point.attributes())),
        MetricData::ExponentialHistogram(histogram) => histogram
            .data_points()
            .any(|point| is_overflow(point.attributes())),
    }
}

fn is_overflow<'a>(mut attributes: impl Iterator<Item = &'a KeyValue>) -> bool {
    attributes.any(|kv| kv.key.as_str() == OVERFLOW_ATTRIBUTE)
}

impl<E: PushMetricExporter> PushMetricExporter for OverflowWatch<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        self.check(metrics);
        self.inner.export(metrics).await
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
