//! Where a snapshot's figures come from: the processes that counted them, and whether
//! each is still running.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// A process whose counters a snapshot holds: one for a process's own snapshot, one per
/// process for a [merged](crate::snapshot::Snapshot::merge) one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Source {
    /// The process's `service.instance.id` (from `OTEL_RESOURCE_ATTRIBUTES`, or one
    /// pipetel made up for it): what tells its snapshots from another process's.
    pub instance: String,
    /// Its `service.name`.
    pub service: String,
    /// Its host's name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Its process id.
    pub pid: u32,
    /// The job it worked for: the trace id (32 hex digits) of the `TRACEPARENT` it was
    /// started with, when it was. Processes of one job merge into one report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// When its snapshot was taken.
    pub taken: SystemTime,
    /// In a snapshot directory's file, the longest until the process writes its next
    /// one, as it planned: a process silent for much longer has stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_within: Option<Duration>,
    /// Whether it is still running.
    pub state: SourceState,
}

/// Whether a snapshot's process is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SourceState {
    /// It was running when its snapshot was taken: more may come.
    Live,
    /// Its telemetry had stopped (its last snapshot): the figures are final.
    Done,
    /// It stopped without saying so (killed, or its snapshots ceased): its figures are
    /// those of its last snapshot, `age` old when it was read.
    Partial {
        /// How long before the read its last snapshot was taken.
        age: Duration,
    },
}

impl Source {
    /// A short name for the process in a report: its host (when known) and process id,
    /// `host:pid`.
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let snapshot = pipetel::snapshot();
    /// let source = &snapshot.sources[0];
    /// assert!(source.name().ends_with(&format!(":{}", std::process::id())));
    /// # drop(telemetry);
    /// ```
    pub fn name(&self) -> String {
        format!("{}:{}", self.host.as_deref().unwrap_or("process"), self.pid)
    }
}
