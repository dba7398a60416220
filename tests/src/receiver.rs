//! A real OTLP receiver on 127.0.0.1 for metrics, traces and logs: gRPC with tonic and
//! HTTP/protobuf with axum (plain, TLS, or refusing every export), decoding what arrives
//! with the official `opentelemetry-proto` types.

use std::net::SocketAddr;
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
use prost::Message;

use crate::records::{log_records, spans, LogRecord, SpanRecord};
use crate::tls;

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
            // Exports of tens of thousands of series exceed tonic's 4 MiB default.
            let service = MetricsServiceServer::new(GrpcMetrics(received.clone()))
                .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
                .max_decoding_message_size(256 << 20);
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
