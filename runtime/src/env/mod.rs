//! Reading the environment: the standard `OTEL_*` variables and pipetel's own
//! `PIPETEL_*`, in one place, into settings and one warning for every value that cannot
//! be used (naming the variable and the value).
//!
//! Of the `OTEL_*` variables, pipetel decides whether each signal is exported (an
//! endpoint is set, the SDK and the signal are not disabled), over which protocol, how
//! often metrics are exported, and what it adds to the resource. What the OTLP exporter
//! and the SDK read themselves — the `/v1/<signal>` suffix of HTTP endpoints, headers,
//! timeouts, compression, the sampler, the batch processors — is only checked here, so
//! that a value they would ignore silently gets a warning.

mod pipetel;
mod reader;
mod settings;
mod signal_export;
#[cfg(test)]
mod tests;
mod tls_files;
mod variables;

pub(crate) use pipetel::ReportDestination;
pub(crate) use reader::ResourceSettings;
pub(crate) use settings::EnvSettings;
pub(crate) use signal_export::{is_https, Protocol, Signal, SignalExport};
pub(crate) use variables::*;
