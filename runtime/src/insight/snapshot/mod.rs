//! [`snapshot`]: every operator's counters, and the runs and steps seen, as plain data —
//! the Rust API behind the report, serialisable with serde.
//!
//! Taking a snapshot sums every thread's cells (as an export does); it never touches the
//! hot path. Operators are counted while collection is on: with an OTLP metrics endpoint,
//! or locally ([`Config::collect_locally`](crate::Config::collect_locally), `PIPETEL_REPORT`).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::counters::cells::Tally;
use crate::counters::partitions;
use crate::counters::per_call;
use crate::counters::registry;
use crate::counters::sums::Sums;
use crate::insight::bottleneck::{self, Bottleneck};
use crate::insight::conservation::{self, Imbalance};
use crate::insight::diagnoses::{self, Diagnosis};
use crate::insight::distribution::{self, CallBuckets, Percentiles, SlowCall};
use crate::insight::estimates::{self, Estimate, Overall};
use crate::insight::graph::{self, ChannelSnapshot, EdgeSnapshot};
use crate::insight::skew::{Share, Skew};
use crate::operator::clock::ticks_to_nanos;
use crate::operator::engine_metrics::{self, EngineValue};
use crate::pipeline::totals::{self, StepTotals};

/// Everything counted so far in this process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Snapshot {
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
    /// [`Rows`](crate::Rows), `add_rows_in`, a [`Feed`](crate::Feed)), else the rows its
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
    /// [`SLOWEST_CALLS`](crate::SLOWEST_CALLS).
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
    /// through pipetel-datafusion, or any [`EngineMetrics`](crate::EngineMetrics)
    /// source), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub engine_metrics: BTreeMap<String, EngineValue>,
}

/// The calls of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
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

/// Everything counted so far in this process.
///
/// ```
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
///
/// #[pipetel::operator(node_type = "filter")]
/// fn keep_small(batch: Vec<u32>) -> Vec<u32> {
///     batch.into_iter().filter(|&n| n < 10).collect()
/// }
/// keep_small(vec![1, 20, 3, 40]);
///
/// let snapshot = pipetel::snapshot();
/// let filter = snapshot.operators.iter().find(|op| op.node_type == "filter").unwrap();
/// assert_eq!((filter.rows_in, filter.rows_out), (4, 2));
/// assert_eq!(filter.selectivity, Some(0.5));
/// # drop(telemetry);
/// ```
pub fn snapshot() -> Snapshot {
    let (steps, runs) = totals::totals();
    let expected = registry::expected();
    let series_count = registry::series_count();
    let sums = Sums::read(series_count);
    let per_call = per_call::read(series_count);
    let mut partitions = partitions::read(series_count);
    let mut engine = engine_metrics::read();
    let (mut operators, (edges, channels)) = registry::with_labels(|labels| {
        let operators: Vec<OperatorSnapshot> = labels
            .iter()
            .zip(sums.series())
            .zip(&per_call)
            .enumerate()
            .map(|(series, ((label, sums), per_call))| {
                let sum = |tally: Tally| sums.get(tally);
                let step = sums.step.step().and_then(|id| steps.get(id.index()));
                OperatorSnapshot {
                    node_id: label.node_id.to_owned(),
                    node_type: label.node_type.to_owned(),
                    pipeline: step.and_then(|step| step.pipeline).map(str::to_owned),
                    step: step.map(|step| step.step.to_owned()),
                    rows_in: sum(Tally::RowsIn),
                    rows_out: sum(Tally::RowsOut),
                    rows_written: sum(Tally::RowsWritten),
                    bytes_read: sum(Tally::BytesRead),
                    bytes_written: sum(Tally::BytesWritten),
                    busy: Duration::from_nanos(ticks_to_nanos(sum(Tally::BusyTicks))),
                    starved: Duration::from_nanos(ticks_to_nanos(sum(Tally::StarvedTicks))),
                    blocked: Duration::from_nanos(ticks_to_nanos(sum(Tally::BlockedTicks))),
                    queued: Duration::from_nanos(ticks_to_nanos(sum(Tally::QueuedTicks))),
                    tasks_active: i64::try_from(sums.active()).unwrap_or(i64::MAX),
                    tasks_completed: sum(Tally::Completed),
                    tasks_failed: sum(Tally::Failed),
                    tasks_cancelled: sum(Tally::Cancelled),
                    expected_rows: expected.get(&(series as u32)).and_then(|e| e.rows),
                    expected_bytes: expected.get(&(series as u32)).and_then(|e| e.bytes),
                    expected_calls: expected.get(&(series as u32)).and_then(|e| e.calls),
                    engine_metrics: engine.remove(&(series as u32)).unwrap_or_default(),
                    call_buckets: CallBuckets::of(per_call),
                    slowest_calls: distribution::slowest(per_call),
                    partitions: partition_shares(&mut partitions, series as u32),
                    threads: per_call
                        .threads
                        .iter()
                        .map(|share| Share {
                            at: share.thread.clone(),
                            rows: share.rows_out,
                            busy_ns: ticks_to_nanos(share.busy_ticks),
                        })
                        .collect(),
                    ..OperatorSnapshot::default()
                }
            })
            .collect();
        (operators, graph::read(labels))
    });
    derive_rates(&mut operators, &edges);
    let imbalances = conservation::check(&operators, &edges, &channels);
    let bottleneck = bottleneck::find(&operators, &edges);
    let overall = estimates::estimate(&mut operators, &edges);
    let mut snapshot = Snapshot {
        bottleneck,
        overall,
        diagnoses: Vec::new(),
        operators,
        edges,
        channels,
        imbalances,
        steps: steps.iter().map(step_snapshot).collect(),
        runs: runs
            .into_iter()
            .map(|run| RunSnapshot {
                pipeline: run.pipeline.to_owned(),
                runs: run.runs,
                failed: run.failed,
                active: run.active,
                time: run.time,
                rows: run.rows,
            })
            .collect(),
    };
    let thresholds = diagnoses::thresholds();
    let mut found = diagnoses::of_snapshot(&snapshot, &thresholds);
    found.extend(diagnoses::over_time(&snapshot, &thresholds));
    diagnoses::log_new(&found);
    snapshot.diagnoses = found;
    snapshot
}

