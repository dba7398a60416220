//! In-process collection through the SDK's in-memory exporter: telemetry started once
//! per process, read back as totals.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use pipetel::{Config, Telemetry};

static STARTED: OnceLock<(Telemetry, InMemoryMetricExporter)> = OnceLock::new();

/// Starts telemetry (once) with `config` and an in-memory exporter.
pub fn start(config: impl FnOnce() -> Config) {
    STARTED.get_or_init(|| {
        let exporter = InMemoryMetricExporter::default();
        let telemetry = config().with_metric_exporter(exporter.clone()).init();
        assert!(telemetry.is_enabled());
        (telemetry, exporter)
    });
}

/// Exports now and returns `(metric suffix, node.id) → value` for one node type
/// (`duration` in microseconds).
pub fn totals(node_type: &str) -> BTreeMap<(String, String), i64> {
    let (telemetry, exporter) = STARTED.get().expect("in_memory::start first");
    telemetry.flush();
    let finished = exporter.get_finished_metrics().expect("metrics");
    let mut totals = BTreeMap::new();
    let Some(last) = finished.last() else {
        return totals;
    };
    for scope in last.scope_metrics() {
        for metric in scope.metrics() {
            let suffix = metric.name().trim_start_matches("pipetel.").to_owned();
            let mut add = |attributes: BTreeMap<String, String>, value: i64| {
                if attributes.get("node.type").map(String::as_str) == Some(node_type) {
                    totals.insert((suffix.clone(), attributes["node.id"].clone()), value);
                }
            };
            let text = |kv: &opentelemetry::KeyValue| (kv.key.to_string(), kv.value.to_string());
            match metric.data() {
                AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                    for point in sum.data_points() {
                        add(point.attributes().map(text).collect(), point.value() as i64);
                    }
                }
                // `duration`, in seconds on the wire: kept here in whole microseconds, as
                // integers are compared exactly and times against microsecond clocks.
                AggregatedMetrics::F64(MetricData::Sum(sum)) => {
                    for point in sum.data_points() {
                        let micros = (point.value() * 1e6).round() as i64;
                        add(point.attributes().map(text).collect(), micros);
                    }
                }
                AggregatedMetrics::I64(MetricData::Sum(sum)) => {
                    for point in sum.data_points() {
                        add(point.attributes().map(text).collect(), point.value());
                    }
                }
                _ => {}
            }
        }
    }
    totals
}

/// One counter of one node from [`totals`].
pub fn total(totals: &BTreeMap<(String, String), i64>, metric: &str, node_id: &str) -> i64 {
    totals
        .get(&(metric.to_owned(), node_id.to_owned()))
        .copied()
        .unwrap_or_else(|| panic!("no {metric} for node.id {node_id}: {totals:?}"))
}

/// Exports now and returns the points of the `f64` gauge `name`: each point's
/// attributes, as text, and its value.
pub fn gauge_points(name: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    let (telemetry, exporter) = STARTED.get().expect("in_memory::start first");
    telemetry.flush();
    let finished = exporter.get_finished_metrics().expect("metrics");
    let mut points = Vec::new();
    for scope in finished
        .last()
        .into_iter()
        .flat_map(|last| last.scope_metrics())
    {
        for metric in scope.metrics().filter(|metric| metric.name() == name) {
            if let AggregatedMetrics::F64(MetricData::Gauge(gauge)) = metric.data() {
                for point in gauge.data_points() {
                    let attributes = point
                        .attributes()
                        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                        .collect();
                    points.push((attributes, point.value()));
                }
            }
        }
    }
    points
}
