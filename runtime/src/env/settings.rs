//! What the environment says: the export settings of each signal, and the warnings.

use std::time::Duration;

use crate::env::reader::Reader;
use crate::env::tls_files::TlsFiles;
use crate::env::variables::*;

/// An OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP over gRPC (`grpc`), the default.
    Grpc,
    /// OTLP over HTTP with protobuf bodies (`http/protobuf`).
    HttpProtobuf,
}

/// A telemetry signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Metrics.
    Metrics,
    /// Traces.
    Traces,
    /// Logs.
    Logs,
}

impl Signal {
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
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how one signal is exported. Its `Debug` output hides a password in the
/// endpoint (`http://user:***@host`).
#[derive(Clone, PartialEq, Eq)]
pub struct SignalExport {
    /// The variable the endpoint came from.
    pub endpoint_var: &'static str,
    /// The endpoint as written there.
    pub endpoint: String,
    /// The transport.
    pub protocol: Protocol,
    /// How long one export may take (`OTEL_EXPORTER_OTLP_{SIGNAL}_TIMEOUT`, then
    /// `OTEL_EXPORTER_OTLP_TIMEOUT`; 10 s by default).
    pub timeout: Duration,
    /// The CA and client files for an `https://` endpoint.
    pub tls: TlsFiles,
}

impl std::fmt::Debug for SignalExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalExport")
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
pub fn redact_password(endpoint: &str) -> std::borrow::Cow<'_, str> {
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

/// What the environment says, and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSettings {
    /// `OTEL_SDK_DISABLED=true`: no telemetry at all, local collection included.
    pub sdk_disabled: bool,
    /// Metrics export, if on.
    pub metrics: Option<SignalExport>,
    /// Traces export, if on (exported by a later version; read and checked now).
    pub traces: Option<SignalExport>,
    /// Logs export, if on (exported by a later version; read and checked now).
    pub logs: Option<SignalExport>,
    /// The metric export interval.
    pub metric_export_interval: Duration,
    /// One line per unusable value, each naming the variable and the value.
    pub warnings: Vec<String>,
}

/// An empty value counts as unset, as the specification asks.
///
/// ```
/// use pipetel::env::{EnvSettings, Protocol};
///
/// let settings = EnvSettings::from_lookup(|name| match name {
///     "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://collector:4318".to_owned()),
///     "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("http/json".to_owned()),
///     _ => None,
/// });
/// assert_eq!(settings.metrics.unwrap().protocol, Protocol::HttpProtobuf);
/// assert_eq!(
///     settings.warnings,
///     [r#"OTEL_EXPORTER_OTLP_PROTOCOL="http/json" is not supported by pipetel; using `http/protobuf`"#]
/// );
/// ```
impl EnvSettings {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut reader = Reader {
            lookup: &lookup,
            warnings: Vec::new(),
        };
        let disabled = reader.sdk_disabled();
        let interval = reader.interval();
        reader.resource_attributes();
        let [metrics, traces, logs] =
            [Signal::Metrics, Signal::Traces, Signal::Logs].map(|signal| {
                if disabled {
                    None
                } else {
                    reader.signal(signal)
                }
            });
        EnvSettings {
            sdk_disabled: disabled,
            metrics,
            traces,
            logs,
            metric_export_interval: interval,
            warnings: reader.warnings,
        }
    }
}
