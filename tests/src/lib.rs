//! Test support: a real OTLP metrics receiver on 127.0.0.1 (gRPC with tonic, HTTP/protobuf
//! with axum) that decodes what arrives with the official `opentelemetry-proto` types,
//! and helpers to run an instrumented program as a child process and read its export.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use prost::Message;

/// What arrived: each request, with the content encoding it came with (`identity` when none).
#[derive(Clone, Default)]
struct Received {
    requests: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
    encodings: Arc<Mutex<Vec<String>>>,
}

impl Received {
    fn push(&self, request: ExportMetricsServiceRequest, encoding: Option<&[u8]>) {
        let encoding = encoding.map_or("identity".into(), |e| {
            String::from_utf8_lossy(e).into_owned()
        });
        lock(&self.encodings).push(encoding);
        lock(&self.requests).push(request);
    }
}

/// An OTLP receiver for metrics, listening on two loopback ports until dropped.
pub struct Receiver {
    /// `http://127.0.0.1:<port>` of the gRPC server.
    pub grpc_endpoint: String,
    /// `http://127.0.0.1:<port>` of the HTTP server (it serves `/v1/metrics`).
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

async fn http_metrics(
    axum::extract::State(received): axum::extract::State<Received>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<([(&'static str, &'static str); 1], Vec<u8>), (axum::http::StatusCode, String)> {
    let bad_request = |error: String| (axum::http::StatusCode::BAD_REQUEST, error);
    let encoding = headers
        .get("content-encoding")
        .map(|value| value.as_bytes());
    let gzip = encoding.is_some_and(|encoding| encoding.eq_ignore_ascii_case(b"gzip"));
    let body = if gzip {
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain)
            .map_err(|error| bad_request(error.to_string()))?;
        plain.into()
    } else {
        body
    };
    let request = ExportMetricsServiceRequest::decode(body)
        .map_err(|error| bad_request(error.to_string()))?;
    received.push(request, encoding);
    let response = ExportMetricsServiceResponse {
        partial_success: None,
    };
    Ok((
        [("content-type", "application/x-protobuf")],
        response.encode_to_vec(),
    ))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Receiver {
    /// Starts both servers on free loopback ports.
    pub fn start() -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("test runtime");
        let received = Received::default();
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
            tokio::spawn(
                tonic::transport::Server::builder()
                    .add_service(service)
                    .serve_with_incoming(tonic::transport::server::TcpIncoming::from(
                        grpc_listener,
                    )),
            );
            let app = axum::Router::new()
                .route("/v1/metrics", axum::routing::post(http_metrics))
                .route("/custom/metrics", axum::routing::post(http_metrics))
                .with_state(received.clone());
            tokio::spawn(async move { axum::serve(http_listener, app).await });
            (grpc, http)
        });
        Receiver {
            grpc_endpoint: format!("http://{grpc}"),
            http_endpoint: format!("http://{http}"),
            received,
            runtime: Some(runtime),
        }
    }

    /// Every export request received so far.
    pub fn requests(&self) -> Vec<ExportMetricsServiceRequest> {
        lock(&self.received.requests).clone()
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
    let mut command = Command::new(program);
    command.args(args);
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
