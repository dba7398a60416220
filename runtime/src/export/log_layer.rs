//! The `tracing` layer that turns events into OTLP log records: the bridge of
//! `opentelemetry-appender-tracing`, filtered to INFO and above and to targets outside
//! the export path.

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use tracing_subscriber::filter::{filter_fn, Filtered};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Crates whose own events must not become log records: the export path itself
/// (exporting them would feed back into the exporter). Matched on the target's crate.
const EXPORT_PATH_CRATES: [&str; 8] = [
    "tonic",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "tower",
    "tokio",
    "pipetel",
];

/// Whether an event of `target` comes from the export path.
fn from_export_path(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    krate.starts_with("opentelemetry") || EXPORT_PATH_CRATES.contains(&krate)
}

/// The bridge from `tracing` events (INFO and above, not from the export path) to
/// `provider`.
pub(crate) fn log_layer<S>(
    provider: &SdkLoggerProvider,
) -> Filtered<
    OpenTelemetryTracingBridge<SdkLoggerProvider, opentelemetry_sdk::logs::SdkLogger>,
    impl tracing_subscriber::layer::Filter<S>,
    S,
>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    OpenTelemetryTracingBridge::new(provider).with_filter(filter_fn(|metadata| {
        *metadata.level() <= tracing::Level::INFO && !from_export_path(metadata.target())
    }))
}

#[cfg(test)]
mod tests {
    use super::from_export_path;

    #[test]
    fn only_the_export_paths_own_crates_are_filtered() {
        for target in [
            "opentelemetry_sdk::metrics",
            "tonic::transport",
            "h2",
            "pipetel::export",
        ] {
            assert!(from_export_path(target), "{target}");
        }
        for target in ["pipetel_examples::regional_totals", "h2o_engine", "my_app"] {
            assert!(!from_export_path(target), "{target}");
        }
    }
}
