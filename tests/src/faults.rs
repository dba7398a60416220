//! Collectors that misbehave, for fault-injection tests: one that accepts connections
//! and never answers, and one that answers every export with an error (gRPC
//! `UNAVAILABLE`, HTTP 503). A collector that is down is just a closed port
//! ([`closed_port`](crate::closed_port)).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

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

/// Accepts TCP connections on a loopback port and never reads or writes: every export
/// waits for its timeout. Stops (closing the connections) when dropped.
pub struct StallingCollector {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StallingCollector {
    /// Starts listening.
    pub fn start() -> StallingCollector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let address = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, accepted) = (stop.clone(), accepted.clone());
            std::thread::spawn(move || {
                let mut held: Vec<TcpStream> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                            held.push(stream);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        StallingCollector {
            endpoint: format!("http://{address}"),
            accepted,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for StallingCollector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers every OTLP export with an error: gRPC `UNAVAILABLE` on one port, HTTP 503 on
/// another. Counts the exports it refused.
pub struct FailingCollector {
    /// `http://127.0.0.1:<port>` of the gRPC server.
    pub grpc_endpoint: String,
    /// `http://127.0.0.1:<port>` of the HTTP server.
    pub http_endpoint: String,
    /// Exports answered with an error, over both protocols.
    pub refused: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

#[derive(Clone)]
struct Refuse(Arc<AtomicUsize>);

impl Refuse {
    fn status(&self) -> tonic::Status {
        self.0.fetch_add(1, Ordering::Relaxed);
        tonic::Status::unavailable("collector overloaded (test)")
    }
}

#[tonic::async_trait]
impl MetricsService for Refuse {
    async fn export(
        &self,
        _: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        Err(self.status())
    }
}

#[tonic::async_trait]
impl TraceService for Refuse {
    async fn export(
        &self,
        _: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        Err(self.status())
    }
}

#[tonic::async_trait]
impl LogsService for Refuse {
    async fn export(
        &self,
        _: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        Err(self.status())
    }
}

impl FailingCollector {
    /// Starts both servers on free loopback ports.
    pub fn start() -> FailingCollector {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let refused = Arc::new(AtomicUsize::new(0));
        let refuse = Refuse(refused.clone());
        let (grpc, http): (SocketAddr, SocketAddr) = runtime.block_on(async {
            let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addresses = (
                grpc_listener.local_addr().expect("addr"),
                http_listener.local_addr().expect("addr"),
            );
            tokio::spawn(
                tonic::transport::Server::builder()
                    .add_service(MetricsServiceServer::new(refuse.clone()))
                    .add_service(TraceServiceServer::new(refuse.clone()))
                    .add_service(LogsServiceServer::new(refuse.clone()))
                    .serve_with_incoming(tonic::transport::server::TcpIncoming::from(
                        grpc_listener,
                    )),
            );
            let app = axum::Router::new().fallback(move || {
                let refuse = refuse.clone();
                async move {
                    refuse.0.fetch_add(1, Ordering::Relaxed);
                    (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        "collector overloaded (test)",
                    )
                }
            });
            tokio::spawn(async move { axum::serve(http_listener, app).await });
            addresses
        });
        FailingCollector {
            grpc_endpoint: format!("http://{grpc}"),
            http_endpoint: format!("http://{http}"),
            refused,
            _runtime: runtime,
        }
    }
}
