//! What the environment says: the export settings of each signal, and the warnings.

use std::time::Duration;

use crate::env::pipetel::PipetelSettings;
use crate::env::reader::Reader;
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

/// What the environment says, and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvSettings {
    /// `OTEL_SDK_DISABLED=true`: no telemetry at all, local collection included.
    pub(crate) sdk_disabled: bool,
    /// Metrics export, if on.
    pub(crate) metrics: Option<SignalExport>,
    /// Traces export, if on.
    pub(crate) traces: Option<SignalExport>,
    /// Logs export, if on.
    pub(crate) logs: Option<SignalExport>,
    /// The metric export interval.
    pub(crate) metric_export_interval: Duration,
    /// What the environment sets of the resource.
    pub(crate) resource: ResourceSettings,
    /// The `PIPETEL_*` variables (all off with `OTEL_SDK_DISABLED=true`).
    pub(crate) pipetel: PipetelSettings,
    /// The W3C trace context carriers that are set (`TRACEPARENT`, `TRACESTATE`,
    /// `BAGGAGE`), by variable, as written: the propagator checks them.
    pub(crate) trace_context: Vec<(&'static str, String)>,
    /// One line per unusable value, each naming the variable and the value.
    pub(crate) warnings: Vec<String>,
}

/// What the environment sets of the resource, for what pipetel adds to it (the SDK's
/// detectors read the variables themselves).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ResourceSettings {
    /// `OTEL_SERVICE_NAME`, or a `service.name` entry of `OTEL_RESOURCE_ATTRIBUTES`.
    pub(crate) names_service: bool,
    /// A `service.instance.id` entry of `OTEL_RESOURCE_ATTRIBUTES`.
    pub(crate) sets_instance_id: bool,
}

impl EnvSettings {
    /// Reads the process environment.
    pub(crate) fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`. An empty value counts as unset, as the
    /// specification asks.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut reader = Reader {
            lookup: &lookup,
            warnings: Vec::new(),
        };
        let disabled = reader.sdk_disabled();
        let interval = reader.interval();
        let resource = reader.resource();
        let pipetel = reader.pipetel();
        let pipetel = if disabled {
            PipetelSettings::default()
        } else {
            pipetel
        };
        let trace_context = TRACE_CONTEXT_CARRIERS
            .into_iter()
            .filter_map(|(name, _)| Some((name, reader.get(name)?)))
            .collect();
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
            resource,
            pipetel,
            trace_context,
            warnings: reader.warnings,
        }
    }

    /// The value of the trace context variable `name`, if set.
    pub(crate) fn trace_context(&self, name: &str) -> Option<String> {
        self.trace_context
            .iter()
            .find(|(variable, _)| *variable == name)
            .map(|(_, value)| value.clone())
    }
}
