//! What every OTLP signal shares: the one-thread Tokio runtime gRPC channels live on
//! (started on first need, so HTTP-only set-ups start none), how a target is named in
//! warnings, and a running signal's provider with its flush and shutdown.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::env::SignalExport;
use crate::warn::{warn, RateLimited};

/// The runtime of pipetel's gRPC channels; the user's program needs no async runtime.
#[derive(Default)]
pub(crate) struct GrpcRuntime(Option<tokio::runtime::Runtime>);

impl GrpcRuntime {
    /// Runs `build` inside the runtime, starting it first if needed, so that the
    /// channel's background tasks are spawned onto it.
    pub(crate) fn enter<T>(&mut self, build: impl FnOnce() -> T) -> Result<T, String> {
        if self.0.is_none() {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("pipetel-grpc")
                .enable_all()
                .build()
                .map_err(|error| format!("cannot start the gRPC export thread: {error}"))?;
            self.0 = Some(runtime);
        }
        let runtime = self.0.as_ref().expect("started above");
        let _context = runtime.enter();
        Ok(build())
    }

    /// Stops the runtime without waiting for its tasks (safe inside an async context).
    pub(crate) fn shutdown(self) {
        if let Some(runtime) = self.0 {
            runtime.shutdown_background();
        }
    }
}

/// Builds the OTLP exporter that `$builder` (an `opentelemetry_otlp` exporter builder)
/// makes for `$target`, wrapped in [`Reporting`] for `$signal` with the rate limit
/// `$failures`: over HTTP/protobuf, or over gRPC with the channel's tasks on pipetel's
/// runtime `$runtime`; with TLS (see `tls`) for an `https://` endpoint. `?`s what stops
/// the exporter from being built (saying the signal's export is off), a TLS file that
/// cannot be read, or a runtime that cannot start.
macro_rules! build_exporter {
    ($builder:expr, $signal:literal, $target:expr, $runtime:expr, $failures:expr) => {{
        let described = $crate::export::signal::describe($target);
        let built = match $target.protocol {
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
            $crate::env::Protocol::Grpc => $runtime.enter(|| {
                let builder = $builder
                    .with_tonic()
                    .with_protocol(opentelemetry_otlp::Protocol::Grpc);
                match $crate::export::tls::grpc_config($target) {
                    Some(tls) => {
                        opentelemetry_otlp::WithTonicConfig::with_tls_config(builder, tls).build()
                    }
                    None => builder.build(),
                }
            })?,
        };
        let exporter =
            built.map_err(|error| format!("{error} ({} export to {described} is off)", $signal))?;
        $crate::export::signal::Reporting::new(exporter, $signal, described, $failures)
    }};
}
pub(crate) use build_exporter;

/// An exporter of one signal that says, at most once a minute (the limit it shares with
/// its signal's shutdown), when exports fail. Each signal's module implements its
/// exporter trait for it, forwarding to `inner` and passing results through [`report`](Self::report).
#[derive(Debug)]
pub(crate) struct Reporting<E> {
    pub(crate) inner: E,
    signal: &'static str,
    target: String,
    failures: Arc<RateLimited>,
}

impl<E> Reporting<E> {
    pub(crate) fn new(
        inner: E,
        signal: &'static str,
        target: String,
        failures: Arc<RateLimited>,
    ) -> Self {
        Reporting {
            inner,
            signal,
            target,
            failures,
        }
    }

    /// Passes an export's `result` on, warning (rate-limited) when it failed.
    pub(crate) fn report(&self, result: OTelSdkResult) -> OTelSdkResult {
        if let Err(error) = &result {
            // The HTTP exporter says no more than "network error", TLS failures included.
            let hint = if self.target.contains("=https://")
                && error.to_string().contains("network error")
            {
                " (for https://, is the collector's CA in OTEL_EXPORTER_OTLP_CERTIFICATE?)"
            } else {
                ""
            };
            self.failures.warn(format_args!(
                "{} export to {} failed: {error}{hint}",
                self.signal, self.target
            ));
        }
        result
    }
}

/// `VARIABLE=value` of a target, for warnings.
pub(crate) fn describe(target: &SignalExport) -> String {
    format!(
        "{}={}",
        target.endpoint_var,
        crate::env::redact_password(&target.endpoint)
    )
}

/// The provider of one signal, as the telemetry guard drives it.
pub(crate) trait Provider {
    /// The signal's name in warnings.
    const SIGNAL: &'static str;
    fn force_flush(&self) -> OTelSdkResult;
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult;
}

macro_rules! provider {
    ($($provider:ty => $signal:literal),*) => {$(
        impl Provider for $provider {
            const SIGNAL: &'static str = $signal;
            fn force_flush(&self) -> OTelSdkResult {
                <$provider>::force_flush(self)
            }
            fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
                <$provider>::shutdown_with_timeout(self, timeout)
            }
        }
    )*};
}
provider!(SdkMeterProvider => "metrics", SdkTracerProvider => "traces", SdkLoggerProvider => "logs");

/// A running signal: its provider, and the rate limit of its export warnings (shared
/// with its exporter, so a dead collector gives one line, not one per export).
pub(crate) struct SignalPipeline<P> {
    pub(crate) provider: P,
    failures: Arc<RateLimited>,
}

impl<P: Provider> SignalPipeline<P> {
    pub(crate) fn new(provider: P, failures: Arc<RateLimited>) -> Self {
        SignalPipeline { provider, failures }
    }

    /// The rate limit of this signal's warnings.
    pub(crate) fn failures(&self) -> Arc<RateLimited> {
        self.failures.clone()
    }

    /// Exports what was recorded so far and waits for the export.
    pub(crate) fn flush(&self) {
        if let Err(error) = self.provider.force_flush() {
            warn(format_args!("{} flush: {error}", P::SIGNAL));
        }
    }

    /// Exports what was recorded and stops, waiting about `timeout` (the metrics SDK
    /// keeps its own 5 s). A failed final export was reported by the exporter; this
    /// reports the rest, unless a warning went out less than a minute ago or the
    /// guard stopped waiting (`abandoned`: it said so itself).
    pub(crate) fn shutdown(self, timeout: Duration, abandoned: &AtomicBool) {
        let Err(error) = self.provider.shutdown_with_timeout(timeout) else {
            return;
        };
        if abandoned.load(Ordering::Acquire) {
            return;
        }
        // The trace and log SDKs wrap their timeout in a list of shutdown errors.
        if matches!(error, OTelSdkError::Timeout(_)) || error.to_string().contains("Timeout(") {
            self.failures
                .warn(format_args!("{}", LateFinalExport(P::SIGNAL, timeout)));
        } else {
            self.failures.warn(format_args!(
                "{}: the final export at shutdown failed: {error}",
                P::SIGNAL
            ));
        }
    }
}

/// The warning for signals (named, comma-separated) whose collector did not take the
/// final export within the shutdown wait: said by the signal when its SDK times out,
/// and by the guard for the signals it stops waiting for.
pub(crate) struct LateFinalExport<'a>(pub(crate) &'a str, pub(crate) Duration);

impl std::fmt::Display for LateFinalExport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let LateFinalExport(signals, timeout) = self;
        write!(
            f,
            "{signals}: the collector did not take the final export within {timeout:?}; the \
             program goes on without it (Config::shutdown_timeout sets the wait)"
        )
    }
}
