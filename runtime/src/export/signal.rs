//! A running signal: its provider, with its flush and its shutdown, and the warning for a
//! final export the collector did not take in time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::env::{Signal, SignalExport};
use crate::warn::{warn, RateLimited};

/// How often one signal's export problems may be reported.
pub(crate) const WARNING_PERIOD: Duration = Duration::from_secs(60);

/// One exporter (with its reader or processor) added to a provider's builder `B`.
pub(crate) type AddTo<B> = Box<dyn FnOnce(B) -> B + Send>;

/// Starts a signal, the same way for all three: a rate limit for its warnings (shared by
/// its OTLP exporter and its shutdown), its OTLP exporter for `target` made by
/// `build_otlp` (or one warning saying why it cannot be) added to the `extra`
/// exporters, all added to `builder`, and the provider `build` makes of it; `None` when
/// there is no exporter at all.
pub(crate) fn start_signal<B, P: Provider>(
    target: Option<&SignalExport>,
    mut extra: Vec<AddTo<B>>,
    build_otlp: impl FnOnce(&SignalExport, Arc<RateLimited>) -> Result<AddTo<B>, String>,
    builder: B,
    build: impl FnOnce(B) -> P,
) -> Option<SignalPipeline<P>> {
    let failures = Arc::new(RateLimited::new(WARNING_PERIOD));
    let otlp_target = target.and_then(|target| match build_otlp(target, failures.clone()) {
        Ok(exporter) => {
            extra.push(exporter);
            Some(target.describe())
        }
        Err(problem) => {
            warn(format_args!("{problem}"));
            None
        }
    });
    if extra.is_empty() {
        return None;
    }
    let builder = extra.into_iter().fold(builder, |builder, add| add(builder));
    Some(SignalPipeline {
        provider: build(builder),
        failures,
        otlp_target,
    })
}

/// The provider of one signal, as the telemetry guard drives it.
pub(crate) trait Provider {
    /// The signal's name in warnings.
    const SIGNAL: Signal;
    fn force_flush(&self) -> OTelSdkResult;
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult;
}

macro_rules! provider {
    ($($provider:ty => $signal:expr),*) => {$(
        impl Provider for $provider {
            const SIGNAL: Signal = $signal;
            fn force_flush(&self) -> OTelSdkResult {
                <$provider>::force_flush(self)
            }
            fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
                <$provider>::shutdown_with_timeout(self, timeout)
            }
        }
    )*};
}
provider!(
    SdkMeterProvider => Signal::Metrics,
    SdkTracerProvider => Signal::Traces,
    SdkLoggerProvider => Signal::Logs
);

/// A running signal: its provider, and the rate limit of its export warnings (shared
/// with its exporter, so a dead collector gives one line, not one per export).
pub(crate) struct SignalPipeline<P> {
    pub(crate) provider: P,
    failures: Arc<RateLimited>,
    /// Where the OTLP exporter sends (`VARIABLE=endpoint`, password hidden), if there is one.
    otlp_target: Option<String>,
}

impl<P: Provider> SignalPipeline<P> {
    /// Where the signal goes, for `Debug` output: the OTLP target, or in-process
    /// exporters only.
    pub(crate) fn destination(&self) -> &str {
        self.otlp_target
            .as_deref()
            .unwrap_or("in-process exporters")
    }

    /// The rate limit of this signal's warnings.
    pub(crate) fn failures(&self) -> Arc<RateLimited> {
        self.failures.clone()
    }

    /// Exports what was recorded so far and waits for the export.
    pub(crate) fn flush(&self) {
        if let Err(error) = self.provider.force_flush() {
            warn(format_args!("{} flush: {error}", P::SIGNAL.name()));
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
        if timed_out(&error) {
            self.failures.warn(format_args!(
                "{}",
                LateFinalExport(P::SIGNAL.name(), timeout)
            ));
        } else {
            self.failures.warn(format_args!(
                "{}: the final export at shutdown failed: {error}",
                P::SIGNAL.name()
            ));
        }
    }
}

/// Whether a shutdown failed because it ran out of time. The trace and log SDKs wrap a
/// processor's `Timeout` in an `InternalFailure` listing every processor's error, as
/// text: the test below pins that text for both, so that an SDK upgrade that changes it
/// fails here rather than silently changing the warning.
fn timed_out(error: &OTelSdkError) -> bool {
    match error {
        OTelSdkError::Timeout(_) => true,
        OTelSdkError::InternalFailure(listed) => listed.contains("Timeout("),
        _ => false,
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
    use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
    use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};

    use super::{timed_out, Provider};

    /// Takes 2 s to export anything: a collector that does not answer in time.
    #[derive(Debug)]
    struct Stalling;

    impl SpanExporter for Stalling {
        async fn export(&self, _: Vec<SpanData>) -> OTelSdkResult {
            std::thread::sleep(Duration::from_secs(2));
            Ok(())
        }
    }

    impl LogExporter for Stalling {
        async fn export(&self, _: LogBatch<'_>) -> OTelSdkResult {
            std::thread::sleep(Duration::from_secs(2));
            Ok(())
        }
    }

    fn shutdown_error(provider: &impl Provider) -> OTelSdkError {
        provider
            .shutdown_with_timeout(Duration::from_millis(100))
            .expect_err("the exporter stalls past the timeout")
    }

    #[test]
    fn the_sdks_timeouts_at_shutdown_are_recognised_for_traces_and_logs() {
        let traces = SdkTracerProvider::builder()
            .with_batch_exporter(Stalling)
            .build();
        traces.tracer("test").in_span("stalled", |_| {});
        let error = shutdown_error(&traces);
        assert!(timed_out(&error), "traces: {error:?}");

        let logs = SdkLoggerProvider::builder()
            .with_batch_exporter(Stalling)
            .build();
        let logger = logs.logger("test");
        let mut record = logger.create_log_record();
        record.set_body("stalled".into());
        logger.emit(record);
        let error = shutdown_error(&logs);
        assert!(timed_out(&error), "logs: {error:?}");

        assert!(!timed_out(&OTelSdkError::InternalFailure("refused".into())));
        assert!(!timed_out(&OTelSdkError::AlreadyShutdown));
    }
}
