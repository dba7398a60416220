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
mod skew;

pub use bottleneck::{Bottleneck, Waiting};
pub use diagnosis::{Diagnosis, DiagnosisKind, Severity};
pub use distribution::{CallBuckets, Percentiles, SlowCall};
pub use estimate::{Basis, Estimate, Overall};
pub use graph::{ChannelSnapshot, EdgeSnapshot, EdgeVia, NodeRef};
pub use imbalance::Imbalance;
pub use skew::{Share, Skew, Spread};

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::operator::engine_metrics::EngineValue;

/// The version of the snapshot format this release writes ([`Snapshot::schema_version`]).
///
/// It changes whenever a field is removed, renamed or changes its meaning or unit; a
/// field added with a default keeps it. A reader checks it ([`Snapshot::from_json`]
/// does) before it trusts the rest.
pub const SCHEMA_VERSION: u32 = 1;

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
    /// What the built-in checks found (`insight::diagnoses`).
    #[serde(default)]
    pub diagnoses: Vec<Diagnosis>,
}

/// The counters of one operator, and what follows from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct OperatorSnapshot {
    /// The `node.id` label.
    pub node_id: String,
    /// The `node.type` label.
    pub node_type: String,
    /// The pipeline of the step the operator last ran in, if any.
    pub pipeline: Option<String>,
    /// The step the operator last ran in, if any: of the step calls it ran inside, on
    /// any thread, the one that started last.
    pub step: Option<String>,
    /// Rows received.
    pub rows_in: u64,
    /// Rows produced.
    pub rows_out: u64,
    /// Rows written to a destination.
    pub rows_written: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Busy time: the operator's own work, inside its calls (less the time of the
    /// operators nested in them and of waits on channels).
    pub busy: Duration,
    /// Starved time: waiting for input — inside its calls, the operators nested in them
    /// (its inputs, pulled) and receives on empty pipetel channels; between the polls of
    /// an async or streaming call, from a `Pending` to the wake.
    #[serde(default)]
    pub starved: Duration,
    /// Blocked time: its output not taken — sends on full pipetel channels; between the
    /// items of an iterator or stream, from handing one out to being asked for the next.
    #[serde(default)]
    pub blocked: Duration,
    /// Queued time: an async call woken (or not yet polled) and waiting for its executor.
    #[serde(default)]
    pub queued: Duration,
    /// `busy + starved + blocked + queued`: the time from each call's (or task's) start
    /// to its end, summed over calls; calls running now count to their last poll.
    #[serde(default)]
    pub wall: Duration,
    /// Calls running now.
    pub tasks_active: i64,
    /// Calls that completed.
    pub tasks_completed: u64,
    /// Calls that failed.
    pub tasks_failed: u64,
    /// Calls that were cancelled.
    pub tasks_cancelled: u64,
    /// Rows that came in: `rows_in` when the operator counts its input (arguments with
    /// [`Rows`](crate::Rows), `add_rows_in`, a [`Feed`](crate::engine::Feed)), else the rows its
    /// input edges carried (an iterator or stream over its child's).
    #[serde(default)]
    pub input_rows: u64,
    /// `rows_out / input_rows`, when rows came in: below 1 a filter's selectivity, above
    /// 1 an amplification.
    pub selectivity: Option<f64>,
    /// Rows handled per busy second (`input_rows`, or `rows_out` for a source), when busy.
    pub rows_per_second: Option<f64>,
    /// This operator's share of all operators' busy time, from 0 to 1.
    pub busy_share: f64,
    /// The rows it said to expect in all, if it did.
    pub expected_rows: Option<u64>,
    /// The bytes it said it will read in all, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_bytes: Option<u64>,
    /// The calls it said it will make in all, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_calls: Option<u64>,
    /// Its progress toward the total it said, or that follows from its inputs'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Estimate>,
    /// Busy time per call (per segment: a call, a poll, an item): quantiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_per_call: Option<Percentiles<Duration>>,
    /// Rows per hand-over (a call's output, an item): quantiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_per_call: Option<Percentiles<u64>>,
    /// The slowest calls (segments), slowest first: at most
    /// [`SLOWEST_CALLS`](crate::limits::SLOWEST_CALLS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slowest_calls: Vec<SlowCall>,
    /// What each thread that ran the operator did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<Share>,
    /// What each partition did, for operators whose calls say their partition
    /// (`#[operator(partition = …)]`, [`Operator::partition`](crate::Operator::partition)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<Share>,
    /// Skew across `threads`, when two or more ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_skew: Option<Skew>,
    /// Skew across `partitions`, when there are two or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_skew: Option<Skew>,
    /// The buckets behind `busy_per_call` and `rows_per_call`.
    #[serde(default)]
    pub call_buckets: CallBuckets,
    /// The engine's own metrics of the operator (DataFusion's `ExecutionPlan::metrics()`
    /// through pipetel-datafusion, or any [`EngineMetrics`](crate::engine::EngineMetrics)
    /// source), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub engine_metrics: BTreeMap<String, EngineValue>,
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

