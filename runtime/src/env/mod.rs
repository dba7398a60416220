//! Reading the standard `OTEL_*` environment into export settings, with a warning for
//! every value pipetel cannot use.
//!
//! Only what pipetel decides is read here: whether a signal is exported at all (an
//! endpoint is set, the SDK and the signal are not disabled), over which protocol, and
//! how often metrics are exported. Everything else — the `/v1/<signal>` suffix of HTTP
//! endpoints, headers, timeouts, compression — is left to `opentelemetry-otlp`, which
//! reads the same variables itself.

mod tls_files;

use std::time::Duration;
pub use tls_files::{PemFile, TlsFiles};

/// `OTEL_SDK_DISABLED`: `true` turns all telemetry off.
pub const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// `OTEL_METRICS_EXPORTER`: `none` turns metrics export off.
pub const OTEL_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// The endpoint of every signal (`http://host:4317` for gRPC, `http://host:4318` for HTTP).
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The endpoint of metrics, used as is (no `/v1/metrics` is appended).
pub const OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
/// The endpoint of traces.
pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// The endpoint of logs.
pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// The protocol of every signal: `grpc` (the default) or `http/protobuf`.
pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// The protocol of metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";
/// The protocol of traces.
pub const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// The protocol of logs.
pub const OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL";
/// `OTEL_METRIC_EXPORT_INTERVAL`: milliseconds between metric exports.
pub const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";

/// The metric export interval when `OTEL_METRIC_EXPORT_INTERVAL` is unset (as Daft).
pub const DEFAULT_METRIC_EXPORT_INTERVAL: Duration = Duration::from_millis(500);

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
    fn endpoint_var(self) -> &'static str {
        match self {
            Signal::Metrics => OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
            Signal::Traces => OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
            Signal::Logs => OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
        }
    }

    fn protocol_var(self) -> &'static str {
        match self {
            Signal::Metrics => OTEL_EXPORTER_OTLP_METRICS_PROTOCOL,
            Signal::Traces => OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
            Signal::Logs => OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
        }
    }

    fn upper_name(self) -> &'static str {
        match self {
            Signal::Metrics => "METRICS",
            Signal::Traces => "TRACES",
            Signal::Logs => "LOGS",
        }
    }

    fn exporter_var(self) -> &'static str {
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

struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    warnings: Vec<String>,
}

