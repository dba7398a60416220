//! The snapshot's data: every operator's counters, the runs and steps seen, the graph, and
//! what the analyses found, as plain data serialisable with serde — the Rust API behind
//! the report, and the format `Report::json` writes. Data only: [`snapshot`](crate::snapshot())
//! reads the counters into it, and the analyses (`insight::bottleneck`, `estimates`, …)
//! fill it; both sit above this module.

mod bottleneck;
mod diagnosis;
mod distribution;
mod estimate;
mod graph;
mod imbalance;
mod logs;
mod memory;
mod operator;
mod share_name;
mod skew;
mod source;

pub use bottleneck::{Bottleneck, Waiting};
pub use diagnosis::{Diagnosis, DiagnosisKind, Severity};
pub use distribution::{CallBuckets, Percentiles, SlowCall};
pub use estimate::{Basis, Estimate, Overall};
pub use graph::{ChannelSnapshot, EdgeSnapshot, EdgeVia, NodeRef};
pub use imbalance::Imbalance;
pub use logs::{LogLine, OperatorLogs};
pub use memory::Memory;
pub use operator::{
    ByteCounts, CallCounts, Distributions, Expected, OperatorSnapshot, RowCounts, TimeSplit,
    WorkSkew,
};
pub use share_name::ShareName;
pub use skew::{Share, Skew, Spread};
pub use source::{Source, SourceState};

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The version of the snapshot format this release writes ([`Snapshot::schema_version`]).
///
/// It changes whenever a field is removed, renamed or changes its meaning or unit; a
/// field added with a default keeps it. A reader checks it ([`Snapshot::from_json`]
/// does) before it trusts the rest. Version 1 differed in the per-call buckets only
/// (by index, busy ones in clock ticks): [`Snapshot::from_json`] reads it too.
pub const SCHEMA_VERSION: u32 = 2;

/// Everything counted so far in this process.
///
/// Serialised with serde, it is the snapshot format — what [`Report::json`](crate::Report::json),
/// `PIPETEL_REPORT=….json` and the dashboard's `/api/snapshot.json` write: one JSON
/// object whose keys are the fields below (each documented there, durations as
/// `{"secs", "nanos"}`), with [`schema_version`](Self::schema_version) first.
/// [`Snapshot::from_json`] reads it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// The version of this format: [`SCHEMA_VERSION`] for a snapshot of this release.
    pub schema_version: u32,
    /// The processes whose counters it holds: this one for [`snapshot`](crate::snapshot()),
    /// one per process for a [merged](Snapshot::merge) snapshot (empty for a view that
    /// has no process of its own, such as [`Snapshot::since`]'s of two merged ones).
    #[serde(default)]
    pub sources: Vec<Source>,
    /// One entry per operator (`node.type`, `node.id`), in order of first call.
    pub operators: Vec<OperatorSnapshot>,
    /// One entry per step of each pipeline, in order of first call.
    pub steps: Vec<StepSnapshot>,
    /// One entry per pipeline, in order of first run.
    pub runs: Vec<RunSnapshot>,
    /// The operator graph: one entry per (producer, consumer, how found), in order of
    /// discovery.
    #[serde(default)]
    pub edges: Vec<EdgeSnapshot>,
    /// What went through each pipetel channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelSnapshot>,
    /// Rows lost or duplicated between operators (the conservation check).
    #[serde(default)]
    pub imbalances: Vec<Imbalance>,
    /// The operator that limits the pipeline, once any operator was busy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottleneck: Option<Bottleneck>,
    /// The whole pipeline's progress: that of the operator that will finish last, once
    /// an operator said what to expect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overall: Option<Overall>,
    /// The heap memory allocated outside any operator (and before telemetry started),
    /// with the tracking allocator (feature `alloc`); `None` without it. Each operator's
    /// own is its [`memory`](OperatorSnapshot::memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unattributed_memory: Option<Memory>,
    /// What the built-in checks found (`insight::diagnoses`).
    #[serde(default)]
    pub diagnoses: Vec<Diagnosis>,
}

/// The calls of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct StepSnapshot {
    /// The pipeline the step ran in (`None`: outside any run).
    pub pipeline: Option<String>,
    /// The step's name.
    pub step: String,
    /// Calls that ended.
    pub calls: u64,
    /// Calls that failed.
    pub failed: u64,
    /// Calls running now.
    pub active: u64,
    /// Time inside the step's calls.
    pub time: Duration,
    /// Rows the step's calls produced.
    pub rows: u64,
}

