//! One operator's counters in a snapshot, and what follows from them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{CallBuckets, Estimate, NodeRef, Percentiles, Share, Skew, SlowCall};
use crate::operator::engine_metrics::EngineValue;

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
