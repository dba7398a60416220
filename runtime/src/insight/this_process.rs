//! This process as its snapshots name it ([`Source`]): its resource's service and
//! instance, host, process id and job, set once when telemetry starts.

use std::sync::OnceLock;
use std::time::SystemTime;

use opentelemetry::trace::{TraceContextExt, TraceId};
use opentelemetry::{Context, Key};
use opentelemetry_sdk::Resource;

use crate::insight::snapshot::{Source, SourceState};

struct Identity {
    instance: String,
    service: String,
    host: Option<String>,
    job: Option<String>,
}

static IDENTITY: OnceLock<Identity> = OnceLock::new();

/// The job of a process started in `environment_parent` (`TRACEPARENT`): its trace id.
pub(crate) fn job_of(environment_parent: Option<&Context>) -> Option<String> {
    environment_parent
        .map(|parent| parent.span().span_context().trace_id())
        .filter(|trace| *trace != TraceId::INVALID)
        .map(|trace| trace.to_string())
}

/// Names this process after `resource`, in `job`.
pub(crate) fn set(resource: &Resource, job: Option<String>) {
    let text = |key: &'static str| {
        resource
            .get(&Key::from_static_str(key))
            .map(|value| value.as_str().into_owned())
            .unwrap_or_default()
    };
    // A second start (refused) keeps the first's names.
    let _ = IDENTITY.set(Identity {
        instance: text("service.instance.id"),
        service: text("service.name"),
        host: host_name(),
        job,
    });
}

/// This process's `service.instance.id` (empty before telemetry starts).
pub(crate) fn instance() -> String {
    IDENTITY
        .get()
        .map(|id| id.instance.clone())
        .unwrap_or_default()
}

/// This process's host name, when known.
pub(crate) fn host() -> Option<String> {
    IDENTITY.get().map_or_else(host_name, |id| id.host.clone())
}

/// This process as of now, in `state`.
pub(crate) fn source(state: SourceState) -> Source {
    let identity = IDENTITY.get();
    Source {
        instance: identity.map(|id| id.instance.clone()).unwrap_or_default(),
        service: identity.map(|id| id.service.clone()).unwrap_or_default(),
        host: host(),
        pid: std::process::id(),
        job: identity.and_then(|id| id.job.clone()),
        taken: SystemTime::now(),
        next_within: None,
        state,
    }
}

#[cfg(feature = "process-metrics")]
fn host_name() -> Option<String> {
    sysinfo::System::host_name()
}

#[cfg(not(feature = "process-metrics"))]
fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|name| !name.is_empty())
}
