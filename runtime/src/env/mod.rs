//! Reading the standard `OTEL_*` environment into export settings, with a warning for
//! every value pipetel cannot use.
//!
//! Only what pipetel decides is read here: whether a signal is exported at all (an
//! endpoint is set, the SDK and the signal are not disabled), over which protocol, and
//! how often metrics are exported. Everything else — the `/v1/<signal>` suffix of HTTP
//! endpoints, headers, timeouts, compression — is left to `opentelemetry-otlp`, which
//! reads the same variables itself.

mod reader;
mod settings;
#[cfg(test)]
mod tests;
mod tls_files;
mod variables;

pub use settings::*;
pub use tls_files::{PemFile, TlsFiles};
pub use variables::*;