/// The runs of one pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct RunSnapshot {
    /// The `pipeline.name`.
    pub pipeline: String,
    /// Runs that ended.
    pub runs: u64,
    /// Runs that failed.
    pub failed: u64,
    /// Runs running now.
    pub active: u64,
    /// Time inside the runs.
    pub time: Duration,
    /// Rows of all their steps.
    pub rows: u64,
}

impl Default for Snapshot {
    /// An empty snapshot, of this release's format.
    fn default() -> Self {
        Snapshot {
            schema_version: SCHEMA_VERSION,
            sources: Vec::new(),
            operators: Vec::new(),
            steps: Vec::new(),
            runs: Vec::new(),
            edges: Vec::new(),
            channels: Vec::new(),
            imbalances: Vec::new(),
            bottleneck: None,
            overall: None,
            unattributed_memory: None,
            diagnoses: Vec::new(),
        }
    }
}

/// Why [`Snapshot::from_json`] could not read a snapshot.
#[derive(Debug)]
#[non_exhaustive]
pub enum FormatError {
    /// The text is not a snapshot's JSON (the error says where and why).
    Json(serde_json::Error),
    /// The snapshot is of a format version this release does not read.
    Version {
        /// The version the text says.
        found: u64,
        /// The latest version this release reads ([`SCHEMA_VERSION`]).
        supported: u32,
    },
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::Json(error) => write!(f, "not a pipetel snapshot: {error}"),
            FormatError::Version { found, supported } => write!(
                f,
                "a pipetel snapshot of schema_version {found}; this release reads versions 1 \
                 to {supported}"
            ),
        }
    }
}

impl std::error::Error for FormatError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FormatError::Json(error) => Some(error),
            FormatError::Version { .. } => None,
        }
    }
}

impl Snapshot {
    /// The operator labelled `node_type` and `node_id`, if it ran.
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// #[pipetel::operator(node_type = "filter", node_id = "small")]
    /// fn keep_small(batch: Vec<u32>) -> Vec<u32> {
    ///     batch.into_iter().filter(|&n| n < 10).collect()
    /// }
    /// keep_small(vec![1, 20, 3, 40]);
    /// let snapshot = pipetel::snapshot();
    /// let filter = snapshot.operator("filter", "small").unwrap();
    /// assert_eq!((filter.rows.received, filter.rows.produced), (4, 2));
    /// # drop(telemetry);
    /// ```
    pub fn operator(&self, node_type: &str, node_id: &str) -> Option<&OperatorSnapshot> {
        self.operators
            .iter()
            .find(|op| op.node_type == node_type && op.node_id == node_id)
    }

    /// Calls running now, over all operators: while there are some, the figures are
    /// not final (a query's view taken right after its result is in may still have
    /// tasks the engine is ending).
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let scan = pipetel::Operator::new("scan", "running-doc");
    /// let mut batches = scan.iter(vec![vec![0u8; 5], vec![0u8; 5]]);
    /// batches.next();
    /// assert_eq!(pipetel::snapshot().calls_running(), 1);
    /// drop(batches);
    /// assert_eq!(pipetel::snapshot().calls_running(), 0);
    /// # drop(telemetry);
    /// ```
    pub fn calls_running(&self) -> u64 {
        self.operators
            .iter()
            .map(|op| op.calls.active.max(0).unsigned_abs())
            .sum()
    }

    /// The job its processes worked for: the trace id they were started in
    /// ([`Source::job`]), if any.
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// // Started without `TRACEPARENT`: no job.
    /// assert_eq!(pipetel::snapshot().job(), None);
    /// # drop(telemetry);
    /// ```
    pub fn job(&self) -> Option<&str> {
        self.sources.iter().find_map(|source| source.job.as_deref())
    }

    /// The edges that hand their rows to `node` (its inputs), in order of discovery.
    pub fn edges_into<'s>(&'s self, node: &NodeRef) -> impl Iterator<Item = &'s EdgeSnapshot> + 's {
        let node = node.clone();
        self.edges.iter().filter(move |edge| edge.to == node)
    }

    /// The edges `node` hands its rows along (its outputs), in order of discovery.
    pub fn edges_from<'s>(&'s self, node: &NodeRef) -> impl Iterator<Item = &'s EdgeSnapshot> + 's {
        let node = node.clone();
        self.edges.iter().filter(move |edge| edge.from == node)
    }
}
