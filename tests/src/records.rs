//! What arrived, as the tests compare it: spans, log records, sum and histogram points,
//! with attributes as text.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;

/// One span as the tests compare it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRecord {
    /// Span name.
    pub name: String,
    /// Trace id, hex.
    pub trace_id: String,
    /// Span id, hex.
    pub span_id: String,
    /// Parent span id, hex (empty for a root span).
    pub parent_span_id: String,
    /// Attributes as text.
    pub attributes: BTreeMap<String, String>,
    /// Status code: 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    /// Status message.
    pub status_message: String,
    /// Events: name and attributes.
    pub events: Vec<(String, BTreeMap<String, String>)>,
    /// The resource's attributes.
    pub resource: BTreeMap<String, String>,
    /// The instrumentation scope's name.
    pub scope: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every span of a request.
pub fn spans(request: &ExportTraceServiceRequest) -> Vec<SpanRecord> {
    let mut spans = Vec::new();
    for resource_spans in &request.resource_spans {
        let resource = resource_spans
            .resource
            .as_ref()
            .map(|resource| attributes(&resource.attributes))
            .unwrap_or_default();
        for scope_spans in &resource_spans.scope_spans {
            let scope = scope_spans
                .scope
                .as_ref()
                .map(|scope| scope.name.clone())
                .unwrap_or_default();
            for span in &scope_spans.spans {
                let status = span.status.clone().unwrap_or_default();
                spans.push(SpanRecord {
                    name: span.name.clone(),
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    attributes: attributes(&span.attributes),
                    status_code: status.code,
                    status_message: status.message,
                    events: span
                        .events
                        .iter()
                        .map(|e| (e.name.clone(), attributes(&e.attributes)))
                        .collect(),
                    resource: resource.clone(),
                    scope: scope.clone(),
                });
            }
        }
    }
    spans
}

/// One log record as the tests compare it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// The body, as text.
    pub body: String,
    /// Severity text.
    pub severity: String,
    /// Trace id, hex (empty when none).
    pub trace_id: String,
    /// Span id, hex (empty when none).
    pub span_id: String,
    /// Attributes as text.
    pub attributes: BTreeMap<String, String>,
}

/// Every log record of a request.
pub fn log_records(request: &ExportLogsServiceRequest) -> Vec<LogRecord> {
    let mut records = Vec::new();
    for resource_logs in &request.resource_logs {
        for scope_logs in &resource_logs.scope_logs {
            for record in &scope_logs.log_records {
                records.push(LogRecord {
                    body: text_of(&record.body),
                    severity: record.severity_text.clone(),
                    trace_id: hex(&record.trace_id),
                    span_id: hex(&record.span_id),
                    attributes: attributes(&record.attributes),
                });
            }
        }
    }
    records
}

/// One data point as the tests compare it: the metric, its `node.id` / `node.type`, the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Metric name.
    pub name: String,
    /// Metric unit.
    pub unit: String,
    /// Every attribute of the point, as text.
    pub attributes: BTreeMap<String, String>,
    /// The value, truncated to an integer.
    pub value: i64,
    /// The value as sent (an integer point's value, converted).
    pub real: f64,
    /// Whether the metric is a monotonic cumulative sum.
    pub monotonic: bool,
}

fn text_of(value: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(text)) => text.clone(),
        Some(Value::IntValue(int)) => int.to_string(),
        Some(Value::BoolValue(flag)) => flag.to_string(),
        Some(Value::DoubleValue(double)) => double.to_string(),
        Some(Value::ArrayValue(array)) => {
            let items: Vec<String> = array
                .values
                .iter()
                .map(|v| text_of(&Some(v.clone())))
                .collect();
            format!("[{}]", items.join("|"))
        }
        other => format!("{other:?}"),
    }
}

/// Attributes as a sorted map of text.
pub fn attributes(list: &[KeyValue]) -> BTreeMap<String, String> {
    list.iter()
        .map(|kv| (kv.key.clone(), text_of(&kv.value)))
        .collect()
}

/// Every sum and gauge point of a request (a gauge's is not monotonic).
pub fn points(request: &ExportMetricsServiceRequest) -> Vec<Point> {
    let mut points = Vec::new();
    for resource in &request.resource_metrics {
        for scope in &resource.scope_metrics {
            for metric in &scope.metrics {
                let (data_points, monotonic) = match &metric.data {
                    Some(Data::Sum(sum)) => (&sum.data_points, sum.is_monotonic),
                    Some(Data::Gauge(gauge)) => (&gauge.data_points, false),
                    _ => continue,
                };
                for point in data_points {
                    let real = match point.value {
                        Some(number_data_point::Value::AsInt(int)) => int as f64,
                        Some(number_data_point::Value::AsDouble(double)) => double,
                        None => continue,
                    };
                    points.push(Point {
                        name: metric.name.clone(),
                        unit: metric.unit.clone(),
                        attributes: attributes(&point.attributes),
                        value: real as i64,
                        real,
                        monotonic,
                    });
                }
            }
        }
    }
    points
}

/// The resource attributes of a request's first resource.
pub fn resource_attributes(request: &ExportMetricsServiceRequest) -> BTreeMap<String, String> {
    request
        .resource_metrics
        .first()
        .and_then(|resource| resource.resource.as_ref())
        .map(|resource| attributes(&resource.attributes))
        .unwrap_or_default()
}

/// One histogram point as the tests compare it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramPoint {
    /// Metric name.
    pub name: String,
    /// Metric unit.
    pub unit: String,
    /// Attributes as text.
    pub attributes: BTreeMap<String, String>,
    /// How many values were recorded.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
}

/// Every histogram point of a request.
pub fn histograms(request: &ExportMetricsServiceRequest) -> Vec<HistogramPoint> {
    let mut found = Vec::new();
    for resource in &request.resource_metrics {
        for scope in &resource.scope_metrics {
            for metric in &scope.metrics {
                let Some(Data::Histogram(histogram)) = &metric.data else {
                    continue;
                };
                for point in &histogram.data_points {
                    found.push(HistogramPoint {
                        name: metric.name.clone(),
                        unit: metric.unit.clone(),
                        attributes: attributes(&point.attributes),
                        count: point.count,
                        sum: point.sum.unwrap_or_default(),
                    });
                }
            }
        }
    }
    found
}
