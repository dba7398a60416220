//! One operator's counters in a snapshot, and what follows from them, in groups: its
//! calls, rows, bytes, time, what it said to expect and its progress, its per-call
//! distributions, and how its work spread over threads and partitions.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    CallBuckets, Estimate, Memory, NodeRef, OperatorLogs, Percentiles, Share, Skew, SlowCall,
};
use crate::operator::engine_metrics::EngineValue;

/// The counters of one operator, and what follows from them.
///
/// Beside each counter, the metric it is exported as (in [`names`](crate::names), labelled
/// `node.id` and `node.type`).
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
    /// Its calls (tasks), by how they ended.
    #[serde(default)]
    pub calls: CallCounts,
    /// The rows it took and gave.
    #[serde(default)]
    pub rows: RowCounts,
    /// The bytes it read and wrote.
    #[serde(default)]
    pub bytes: ByteCounts,
    /// Where its calls' time went: its own work, and waiting.
    #[serde(default)]
    pub time: TimeSplit,
    /// The totals it said to expect.
    #[serde(default)]
    pub expected: Expected,
    /// Its progress toward the total it said, or that follows from its inputs'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Estimate>,
    /// Its calls one by one: busy time and rows per call, and the slowest calls.
    #[serde(default)]
    pub distributions: Distributions,
    /// How its work spread over the threads that ran it and the partitions it was
    /// called for.
    #[serde(default)]
    pub skew: WorkSkew,
    /// The heap memory it allocated, with the tracking allocator (feature `alloc`);
    /// `None` without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    /// Its log lines: `tracing` events inside its calls and its child processes' output;
    /// `None` when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<OperatorLogs>,
    /// The engine's own metrics of the operator (DataFusion's `ExecutionPlan::metrics()`
    /// through pipetel-datafusion, or any [`EngineMetrics`](crate::engine::EngineMetrics)
    /// source), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub engine_metrics: BTreeMap<String, EngineValue>,
}

/// An operator's calls (tasks), by how they ended.
///
/// A call is one invocation of an annotated function or [`Operator`](crate::Operator)
/// scope; for an async function, its future from creation to drop; for a function
/// returning an iterator or stream, the call and every item it hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct CallCounts {
    /// Calls running now ([`TASK_ACTIVE`](crate::names::TASK_ACTIVE)).
    pub active: i64,
    /// Calls that completed ([`TASK_COMPLETED`](crate::names::TASK_COMPLETED)).
    pub completed: u64,
    /// Calls that failed: returned `Err`, panicked, or handed out an `Err` item
    /// ([`TASK_FAILED`](crate::names::TASK_FAILED)).
    pub failed: u64,
    /// Calls dropped before they finished: a future or an iterator not driven to its
    /// end ([`TASK_CANCELLED`](crate::names::TASK_CANCELLED)).
    pub cancelled: u64,
}

/// The rows an operator took and gave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct RowCounts {
    /// Rows it counted coming in: arguments of type [`Rows`](crate::Rows), `add_rows_in`,
    /// a [`Feed`](crate::engine::Feed) ([`ROWS_IN`](crate::names::ROWS_IN)).
    pub received: u64,
    /// Rows it produced ([`ROWS_OUT`](crate::names::ROWS_OUT)).
    pub produced: u64,
    /// Rows it wrote to a destination ([`ROWS_WRITTEN`](crate::names::ROWS_WRITTEN)).
    pub written: u64,
    /// Rows that came in: `received` when the operator counts its input, else the rows
    /// its input edges carried (an iterator or stream over its child's).
    pub input: u64,
    /// `produced / input`, when rows came in: below 1 a filter's selectivity, above 1 an
    /// amplification.
    pub selectivity: Option<f64>,
    /// Rows handled per busy second (`input`, or `produced` for a source), when busy.
    pub per_busy_second: Option<f64>,
}

/// The bytes an operator read and wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct ByteCounts {
    /// Bytes read ([`BYTES_READ`](crate::names::BYTES_READ)).
    pub read: u64,
    /// Bytes written ([`BYTES_WRITTEN`](crate::names::BYTES_WRITTEN)).
    pub written: u64,
}

/// Where an operator's calls' time went: its own work (`busy`) and the three ways of
/// waiting, which add up to `wall`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct TimeSplit {
    /// Its own work, inside its calls, less the time of the operators nested in them and
    /// of waits on channels ([`DURATION`](crate::names::DURATION)).
    pub busy: Duration,
    /// Waiting for input: inside its calls, the operators nested in them (its inputs,
    /// pulled) and receives on empty pipetel channels; between the polls of an async or
    /// streaming call, from a `Pending` to the wake ([`WAIT`](crate::names::WAIT), by
    /// state, as are `blocked` and `queued`).
    pub starved: Duration,
    /// Its output not taken: sends on full pipetel channels; between the items of an
    /// iterator or stream, from handing one out to being asked for the next.
    pub blocked: Duration,
    /// An async call woken (or not yet polled) and waiting for its executor.
    pub queued: Duration,
    /// `busy + starved + blocked + queued`: the time from each call's (or task's) start
    /// to its end, summed over calls; calls running now count to their last poll.
    pub wall: Duration,
    /// Its share of all operators' busy time, from 0 to 1.
    pub busy_share: f64,
}

/// The totals an operator said to expect
/// ([`Operator::set_expected_rows`](crate::Operator::set_expected_rows) and its
/// siblings), from which its [`Estimate`] follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Expected {
    /// The rows it will produce in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// The bytes it will read in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The calls it will make in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<u64>,
}

/// An operator's calls one by one (per segment: a call, a poll, an item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Distributions {
    /// Busy time per call: quantiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_per_call: Option<Percentiles<Duration>>,
    /// Rows per hand-over (a call's output, an item): quantiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_per_call: Option<Percentiles<u64>>,
    /// Bytes allocated per call (a call, a poll, an item: its own, not what operators
    /// nested in it allocated), with the tracking allocator
    /// (`pipetel::alloc`, feature `alloc`): quantiles. `None` without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated_per_call: Option<Percentiles<u64>>,
    /// The slowest calls, slowest first: at most
    /// [`SLOWEST_CALLS`](crate::limits::SLOWEST_CALLS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slowest_calls: Vec<SlowCall>,
    /// The buckets behind `busy_per_call`, `rows_per_call` and `allocated_per_call`: they
    /// add bucket by bucket across snapshots of the same operator.
    #[serde(default)]
    pub buckets: CallBuckets,
}

/// How an operator's work spread over the threads that ran it and the partitions it was
/// called for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct WorkSkew {
    /// What each thread that ran the operator did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<Share>,
    /// What each partition did, for operators whose calls say their partition
    /// (`#[operator(partition = …)]`, [`Operator::partition`](crate::Operator::partition)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<Share>,
    /// What each process did, in a [merged](crate::snapshot::Snapshot::merge) snapshot
    /// (named by [`Source::name`](crate::snapshot::Source::name)); empty in a process's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<Share>,
    /// Skew across `threads`, when two or more ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub across_threads: Option<Skew>,
    /// Skew across `partitions`, when there are two or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub across_partitions: Option<Skew>,
    /// Skew across `workers`, when two or more processes ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub across_workers: Option<Skew>,
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
    /// assert_eq!(total.rows.input, 12); // the rows its input edge carried
    /// # drop(telemetry);
    /// ```
    pub fn node(&self) -> NodeRef {
        NodeRef {
            node_type: self.node_type.clone(),
            node_id: self.node_id.clone(),
        }
    }
}
