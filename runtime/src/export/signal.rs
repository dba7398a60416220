//! A running signal: its provider, with its flush and its shutdown, and the warning for a
//! final export the collector did not take in time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::warn::{warn, RateLimited};

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
