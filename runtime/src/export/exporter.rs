//! Building any signal's OTLP exporter (over HTTP/protobuf or gRPC, with TLS for
//! `https://`), and [`Reporting`], the wrapper that says when its exports fail.

use std::sync::Arc;

use opentelemetry_sdk::error::OTelSdkResult;

use crate::env::{is_https, Protocol, Signal, SignalExport};
use crate::insight::diagnoses;
use crate::warn::RateLimited;

/// Builds the OTLP exporter that `$builder` (an `opentelemetry_otlp` exporter builder)
/// makes for `$target`, wrapped in [`Reporting`] with the rate limit `$failures`: over
/// HTTP/protobuf, or over gRPC with the channel's tasks on pipetel's runtime `$runtime`;
/// with TLS (see `tls`) for an `https://` endpoint. `?`s what stops the exporter from
/// being built (saying the signal's export is off), a TLS file that cannot be read, or a
/// runtime that cannot start.
#[cfg(feature = "otlp")]
macro_rules! build_exporter {
    ($builder:expr, $target:expr, $runtime:expr, $failures:expr) => {{
        // Without gRPC, pipetel's runtime is not needed.
        #[cfg(not(feature = "otlp-grpc"))]
        let _ = &$runtime;
        #[allow(unreachable_patterns)]
        let built = match $target.protocol {
            #[cfg(feature = "otlp-http")]
            $crate::env::Protocol::HttpProtobuf => {
                let builder = $builder
                    .with_http()
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary);
                match $crate::export::tls::http_client($target)? {
                    Some(client) => {
                        opentelemetry_otlp::WithHttpConfig::with_http_client(builder, client)
                            .build()
                    }
                    None => builder.build(),
                }
            }
            #[cfg(feature = "otlp-grpc")]
            $crate::env::Protocol::Grpc => {
                let tls = $crate::export::tls::grpc_config($target)?;
                $runtime.enter(|| {
                    let builder = $builder
                        .with_tonic()
                        .with_protocol(opentelemetry_otlp::Protocol::Grpc);
                    #[cfg(feature = "tls")]
                    let built = match tls {
                        Some(tls) => {
                            opentelemetry_otlp::WithTonicConfig::with_tls_config(builder, tls)
                                .build()
                        }
                        None => builder.build(),
                    };
                    // Without `tls`, grpc_config refused https:// targets already.
                    #[cfg(not(feature = "tls"))]
                    let built = {
                        let _: Option<()> = tls;
                        builder.build()
                    };
                    built
                })?
            }
            _ => return Err($crate::export::exporter::transport_missing($target)),
        };
        let exporter = built.map_err(|error| {
            format!(
                "{error} ({} export to {} is off)",
                $target.signal.name(),
                $target.describe()
            )
        })?;
        $crate::export::exporter::Reporting::new(exporter, $target, $failures)
    }};
}
#[cfg(feature = "otlp")]
pub(crate) use build_exporter;

/// Why `target` cannot be exported: pipetel was built without the feature of its
/// protocol.
pub(crate) fn transport_missing(target: &SignalExport) -> String {
    let feature = match target.protocol {
        Protocol::Grpc => "otlp-grpc",
        Protocol::HttpProtobuf => "otlp-http",
    };
    let protocol = target.protocol.name();
    format!(
        "pipetel was built without its `{feature}` feature, so OTLP over {protocol} is not \
         available ({} export to {} is off); enable the feature, or set \
         OTEL_EXPORTER_OTLP_PROTOCOL to a protocol pipetel was built with",
        target.signal.name(),
        target.describe()
    )
}

/// An exporter of one signal that says, at most once a minute (the limit it shares with
/// its signal's shutdown), when exports fail. Each signal's module implements its
/// exporter trait for it, forwarding to `inner` and passing results through [`report`](Self::report).
#[derive(Debug)]
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(crate) struct Reporting<E> {
    pub(crate) inner: E,
    signal: Signal,
    target: String,
    /// HTTP/protobuf to an `https://` endpoint: its exporter says no more than "network
    /// error" when TLS fails, so the warning adds where a CA goes.
    hint_at_tls: bool,
    failures: Arc<RateLimited>,
}

#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
impl<E> Reporting<E> {
    pub(crate) fn new(inner: E, target: &SignalExport, failures: Arc<RateLimited>) -> Self {
        Reporting {
            inner,
            signal: target.signal,
            target: target.describe(),
            hint_at_tls: is_https(&target.endpoint) && target.protocol == Protocol::HttpProtobuf,
            failures,
        }
    }

    /// Passes an export's `result` on, warning (rate-limited) when it failed, and
    /// counting the failure (for the `export_failing` diagnosis).
    pub(crate) fn report(&self, result: OTelSdkResult) -> OTelSdkResult {
        if let Err(error) = &result {
            diagnoses::note_export_failure(format!(
                "{} export to {} failed: {error}",
                self.signal.name(),
                self.target
            ));
            // The text of the HTTP exporter's error is pinned by tests/tests/end_to_end/tls.rs, which
            // fails if the hint goes missing from an HTTPS refusal.
            let hint = if self.hint_at_tls && error.to_string().contains("network error") {
                " (for https://, is the collector's CA in OTEL_EXPORTER_OTLP_CERTIFICATE?)"
            } else {
                ""
            };
            self.failures.warn(format_args!(
                "{} export to {} failed: {error}{hint}",
                self.signal.name(),
                self.target
            ));
        }
        result
    }
}