impl OperatorSnapshot {
    /// The operator as an edge names it: its `node.type` and `node.id`.
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// #[pipetel::operator(node_type = "scan", node_id = "numbers")]
    /// fn scan() -> impl Iterator<Item = Vec<u32>> {
    ///     (0..3).map(|n| vec![n; 4])
    /// }
    /// #[pipetel::operator(node_type = "sum", node_id = "total")]
    /// fn sum(input: impl Iterator<Item = Vec<u32>>) -> u32 {
    ///     input.flatten().sum()
    /// }
    /// assert_eq!(sum(scan()), 12);
    /// let snapshot = pipetel::snapshot();
    /// let total = snapshot.operator("sum", "total").unwrap();
    /// let inputs: Vec<_> = snapshot.edges_into(&total.node()).collect();
    /// assert_eq!(inputs.len(), 1);
    /// assert_eq!((inputs[0].from.node_type.as_str(), inputs[0].rows), ("scan", 12));
    /// # drop(telemetry);
    /// ```
    pub fn node(&self) -> NodeRef {
        NodeRef {
            node_type: self.node_type.clone(),
            node_id: self.node_id.clone(),
        }
    }
}

impl Default for Snapshot {
    /// An empty snapshot, of this release's format.
    fn default() -> Self {
        Snapshot {
            schema_version: SCHEMA_VERSION,
            operators: Vec::new(),
            steps: Vec::new(),
            runs: Vec::new(),
            edges: Vec::new(),
            channels: Vec::new(),
            imbalances: Vec::new(),
            bottleneck: None,
            overall: None,
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
        /// The version this release reads ([`SCHEMA_VERSION`]).
        supported: u32,
    },
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::Json(error) => write!(f, "not a pipetel snapshot: {error}"),
            FormatError::Version { found, supported } => write!(
                f,
                "a pipetel snapshot of schema_version {found}; this release reads version \
                 {supported}"
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
    /// assert_eq!((filter.rows_in, filter.rows_out), (4, 2));
    /// # drop(telemetry);
    /// ```
    pub fn operator(&self, node_type: &str, node_id: &str) -> Option<&OperatorSnapshot> {
        self.operators
            .iter()
            .find(|op| op.node_type == node_type && op.node_id == node_id)
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

    /// Reads a snapshot written by [`Report::json`](crate::Report::json) (or
    /// `PIPETEL_REPORT=….json`, or `/api/snapshot.json`), refusing a format version this
    /// release does not know rather than misreading it.
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let written = pipetel::report().json();
    /// let read = pipetel::snapshot::Snapshot::from_json(&written).unwrap();
    /// assert_eq!(read.schema_version, pipetel::snapshot::SCHEMA_VERSION);
    ///
    /// let future = written.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1);
    /// let error = pipetel::snapshot::Snapshot::from_json(&future).unwrap_err();
    /// assert!(error.to_string().contains("schema_version 99"), "{error}");
    /// # drop(telemetry);
    /// ```
    pub fn from_json(text: &str) -> Result<Snapshot, FormatError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: u64,
        }
        let Version { schema_version } = serde_json::from_str(text).map_err(FormatError::Json)?;
        if schema_version != u64::from(SCHEMA_VERSION) {
            return Err(FormatError::Version {
                found: schema_version,
                supported: SCHEMA_VERSION,
            });
        }
        serde_json::from_str(text).map_err(FormatError::Json)
    }
}
