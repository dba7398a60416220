//! What the environment says: the export settings of each signal, and the warnings.

use std::time::Duration;

use crate::env::pipetel::PipetelSettings;
use crate::env::reader::{Reader, ResourceSettings};
use crate::env::signal_export::{Signal, SignalExport};
use crate::env::variables::*;

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
