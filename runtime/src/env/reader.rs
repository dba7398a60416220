//! Reading the variables one by one, with a check (and a warning naming the variable and
//! the value) for each value pipetel or the SDK cannot use.

use std::time::Duration;

use crate::env::signal_export::{
    is_https, redact_password, Protocol, Signal, SignalExport, DEFAULT_EXPORT_TIMEOUT,
};
use crate::env::tls_files::{self, TlsFiles};
use crate::env::variables::*;

/// What the environment sets of the resource, for what pipetel adds to it (the SDK's
/// detectors read the variables themselves).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ResourceSettings {
    /// `OTEL_SERVICE_NAME`, or a `service.name` entry of `OTEL_RESOURCE_ATTRIBUTES`.
    pub(crate) names_service: bool,
    /// A `service.instance.id` entry of `OTEL_RESOURCE_ATTRIBUTES`.
    pub(crate) sets_instance_id: bool,
}

pub(super) struct Reader<'a> {
    pub(super) lookup: &'a dyn Fn(&str) -> Option<String>,
    pub(super) warnings: Vec<String>,
}

impl Reader<'_> {
    pub(super) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.trim().is_empty())
    }

    /// Records a warning; the same warning (a generic variable read for several signals) once.
    pub(super) fn warn(&mut self, name: &str, value: &str, problem: impl std::fmt::Display) {
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

    /// Reads `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` (`key=value,…`) for what
    /// pipetel adds to the resource, and checks the attributes, whose malformed entries
    /// the SDK drops silently: one warning for the variable, at its first bad entry.
    pub(super) fn resource(&mut self) -> ResourceSettings {
        let names_service = self.get(OTEL_SERVICE_NAME).is_some();
        let Some(value) = self.get(OTEL_RESOURCE_ATTRIBUTES) else {
            return ResourceSettings {
                names_service,
                sets_instance_id: false,
            };
        };
        let mut keys = Vec::new();
        let mut bad = None;
        for (index, entry) in value.split(',').enumerate() {
            match entry.split_once('=') {
                _ if entry.trim().is_empty() => {}
                Some((key, _)) if !key.trim().is_empty() => keys.push(key.trim()),
                Some(_) => {
                    bad = bad.or(Some((index, "has an entry without a key")));
                }
                None => bad = bad.or(Some((index, "has an entry without `=`"))),
            }
        }
        let settings = ResourceSettings {
            names_service: names_service || keys.contains(&"service.name"),
            sets_instance_id: keys.contains(&"service.instance.id"),
        };
        if let Some((index, problem)) = bad {
            self.warn(
                OTEL_RESOURCE_ATTRIBUTES,
                &value,
                format_args!(
                    "{problem} (entry {}); the SDK ignores that entry",
                    index + 1
                ),
            );
        }
        settings
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

    pub(super) fn sdk_disabled(&mut self) -> bool {
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

    pub(super) fn interval(&mut self) -> Duration {
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

    pub(super) fn signal(&mut self, signal: Signal) -> Option<SignalExport> {
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
            signal,
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
            return Protocol::DEFAULT;
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
                    format!(
                        "is not a known protocol (`grpc` or `http/protobuf`); using `{}`",
                        Protocol::DEFAULT.name()
                    ),
                );
                Protocol::DEFAULT
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