/// The shares of `series`' partitions, in partition order, taken out of `partitions`.
fn partition_shares(
    partitions: &mut HashMap<u32, Vec<(u32, u64, u64)>>,
    series: u32,
) -> Vec<Share> {
    partitions
        .remove(&series)
        .unwrap_or_default()
        .into_iter()
        .map(|(partition, rows, busy_ticks)| Share {
            at: partition.to_string().into(),
            rows,
            busy_ns: ticks_to_nanos(busy_ticks),
        })
        .collect()
}

fn step_snapshot(step: &StepTotals) -> StepSnapshot {
    StepSnapshot {
        pipeline: step.pipeline.map(str::to_owned),
        step: step.step.to_owned(),
        calls: step.calls,
        failed: step.failed,
        active: step.active,
        time: step.time,
        rows: step.rows,
    }
}

/// Fills input rows, selectivity, throughput, busy share, distributions and skew from
/// the counters, buckets and shares, and the rows on the graph's edges.
pub(crate) fn derive_rates(operators: &mut [OperatorSnapshot], edges: &[EdgeSnapshot]) {
    let total_busy: Duration = operators.iter().map(|op| op.busy).sum();
    let mut carried: HashMap<(&str, &str), u64> = HashMap::new();
    for edge in edges {
        *carried
            .entry((edge.to.node_type.as_str(), edge.to.node_id.as_str()))
            .or_default() += edge.rows_received.unwrap_or(edge.rows);
    }
    for op in operators {
        op.wall = op.busy + op.starved + op.blocked + op.queued;
        op.busy_per_call = op.call_buckets.busy_percentiles();
        op.rows_per_call = op.call_buckets.rows_percentiles();
        op.thread_skew = Skew::of(&op.threads);
        op.partition_skew = Skew::of(&op.partitions);
        op.input_rows = match op.rows_in {
            0 => carried
                .get(&(op.node_type.as_str(), op.node_id.as_str()))
                .copied()
                .unwrap_or(0),
            counted => counted,
        };
        op.selectivity = (op.input_rows > 0).then(|| op.rows_out as f64 / op.input_rows as f64);
        let handled = if op.input_rows > 0 {
            op.input_rows
        } else {
            op.rows_out
        };
        let seconds = op.busy.as_secs_f64();
        op.rows_per_second = (seconds > 0.0).then(|| handled as f64 / seconds);
        op.busy_share = if total_busy.is_zero() {
            0.0
        } else {
            op.busy.as_secs_f64() / total_busy.as_secs_f64()
        };
    }
}
