//! Test support: a real OTLP metrics receiver on 127.0.0.1 (gRPC with tonic, HTTP/protobuf
//! with axum) that decodes what arrives with the official `opentelemetry-proto` types,
//! and helpers to run an instrumented program as a child process and read its export.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use prost::Message;

pub mod faults;
pub mod tls;

/// What arrived: each request per signal, and the content encoding of each metrics
/// request (`identity` when none). A refusing receiver keeps nothing and counts the
/// exports it answered with an error.
#[derive(Clone, Default)]
struct Received {
    requests: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
    encodings: Arc<Mutex<Vec<String>>>,
    traces: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    logs: Arc<Mutex<Vec<ExportLogsServiceRequest>>>,
    refused: Option<Arc<AtomicUsize>>,
}

const REFUSAL: &str = "collector overloaded (test)";

impl Received {
    /// For a refusing receiver: counts the export and says how to answer it.
    fn refusal(&self) -> Option<tonic::Status> {
        let refused = self.refused.as_ref()?;
        refused.fetch_add(1, Ordering::Relaxed);
        Some(tonic::Status::unavailable(REFUSAL))
    }

    /// [`refusal`](Self::refusal) as an HTTP answer (503).
    fn http_refusal(&self) -> Result<(), HttpError> {
        match self.refusal() {
            Some(_) => Err((axum::http::StatusCode::SERVICE_UNAVAILABLE, REFUSAL.into())),
            None => Ok(()),
        }
    }

    fn push(&self, request: ExportMetricsServiceRequest, encoding: Option<&[u8]>) {
        let encoding = encoding.map_or("identity".into(), |e| {
            String::from_utf8_lossy(e).into_owned()
        });
        lock(&self.encodings).push(encoding);
        lock(&self.requests).push(request);
    }
}

/// An OTLP receiver for metrics, traces and logs, listening on two loopback ports until dropped.
pub struct Receiver {
    /// `http://127.0.0.1:<port>` of the gRPC server (`https://` with TLS).
    pub grpc_endpoint: String,
    /// `http://127.0.0.1:<port>` of the HTTP server (it serves `/v1/metrics`; `https://`
    /// with TLS).
    pub http_endpoint: String,
    received: Received,
    runtime: Option<tokio::runtime::Runtime>,
}

struct GrpcMetrics(Received);

