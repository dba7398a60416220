//! Where and how one signal is exported: the transport, the endpoint and the variable it
//! came from, the timeout and the TLS files; and the endpoint's facts every reader of it
//! needs (is it `https://`, its password hidden for warnings).

use std::time::Duration;

use crate::env::tls_files::TlsFiles;
use crate::env::variables::*;

/// An OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// OTLP over gRPC (`grpc`), the default.
    Grpc,
    /// OTLP over HTTP with protobuf bodies (`http/protobuf`).
    HttpProtobuf,
}

impl Protocol {
    /// What no variable asks for: gRPC (as Daft), unless pipetel was built with
    /// HTTP/protobuf and without gRPC.
    pub(crate) const DEFAULT: Protocol =
        if cfg!(feature = "otlp-http") && !cfg!(feature = "otlp-grpc") {
            Protocol::HttpProtobuf
        } else {
            Protocol::Grpc
        };

    /// The protocol's name in `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        }
    }
}

/// A telemetry signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Metrics.
    Metrics,
    /// Traces.
    Traces,
    /// Logs.
    Logs,
}

impl Signal {
    /// The signal's name in warnings: `metrics`, `traces` or `logs`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Metrics => "metrics",
            Signal::Traces => "traces",
            Signal::Logs => "logs",
        }
    }

    pub(super) fn endpoint_var(self) -> &'static str {
        match self {
            Signal::Metrics => OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
            Signal::Traces => OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
            Signal::Logs => OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
        }
    }

    pub(super) fn protocol_var(self) -> &'static str {
        match self {
            Signal::Metrics => OTEL_EXPORTER_OTLP_METRICS_PROTOCOL,
            Signal::Traces => OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
            Signal::Logs => OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
        }
    }

    pub(super) fn upper_name(self) -> &'static str {
        match self {
            Signal::Metrics => "METRICS",
            Signal::Traces => "TRACES",
            Signal::Logs => "LOGS",
        }
    }

    pub(super) fn exporter_var(self) -> &'static str {
        match self {
            Signal::Metrics => OTEL_METRICS_EXPORTER,
            Signal::Traces => "OTEL_TRACES_EXPORTER",
            Signal::Logs => "OTEL_LOGS_EXPORTER",
        }
    }
}

/// The export timeout when the environment sets none (the OTLP default).
pub(crate) const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how one signal is exported. Its `Debug` output hides a password in the
/// endpoint (`http://user:***@host`).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SignalExport {
    /// The signal.
    pub(crate) signal: Signal,
    /// The variable the endpoint came from.
    pub(crate) endpoint_var: &'static str,
    /// The endpoint as written there.
    pub(crate) endpoint: String,
    /// The transport.
    pub(crate) protocol: Protocol,
    /// How long one export may take (`OTEL_EXPORTER_OTLP_{SIGNAL}_TIMEOUT`, then
    /// `OTEL_EXPORTER_OTLP_TIMEOUT`; 10 s by default).
    pub(crate) timeout: Duration,
    /// The CA and client files for an `https://` endpoint.
    pub(crate) tls: TlsFiles,
}

impl SignalExport {
    /// `VARIABLE=value` of a target, for warnings.
    pub(crate) fn describe(&self) -> String {
        format!("{}={}", self.endpoint_var, redact_password(&self.endpoint))
    }
}

impl std::fmt::Debug for SignalExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalExport")
            .field("signal", &self.signal)
            .field("endpoint_var", &self.endpoint_var)
            .field("endpoint", &redact_password(&self.endpoint))
            .field("protocol", &self.protocol)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

/// `endpoint` with the password of its user info (`http://user:password@host`) replaced
/// by `***`, for warnings and `Debug` output.
pub(crate) fn redact_password(endpoint: &str) -> std::borrow::Cow<'_, str> {
    let authority_start = endpoint.find("://").map_or(0, |at| at + 3);
    let rest = &endpoint[authority_start..];
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let Some((user, _password)) = authority
        .rsplit_once('@')
        .and_then(|(userinfo, _host)| userinfo.split_once(':'))
    else {
        return std::borrow::Cow::Borrowed(endpoint);
    };
    let host_start = authority_start + authority.rfind('@').unwrap_or(0);
    std::borrow::Cow::Owned(format!(
        "{}{user}:***{}",
        &endpoint[..authority_start],
        &endpoint[host_start..]
    ))
}

/// Whether `endpoint` is an `https://` URL (any case, surrounding blanks ignored).
pub(crate) fn is_https(endpoint: &str) -> bool {
    endpoint
        .trim()
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}
