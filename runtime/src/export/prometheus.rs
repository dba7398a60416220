//! The Prometheus pull endpoint (cargo feature `prometheus`): `PIPETEL_PROMETHEUS_ADDR`
//! (for example `127.0.0.1:9464`) serves `/metrics` in the Prometheus text exposition
//! format, from the same counters as every other export. The OpenTelemetry →
//! Prometheus translation (dots to underscores, unit suffixes, `_total` on counters) is
//! `opentelemetry-prometheus`'s; the server is `tiny_http`'s, on a thread of its own.

use crate::env::PIPETEL_PROMETHEUS_ADDR;
use crate::export::metrics::AddReader;

/// A running `/metrics` server.
#[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
pub(crate) struct PrometheusEndpoint {
    stop: Box<dyn FnOnce() + Send + Sync>,
}

impl PrometheusEndpoint {
    /// Stops serving.
    pub(crate) fn stop(self) {
        (self.stop)();
    }
}

/// Starts serving on `address`: the reader to add to the meter provider, and the server.
#[cfg(feature = "prometheus")]
pub(crate) fn start(address: &str) -> Result<(AddReader, PrometheusEndpoint), String> {
    use std::sync::Arc;

    let registry = prometheus::Registry::new();
    let exporter = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .build()
        .map_err(|error| format!("{PIPETEL_PROMETHEUS_ADDR}={address:?}: {error}"))?;
    let server = tiny_http::Server::http(address)
        .map(Arc::new)
        .map_err(|error| {
            format!("{PIPETEL_PROMETHEUS_ADDR}={address:?}: cannot listen there: {error}")
        })?;
    let serving = server.clone();
    let thread = std::thread::Builder::new()
        .name("pipetel-prometheus".into())
        .spawn(move || serve(&serving, &registry))
        .map_err(|error| format!("{PIPETEL_PROMETHEUS_ADDR}={address:?}: {error}"))?;
    let reader: AddReader = Box::new(move |builder, _interval| builder.with_reader(exporter));
    let stop = Box::new(move || {
        server.unblock();
        let _ = thread.join();
    });
    Ok((reader, PrometheusEndpoint { stop }))
}

/// Without the `prometheus` feature: says how to get it.
#[cfg(not(feature = "prometheus"))]
pub(crate) fn start(address: &str) -> Result<(AddReader, PrometheusEndpoint), String> {
    Err(format!(
        "{PIPETEL_PROMETHEUS_ADDR}={address:?} is set, but pipetel was built without its `prometheus` feature; \
         no /metrics endpoint"
    ))
}

#[cfg(feature = "prometheus")]
fn serve(server: &tiny_http::Server, registry: &prometheus::Registry) {
    use prometheus::Encoder as _;
    for request in server.incoming_requests() {
        let response = if request.url().split('?').next() == Some("/metrics") {
            let encoder = prometheus::TextEncoder::new();
            let mut body = Vec::new();
            match encoder.encode(&registry.gather(), &mut body) {
                Ok(()) => {
                    let content_type =
                        tiny_http::Header::from_bytes("Content-Type", encoder.format_type())
                            .expect("a valid header");
                    tiny_http::Response::from_data(body).with_header(content_type)
                }
                Err(error) => tiny_http::Response::from_data(error.to_string().into_bytes())
                    .with_status_code(500),
            }
        } else {
            tiny_http::Response::from_data(b"pipetel serves /metrics\n".to_vec())
                .with_status_code(404)
        };
        let _ = request.respond(response);
    }
}