#[tonic::async_trait]
impl MetricsService for GrpcMetrics {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        if let Some(status) = self.0.refusal() {
            return Err(status);
        }
        let encoding = request
            .metadata()
            .get("grpc-encoding")
            .map(|value| value.as_bytes().to_vec());
        self.0.push(request.into_inner(), encoding.as_deref());
        Ok(tonic::Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl TraceService for Received {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        if let Some(status) = self.refusal() {
            return Err(status);
        }
        lock(&self.traces).push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Received {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        if let Some(status) = self.refusal() {
            return Err(status);
        }
        lock(&self.logs).push(request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse {
            partial_success: None,
        }))
    }
}

type HttpError = (axum::http::StatusCode, String);
type HttpReply = Result<([(&'static str, &'static str); 1], Vec<u8>), HttpError>;

/// Decodes an OTLP/HTTP protobuf body, gzip or not.
fn decode<M: Message + Default>(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<M, HttpError> {
    let bad_request = |error: String| (axum::http::StatusCode::BAD_REQUEST, error);
    let gzip = headers
        .get("content-encoding")
        .is_some_and(|encoding| encoding.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let mut plain = Vec::new();
    let body = if gzip {
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut plain)
            .map_err(|error| bad_request(error.to_string()))?;
        &plain[..]
    } else {
        body
    };
    M::decode(body).map_err(|error| bad_request(error.to_string()))
}

fn protobuf_reply(response: impl Message) -> HttpReply {
    Ok((
        [("content-type", "application/x-protobuf")],
        response.encode_to_vec(),
    ))
}

async fn http_metrics(
    axum::extract::State(received): axum::extract::State<Received>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> HttpReply {
    received.http_refusal()?;
    let request = decode(&headers, &body)?;
    received.push(
        request,
        headers
            .get("content-encoding")
            .map(|value| value.as_bytes()),
    );
    protobuf_reply(ExportMetricsServiceResponse {
        partial_success: None,
    })
}

async fn http_traces(
    axum::extract::State(received): axum::extract::State<Received>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> HttpReply {
    received.http_refusal()?;
    lock(&received.traces).push(decode(&headers, &body)?);
    protobuf_reply(ExportTraceServiceResponse {
        partial_success: None,
    })
}

async fn http_logs(
    axum::extract::State(received): axum::extract::State<Received>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> HttpReply {
    received.http_refusal()?;
    lock(&received.logs).push(decode(&headers, &body)?);
    protobuf_reply(ExportLogsServiceResponse {
        partial_success: None,
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Receiver {
    /// Starts both servers on free loopback ports.
    pub fn start() -> Receiver {
        Receiver::start_with(None, Received::default())
    }

    /// Starts both servers answering every export with an error: gRPC `UNAVAILABLE`,
    /// HTTP 503. [`refused`](Self::refused) counts them.
    pub fn start_refusing() -> Receiver {
        Receiver::start_with(
            None,
            Received {
                refused: Some(Arc::default()),
                ..Received::default()
            },
        )
    }

    /// How many exports a refusing receiver answered with an error.
    pub fn refused(&self) -> usize {
        self.received
            .refused
            .as_ref()
            .map_or(0, |refused| refused.load(Ordering::Relaxed))
    }

    /// Starts both servers speaking TLS with `pki`'s server certificate (`https://`
    /// endpoints); with `require_client`, a client certificate from `pki`'s CA is
    /// required too.
    pub fn start_tls(pki: &tls::TestPki, require_client: bool) -> Receiver {
        Receiver::start_with(Some((pki, require_client)), Received::default())
    }

    fn start_with(tls: Option<(&tls::TestPki, bool)>, received: Received) -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("test runtime");
        let (grpc, http) = runtime.block_on(async {
            let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let grpc: SocketAddr = grpc_listener.local_addr().expect("addr");
            let http: SocketAddr = http_listener.local_addr().expect("addr");
            let service = MetricsServiceServer::new(GrpcMetrics(received.clone()))
                .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
            let gzip = tonic::codec::CompressionEncoding::Gzip;
            let mut server = tonic::transport::Server::builder();
            if let Some((pki, require_client)) = tls {
                let mut config = tonic::transport::ServerTlsConfig::new().identity(
                    tonic::transport::Identity::from_pem(&pki.server_certificate, &pki.server_key),
                );
                if require_client {
                    config =
                        config.client_ca_root(tonic::transport::Certificate::from_pem(&pki.ca));
                }
                server = server.tls_config(config).expect("gRPC TLS");
            }
            tokio::spawn(
                server
                    .add_service(service)
                    .add_service(TraceServiceServer::new(received.clone()).accept_compressed(gzip))
                    .add_service(LogsServiceServer::new(received.clone()).accept_compressed(gzip))
                    .serve_with_incoming(tonic::transport::server::TcpIncoming::from(
                        grpc_listener,
                    )),
            );
            let app = axum::Router::new()
                .route("/v1/metrics", axum::routing::post(http_metrics))
                .route("/custom/metrics", axum::routing::post(http_metrics))
                .route("/v1/traces", axum::routing::post(http_traces))
                .route("/v1/logs", axum::routing::post(http_logs))
                .with_state(received.clone());
            match tls {
                Some((pki, require_client)) => {
                    let listener =
                        tls::TlsListener::new(http_listener, pki.server_config(require_client));
                    tokio::spawn(async move { axum::serve(listener, app).await });
                }
                None => {
                    tokio::spawn(async move { axum::serve(http_listener, app).await });
                }
            }
            (grpc, http)
        });
        let scheme = if tls.is_some() { "https" } else { "http" };
        Receiver {
            grpc_endpoint: format!("{scheme}://{grpc}"),
            http_endpoint: format!("{scheme}://{http}"),
            received,
            runtime: Some(runtime),
        }
    }

    /// Every export request received so far.
    pub fn requests(&self) -> Vec<ExportMetricsServiceRequest> {
        lock(&self.received.requests).clone()
    }

    /// Waits (at most `timeout`) until `count` spans arrived; returns every span so far.
    pub fn wait_for_spans(&self, count: usize, timeout: Duration) -> Vec<SpanRecord> {
        let deadline = Instant::now() + timeout;
        loop {
            let spans: Vec<SpanRecord> =
                lock(&self.received.traces).iter().flat_map(spans).collect();
            if spans.len() >= count || Instant::now() >= deadline {
                return spans;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (at most `timeout`) until `count` log records arrived; returns all so far.
    pub fn wait_for_logs(&self, count: usize, timeout: Duration) -> Vec<LogRecord> {
        let deadline = Instant::now() + timeout;
        loop {
            let logs: Vec<LogRecord> = lock(&self.received.logs)
                .iter()
                .flat_map(log_records)
                .collect();
            if logs.len() >= count || Instant::now() >= deadline {
                return logs;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The content encoding of every request so far (`gzip`, or `identity` when none).
    pub fn encodings(&self) -> Vec<String> {
        lock(&self.received.encodings).clone()
    }

    /// Waits (at most `timeout`, polling) until at least `count` requests arrived.
    pub fn wait_for_requests(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Vec<ExportMetricsServiceRequest> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline && lock(&self.received.requests).len() < count {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.requests()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

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
    /// The value (integer points only).
    pub value: i64,
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

/// Every integer sum point of a request.
pub fn points(request: &ExportMetricsServiceRequest) -> Vec<Point> {
    let mut points = Vec::new();
    for resource in &request.resource_metrics {
        for scope in &resource.scope_metrics {
            for metric in &scope.metrics {
                let Some(Data::Sum(sum)) = &metric.data else {
                    continue;
                };
                for point in &sum.data_points {
                    let value = match point.value {
                        Some(number_data_point::Value::AsInt(int)) => int,
                        Some(number_data_point::Value::AsDouble(double)) => double as i64,
                        None => continue,
                    };
                    points.push(Point {
                        name: metric.name.clone(),
                        unit: metric.unit.clone(),
                        attributes: attributes(&point.attributes),
                        value,
                        monotonic: sum.is_monotonic,
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

/// Runs `program` with `args` and exactly the `OTEL_*` variables given (the test's own
/// `OTEL_*` and `PIPETEL_*` environment is removed), killing it after `timeout`.
pub fn run(program: &str, args: &[&str], env: &[(&str, &str)], timeout: Duration) -> Output {
    run_in(None, program, args, env, timeout)
}

/// [`run`] in the working directory `dir` (the test's own when `None`).
pub fn run_in(
    dir: Option<&std::path::Path>,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> Output {
    let mut command = Command::new(program);
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") || key.starts_with("PIPETEL_") || key == "TRACEPARENT" {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("start the instrumented program");
    let deadline = Instant::now() + timeout;
    loop {
        if child.try_wait().expect("wait").is_some() || Instant::now() >= deadline {
            let _ = child.kill();
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `endpoint` as pipetel shows it: the password of `scheme://user:password@host`
/// replaced by `***`.
pub fn redacted(endpoint: &str) -> String {
    match endpoint.split_once("://").and_then(|(scheme, rest)| {
        let (user_info, host) = rest.split_once('@')?;
        let (user, _) = user_info.split_once(':')?;
        Some(format!("{scheme}://{user}:***@{host}"))
    }) {
        Some(shown) => shown,
        None => endpoint.to_owned(),
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// In-process collection through the SDK's in-memory exporter: telemetry started once
/// per test binary, read back as totals.
pub mod in_memory {
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

    /// Exports now and returns `(metric suffix, node.id) → value` for one node type.
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
                let text =
                    |kv: &opentelemetry::KeyValue| (kv.key.to_string(), kv.value.to_string());
                match metric.data() {
                    AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                        for point in sum.data_points() {
                            add(point.attributes().map(text).collect(), point.value() as i64);
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