impl Reader<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.trim().is_empty())
    }

    /// Records a warning; the same warning (a generic variable read for several signals) once.
    fn warn(&mut self, name: &str, value: &str, problem: impl std::fmt::Display) {
        let warning = format!("{name}={value:?} {problem}");
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Checks `OTEL_TRACES_SAMPLER` and its argument, which the SDK reads itself (and
    /// replaces, silently, when it cannot use them).
    fn sampler(&mut self) {
        const SAMPLER: &str = "OTEL_TRACES_SAMPLER";
        const ARGUMENT: &str = "OTEL_TRACES_SAMPLER_ARG";
        let Some(value) = self.get(SAMPLER) else {
            return;
        };
        match value.trim() {
            "always_on" | "always_off" | "parentbased_always_on" | "parentbased_always_off" => {}
            "traceidratio" | "parentbased_traceidratio" => {
                let argument = self.get(ARGUMENT);
                let ratio = argument.as_deref().map(|arg| arg.trim().parse::<f64>());
                match (argument.as_deref(), ratio) {
                    (_, Some(Ok(ratio))) if (0.0..=1.0).contains(&ratio) => {}
                    (Some(argument), _) => {
                        self.warn(ARGUMENT, argument, "is not a ratio between 0 and 1; sampling everything")
                    }
                    (None, _) => self.warn(SAMPLER, &value, format_args!("needs {ARGUMENT}; sampling everything")),
                }
            }
            _ => self.warn(
                SAMPLER,
                &value,
                "is not a sampler the SDK provides (always_on, always_off, traceidratio and their parentbased_ forms); using parentbased_always_on",
            ),
        }
    }

    /// Checks `OTEL_RESOURCE_ATTRIBUTES` (`key=value,…`), whose malformed entries the SDK
    /// drops silently. One warning for the variable, at its first bad entry.
    fn resource_attributes(&mut self) {
        const RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
        let Some(value) = self.get(RESOURCE_ATTRIBUTES) else {
            return;
        };
        let bad = value
            .split(',')
            .enumerate()
            .filter(|(_, entry)| !entry.trim().is_empty())
            .find_map(|(index, entry)| match entry.split_once('=') {
                None => Some((index, "has an entry without `=`")),
                Some((key, _)) if key.trim().is_empty() => {
                    Some((index, "has an entry without a key"))
                }
                Some(_) => None,
            });
        if let Some((index, problem)) = bad {
            self.warn(
                RESOURCE_ATTRIBUTES,
                &value,
                format_args!(
                    "{problem} (entry {}); the SDK ignores that entry",
                    index + 1
                ),
            );
        }
    }

    /// Checks the batch settings the SDK reads itself for `signal` (`OTEL_BSP_*` for
    /// spans, `OTEL_BLRP_*` for log records, `OTEL_METRIC_EXPORT_TIMEOUT`), which it
    /// replaces by its defaults, silently, when they are not whole numbers.
    fn batch_options(&mut self, signal: Signal) {
        let names: &[&str] = match signal {
            Signal::Metrics => &["OTEL_METRIC_EXPORT_TIMEOUT"],
            Signal::Traces => &[
                "OTEL_BSP_SCHEDULE_DELAY",
                "OTEL_BSP_EXPORT_TIMEOUT",
                "OTEL_BSP_MAX_QUEUE_SIZE",
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            ],
            Signal::Logs => &[
                "OTEL_BLRP_SCHEDULE_DELAY",
                "OTEL_BLRP_EXPORT_TIMEOUT",
                "OTEL_BLRP_MAX_QUEUE_SIZE",
                "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
            ],
        };
        for name in names {
            let Some(value) = self.get(name) else {
                continue;
            };
            let size = name.ends_with("_SIZE");
            match value.trim().parse::<u64>() {
                Ok(0) if size => {
                    self.warn(name, &value, "must be above 0; the SDK uses its default")
                }
                Ok(_) => {}
                Err(_) if size => self.warn(
                    name,
                    &value,
                    "is not a whole number; the SDK uses its default",
                ),
                Err(_) => self.warn(
                    name,
                    &value,
                    "is not a whole number of milliseconds; the SDK uses its default",
                ),
            }
        }
    }

    /// A warning about a variable whose value may hold secrets: the value is not shown.
    fn warn_hidden(&mut self, name: &str, problem: &str) {
        let warning = format!("{name} (value not shown) {problem}");
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    fn sdk_disabled(&mut self) -> bool {
        let Some(value) = self.get(OTEL_SDK_DISABLED) else {
            return false;
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => {
                self.warn(
                    OTEL_SDK_DISABLED,
                    &value,
                    "is not `true` or `false`; taken as `false`",
                );
                false
            }
        }
    }

    fn interval(&mut self) -> Duration {
        let Some(value) = self.get(OTEL_METRIC_EXPORT_INTERVAL) else {
            return DEFAULT_METRIC_EXPORT_INTERVAL;
        };
        let problem = match value.trim().parse::<u64>() {
            Ok(0) => "must be above 0",
            Ok(ms) => return Duration::from_millis(ms),
            Err(_) => "is not a whole number of milliseconds",
        };
        self.warn(
            OTEL_METRIC_EXPORT_INTERVAL,
            &value,
            format_args!("{problem}; using 500 ms"),
        );
        DEFAULT_METRIC_EXPORT_INTERVAL
    }

    fn signal(&mut self, signal: Signal) -> Option<SignalExport> {
        if !self.exporter_is_otlp(signal) {
            return None;
        }
        let (endpoint_var, endpoint) = [signal.endpoint_var(), OTEL_EXPORTER_OTLP_ENDPOINT]
            .into_iter()
            .find_map(|name| self.get(name).map(|value| (name, value)))?;
        if let Err(problem) = check_endpoint(&endpoint) {
            self.warn(
                endpoint_var,
                &redact_password(&endpoint),
                format_args!("{problem}; no export to it"),
            );
            return None;
        }
        self.exporter_options(signal);
        self.batch_options(signal);
        if signal == Signal::Traces {
            self.sampler();
        }
        let tls = if is_https(&endpoint) {
            let (tls, warnings) = tls_files::read(signal.upper_name(), self.lookup, &|path| {
                std::fs::read(path)
            });
            for warning in warnings {
                if !self.warnings.contains(&warning) {
                    self.warnings.push(warning);
                }
            }
            tls
        } else {
            TlsFiles::default()
        };
        Some(SignalExport {
            endpoint_var,
            endpoint,
            protocol: self.protocol(signal),
            timeout: self.timeout(signal),
            tls,
        })
    }

    /// The export timeout of `signal`: the first of its variable and the generic one that
    /// holds a whole number of milliseconds, or 10 s (both checked by `exporter_options`).
    fn timeout(&self, signal: Signal) -> Duration {
        [
            format!("OTEL_EXPORTER_OTLP_{}_TIMEOUT", signal.upper_name()),
            "OTEL_EXPORTER_OTLP_TIMEOUT".into(),
        ]
        .iter()
        .find_map(|name| self.get(name)?.trim().parse::<u64>().ok())
        .map_or(DEFAULT_EXPORT_TIMEOUT, Duration::from_millis)
    }

    /// Checks the options `opentelemetry-otlp` reads itself (it ignores a bad value
    /// silently), so that each gets a warning here. Header values are never shown.
    fn exporter_options(&mut self, signal: Signal) {
        let signal_var =
            |option: &str| format!("OTEL_EXPORTER_OTLP_{}_{option}", signal.upper_name());
        for name in [signal_var("TIMEOUT"), "OTEL_EXPORTER_OTLP_TIMEOUT".into()] {
            if let Some(value) = self.get(&name) {
                if value.trim().parse::<u64>().is_err() {
                    self.warn(
                        &name,
                        &value,
                        "is not a whole number of milliseconds; using 10000 ms",
                    );
                }
            }
        }
        for name in [
            signal_var("COMPRESSION"),
            "OTEL_EXPORTER_OTLP_COMPRESSION".into(),
        ] {
            if let Some(value) = self.get(&name) {
                if !matches!(value.trim().to_ascii_lowercase().as_str(), "gzip" | "none") {
                    self.warn(
                        &name,
                        &value,
                        "is not a supported compression (`gzip` or `none`); sending uncompressed",
                    );
                }
            }
        }
        for name in [signal_var("HEADERS"), "OTEL_EXPORTER_OTLP_HEADERS".into()] {
            if let Some(value) = self.get(&name) {
                for problem in header_problems(&value) {
                    self.warn_hidden(&name, &problem);
                }
            }
        }
    }

    fn exporter_is_otlp(&mut self, signal: Signal) -> bool {
        let name = signal.exporter_var();
        let Some(value) = self.get(name) else {
            return true;
        };
        let mut otlp = false;
        for exporter in value.split(',').map(|e| e.trim().to_ascii_lowercase()) {
            match exporter.as_str() {
                "otlp" => otlp = true,
                "none" | "" => {}
                other => {
                    let problem = format!("names exporter `{other}`, which pipetel does not provide (only `otlp` and `none`)");
                    self.warn(name, &value, problem);
                }
            }
        }
        otlp
    }

    fn protocol(&mut self, signal: Signal) -> Protocol {
        let Some((name, value)) = [signal.protocol_var(), OTEL_EXPORTER_OTLP_PROTOCOL]
            .into_iter()
            .find_map(|name| self.get(name).map(|value| (name, value)))
        else {
            return Protocol::Grpc;
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "grpc" => Protocol::Grpc,
            "http/protobuf" => Protocol::HttpProtobuf,
            "http/json" => {
                self.warn(
                    name,
                    &value,
                    "is not supported by pipetel; using `http/protobuf`",
                );
                Protocol::HttpProtobuf
            }
            _ => {
                self.warn(
                    name,
                    &value,
                    "is not a known protocol (`grpc` or `http/protobuf`); using `grpc`",
                );
                Protocol::Grpc
            }
        }
    }
}

/// What is wrong with a `key=value,key=value` header list, naming entries by position and
/// key only: header values are often credentials.
fn header_problems(headers: &str) -> Vec<String> {
    let valid_key = |key: &str| {
        key.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    let mut problems = Vec::new();
    for (index, entry) in headers.split(',').enumerate() {
        let position = index + 1;
        if entry.trim().is_empty() {
            continue;
        }
        let problem = match entry.split_once('=') {
            None => "has an entry without `=`".to_owned(),
            Some((key, _)) if key.trim().is_empty() => "has an entry without a key".to_owned(),
            Some((key, value)) if value.trim().is_empty() => {
                format!("gives header `{}` no value", key.trim())
            }
            Some((key, _)) if !valid_key(key.trim()) => {
                "has an entry whose key is not a valid header name".to_owned()
            }
            Some(_) => continue,
        };
        problems.push(format!("{problem} (entry {position}); it is ignored"));
    }
    problems
}

/// Checks that an endpoint is an absolute `http://` or `https://` URL with a host.
fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let uri: http::Uri = endpoint
        .trim()
        .parse()
        .map_err(|error| format!("is not a valid URL ({error})"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => return Err(format!("has scheme `{other}`; expected `http` or `https`")),
        None => {
            return Err("has no scheme; expected `http://host:port` or `https://host:port`".into())
        }
    }
    match uri.host() {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err("has no host".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> EnvSettings {
        EnvSettings::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn off_when_no_endpoint_is_set() {
        let settings = read(&[("OTEL_SERVICE_NAME", "x")]);
        assert_eq!(settings.metrics, None);
        assert!(settings.warnings.is_empty());
        assert_eq!(settings.metric_export_interval, Duration::from_millis(500));
    }

    #[test]
    fn the_signal_endpoint_wins_over_the_generic_one() {
        let settings = read(&[
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://a:4317"),
            (
                OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
                "http://b:4318/v1/metrics",
            ),
            (OTEL_EXPORTER_OTLP_PROTOCOL, "http/protobuf"),
        ]);
        let metrics = settings.metrics.unwrap();
        assert_eq!(metrics.endpoint_var, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
        assert_eq!(metrics.endpoint, "http://b:4318/v1/metrics");
        assert_eq!(metrics.protocol, Protocol::HttpProtobuf);
        assert_eq!(settings.traces.unwrap().endpoint, "http://a:4317");
    }

    #[test]
    fn the_signal_protocol_wins_over_the_generic_one() {
        let settings = read(&[
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://a:4317"),
            (OTEL_EXPORTER_OTLP_PROTOCOL, "http/protobuf"),
            (OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, "grpc"),
        ]);
        assert_eq!(settings.metrics.unwrap().protocol, Protocol::Grpc);
        assert_eq!(settings.logs.unwrap().protocol, Protocol::HttpProtobuf);
    }

    #[test]
    fn disabling_switches() {
        let endpoint = (OTEL_EXPORTER_OTLP_ENDPOINT, "http://a:4317");
        assert_eq!(read(&[endpoint, (OTEL_SDK_DISABLED, "TRUE")]).metrics, None);
        assert_eq!(read(&[endpoint, (OTEL_SDK_DISABLED, "TRUE")]).traces, None);
        let metrics_off = read(&[endpoint, (OTEL_METRICS_EXPORTER, "none")]);
        assert_eq!(metrics_off.metrics, None);
        assert!(metrics_off.traces.is_some());
        assert!(metrics_off.warnings.is_empty());
    }

    #[test]
    fn empty_values_count_as_unset() {
        let settings = read(&[
            (OTEL_EXPORTER_OTLP_ENDPOINT, ""),
            (OTEL_METRIC_EXPORT_INTERVAL, " "),
        ]);
        assert_eq!(settings.metrics, None);
        assert!(settings.warnings.is_empty());
    }

    #[test]
    fn every_bad_value_gives_one_warning_naming_variable_and_value() {
        let endpoint = (OTEL_EXPORTER_OTLP_ENDPOINT, "http://127.0.0.1:4317");
        type Vars<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Vars<'_>, &str, &str)] = &[
            (
                &[(OTEL_EXPORTER_OTLP_ENDPOINT, "localhost:4317")],
                OTEL_EXPORTER_OTLP_ENDPOINT,
                "localhost:4317",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_ENDPOINT, "ftp://h:21")],
                OTEL_EXPORTER_OTLP_ENDPOINT,
                "ftp://h:21",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_ENDPOINT, "http://")],
                OTEL_EXPORTER_OTLP_ENDPOINT,
                "http://",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_ENDPOINT, "not a url")],
                OTEL_EXPORTER_OTLP_ENDPOINT,
                "not a url",
            ),
            (
                &[endpoint, (OTEL_EXPORTER_OTLP_PROTOCOL, "http/json")],
                OTEL_EXPORTER_OTLP_PROTOCOL,
                "http/json",
            ),
            (
                &[endpoint, (OTEL_EXPORTER_OTLP_PROTOCOL, "carrier-pigeon")],
                OTEL_EXPORTER_OTLP_PROTOCOL,
                "carrier-pigeon",
            ),
            (
                &[(OTEL_METRIC_EXPORT_INTERVAL, "-5")],
                OTEL_METRIC_EXPORT_INTERVAL,
                "-5",
            ),
            (
                &[(OTEL_METRIC_EXPORT_INTERVAL, "0")],
                OTEL_METRIC_EXPORT_INTERVAL,
                "0",
            ),
            (
                &[(OTEL_METRIC_EXPORT_INTERVAL, "fast")],
                OTEL_METRIC_EXPORT_INTERVAL,
                "fast",
            ),
            (
                &[(OTEL_METRIC_EXPORT_INTERVAL, "99999999999999999999999")],
                OTEL_METRIC_EXPORT_INTERVAL,
                "99999999999999999999999",
            ),
            (&[(OTEL_SDK_DISABLED, "yes")], OTEL_SDK_DISABLED, "yes"),
            (
                &[endpoint, (OTEL_METRICS_EXPORTER, "prometheus")],
                OTEL_METRICS_EXPORTER,
                "prometheus",
            ),
            (
                &[endpoint, ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon")],
                "OTEL_EXPORTER_OTLP_TIMEOUT",
                "soon",
            ),
            (
                &[endpoint, ("OTEL_TRACES_SAMPLER", "sometimes")],
                "OTEL_TRACES_SAMPLER",
                "sometimes",
            ),
            (
                &[
                    endpoint,
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
                ],
                "OTEL_TRACES_SAMPLER_ARG",
                "1.5",
            ),
            (
                &[endpoint, ("OTEL_TRACES_SAMPLER", "traceidratio")],
                "OTEL_TRACES_SAMPLER",
                "traceidratio",
            ),
            (
                &[endpoint, ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "-5")],
                "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
                "-5",
            ),
            (
                &[endpoint, ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli")],
                "OTEL_EXPORTER_OTLP_COMPRESSION",
                "brotli",
            ),
            (
                &[endpoint, ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "zstd")],
                "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
                "zstd",
            ),
            (
                &[("OTEL_RESOURCE_ATTRIBUTES", "team=etl,nightly")],
                "OTEL_RESOURCE_ATTRIBUTES",
                "team=etl,nightly",
            ),
            (
                &[("OTEL_RESOURCE_ATTRIBUTES", "=etl")],
                "OTEL_RESOURCE_ATTRIBUTES",
                "=etl",
            ),
            (
                &[endpoint, ("OTEL_BSP_SCHEDULE_DELAY", "-1")],
                "OTEL_BSP_SCHEDULE_DELAY",
                "-1",
            ),
            (
                &[endpoint, ("OTEL_BLRP_MAX_QUEUE_SIZE", "0")],
                "OTEL_BLRP_MAX_QUEUE_SIZE",
                "0",
            ),
            (
                &[endpoint, ("OTEL_METRIC_EXPORT_TIMEOUT", "1.5s")],
                "OTEL_METRIC_EXPORT_TIMEOUT",
                "1.5s",
            ),
        ];
        for (vars, variable, value) in cases {
            let settings = read(vars);
            assert_eq!(
                settings.warnings.len(),
                1,
                "{vars:?}: {:?}",
                settings.warnings
            );
            let warning = &settings.warnings[0];
            assert!(
                warning.starts_with(&format!("{variable}={value:?} ")),
                "{warning}"
            );
        }
    }

    #[test]
    fn passwords_in_endpoints_are_never_shown() {
        use super::redact_password;
        assert_eq!(
            redact_password("https://etl:s3cret@collector:4318/v1/metrics"),
            "https://etl:***@collector:4318/v1/metrics"
        );
        assert_eq!(
            redact_password("http://etl@collector:4317"),
            "http://etl@collector:4317"
        );
        assert_eq!(
            redact_password("http://collector:4317/a@b"),
            "http://collector:4317/a@b"
        );
        let settings = read(&[
            (
                OTEL_EXPORTER_OTLP_ENDPOINT,
                "http://etl:s3cret@collector:4317",
            ),
            ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer s3cret"),
        ]);
        assert!(!format!("{settings:?}").contains("s3cret"), "{settings:?}");
        let bad = read(&[(OTEL_EXPORTER_OTLP_ENDPOINT, "http://etl:s3cret@")]);
        assert_eq!(bad.warnings.len(), 1);
        assert!(!bad.warnings[0].contains("s3cret"), "{:?}", bad.warnings);
    }

    #[test]
    fn malformed_headers_are_named_without_their_values() {
        let endpoint = (OTEL_EXPORTER_OTLP_ENDPOINT, "http://127.0.0.1:4317");
        let cases = [
            ("Bearer s3cret-token", "has an entry without `=` (entry 1)"),
            (
                "api-key=s3cret-token,=s3cret-token",
                "has an entry without a key (entry 2)",
            ),
            (
                "authorization= ",
                "gives header `authorization` no value (entry 1)",
            ),
            (
                "bad key=s3cret-token",
                "whose key is not a valid header name (entry 1)",
            ),
        ];
        for (headers, problem) in cases {
            let settings = read(&[endpoint, ("OTEL_EXPORTER_OTLP_HEADERS", headers)]);
            assert_eq!(
                settings.warnings.len(),
                1,
                "{headers}: {:?}",
                settings.warnings
            );
            let warning = &settings.warnings[0];
            assert!(
                warning.starts_with("OTEL_EXPORTER_OTLP_HEADERS (value not shown) "),
                "{warning}"
            );
            assert!(warning.contains(problem), "{warning}");
            assert!(
                !warning.contains("s3cret"),
                "a header value leaked: {warning}"
            );
        }
        let fine = read(&[
            endpoint,
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=abc%20def, x-tenant=7",
            ),
        ]);
        assert!(fine.warnings.is_empty(), "{:?}", fine.warnings);
    }

    #[test]
    fn good_exporter_options_give_no_warning() {
        let settings = read(&[
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://127.0.0.1:4317"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none"),
        ]);
        assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
    }

    #[test]
    fn a_bad_interval_falls_back_to_the_default() {
        let settings = read(&[(OTEL_METRIC_EXPORT_INTERVAL, "0")]);
        assert_eq!(
            settings.metric_export_interval,
            DEFAULT_METRIC_EXPORT_INTERVAL
        );
        let settings = read(&[(OTEL_METRIC_EXPORT_INTERVAL, "250")]);
        assert_eq!(settings.metric_export_interval, Duration::from_millis(250));
    }

    #[test]
    fn a_bad_endpoint_turns_its_signal_off_and_a_bad_protocol_falls_back() {
        assert_eq!(
            read(&[(OTEL_EXPORTER_OTLP_ENDPOINT, "localhost:4317")]).metrics,
            None
        );
        let json = read(&[
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://h:4318"),
            (OTEL_EXPORTER_OTLP_PROTOCOL, "http/json"),
        ]);
        assert_eq!(json.metrics.unwrap().protocol, Protocol::HttpProtobuf);
        let junk = read(&[
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://h:4317"),
            (OTEL_EXPORTER_OTLP_PROTOCOL, "udp"),
        ]);
        assert_eq!(junk.metrics.unwrap().protocol, Protocol::Grpc);
    }
}
