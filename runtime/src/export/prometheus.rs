//! The Prometheus pull endpoint (cargo feature `prometheus`): `PIPETEL_PROMETHEUS_ADDR`
//! (for example `127.0.0.1:9464`) serves `/metrics` in the Prometheus text exposition
//! format, from the same counters as every other export. The OpenTelemetry →
//! Prometheus translation (dots to underscores, unit suffixes, `_total` on counters) is
//! `opentelemetry-prometheus`'s; the server is `tiny_http`'s (see `listener`), on a
//! thread of its own.
//!
//! A batch job is over before a scraper comes by: with `PIPETEL_PROMETHEUS_LINGER`, the
//! endpoint outlives the job's work, until two more scrapes have read the final counts
//! (so that Prometheus holds the job's totals, twice) or the time is up.

use std::sync::Arc;
use std::time::Duration;

use crate::env::PIPETEL_PROMETHEUS_ADDR;
use crate::export::metrics::AddReader;
use crate::linger::Answered;

/// Scrapes of the final counts a lingering endpoint waits for.
const FINAL_SCRAPES: u64 = 2;

/// A running `/metrics` server.
#[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
pub(crate) struct PrometheusEndpoint {
    /// `PIPETEL_PROMETHEUS_LINGER`.
    linger: Duration,
    scrapes: Arc<Answered>,
    stop: Box<dyn FnOnce() + Send + Sync>,
}

impl PrometheusEndpoint {
    /// Stops serving; first, for up to `PIPETEL_PROMETHEUS_LINGER`, waits for two more
    /// scrapes.
    pub(crate) fn stop(self) {
        if !self.linger.is_zero() {
            self.scrapes.wait_for(FINAL_SCRAPES, self.linger);
        }
        (self.stop)();
    }
}

/// Starts serving on `address`, to linger at most `linger` at exit: the reader to add to
/// the meter provider, and the server.
#[cfg(feature = "prometheus")]
pub(crate) fn start(
    address: &str,
    linger: Duration,
) -> Result<(AddReader, PrometheusEndpoint), String> {
    let registry = prometheus::Registry::new();
    let exporter = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .build()
        .map_err(|error| format!("{PIPETEL_PROMETHEUS_ADDR}={address:?}: {error}"))?;
    let server = crate::listener::http_server(address)
        .map(Arc::new)
        .map_err(|error| {
            format!("{PIPETEL_PROMETHEUS_ADDR}={address:?}: cannot listen there: {error}")
        })?;
    let serving = server.clone();
    let scrapes = Arc::new(Answered::default());
    let counted = scrapes.clone();
    let thread = std::thread::Builder::new()
        .name("pipetel-prometheus".into())
        .spawn(move || serve(&serving, &registry, &counted))
        .map_err(|error| format!("{PIPETEL_PROMETHEUS_ADDR}={address:?}: {error}"))?;
    let reader: AddReader = Box::new(move |builder, _interval| builder.with_reader(exporter));
    let stop = Box::new(move || {
        server.unblock();
        let _ = thread.join();
    });
    Ok((
        reader,
        PrometheusEndpoint {
            linger,
            scrapes,
            stop,
        },
    ))
}

/// Without the `prometheus` feature: says how to get it.
#[cfg(not(feature = "prometheus"))]
pub(crate) fn start(
    address: &str,
    _linger: Duration,
) -> Result<(AddReader, PrometheusEndpoint), String> {
    Err(format!(
        "{PIPETEL_PROMETHEUS_ADDR}={address:?} is set, but pipetel was built without its `prometheus` feature; \
         no /metrics endpoint"
    ))
}

#[cfg(feature = "prometheus")]
fn serve(server: &tiny_http::Server, registry: &prometheus::Registry, scrapes: &Answered) {
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
        let scraped = request.url().split('?').next() == Some("/metrics");
        if request.respond(response).is_ok() && scraped {
            scrapes.count_one();
        }
    }
}
