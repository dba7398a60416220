//! [`snapshot`]: every thread's cells summed (as an export does) into a [`Snapshot`], and
//! the analyses run on it — the graph's rates, skew, estimates, the bottleneck, the
//! conservation check and the diagnoses.
//!
//! It never touches the hot path. Operators are counted while collection is on: with an
//! OTLP metrics endpoint, or locally ([`Config::collect_locally`](crate::Config::collect_locally),
//! `PIPETEL_REPORT`).

use std::collections::HashMap;

use crate::counters::cells::Tally;
use crate::counters::partitions;
use crate::counters::per_call;
use crate::counters::registry;
use crate::counters::sums::Sums;
use crate::insight::look::Look;
use crate::insight::snapshot::{
    ByteCounts, CallBuckets, CallCounts, Distributions, EdgeSnapshot, Expected, OperatorSnapshot,
    RowCounts, RunSnapshot, Share, Skew, Snapshot, StepSnapshot, TimeSplit, WorkSkew,
    SCHEMA_VERSION,
};
use crate::insight::{bottleneck, conservation, diagnoses, distribution, estimates, graph};
use crate::operator::clock::ticks_to_nanos;
use crate::operator::engine_metrics;
use crate::pipeline::totals::{self, StepTotals};
use std::time::Duration;

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
/// assert_eq!((filter.rows.received, filter.rows.produced), (4, 2));
/// assert_eq!(filter.rows.selectivity, Some(0.5));
/// # drop(telemetry);
/// ```
///
/// A pure read: what the analyses remember between snapshots (smoothed rates, the floor
/// of each fraction, since when nothing moved, the diagnoses already logged) is
/// pipetel's observers' to advance — the watcher's, the progress display's, the
/// dashboard's; a snapshot reads it and changes nothing.
pub fn snapshot() -> Snapshot {
    take(Look::Read)
}

/// A snapshot taken by one of pipetel's observers: it advances what the analyses
/// remember, and sends the log record of each diagnosis seen for the first time.
pub(crate) fn observe() -> Snapshot {
    take(Look::Observe)
}

fn take(look: Look) -> Snapshot {
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
                let time = |tally: Tally| Duration::from_nanos(ticks_to_nanos(sum(tally)));
                let step = sums.step.step().and_then(|id| steps.get(id.index()));
                OperatorSnapshot {
                    node_id: label.node_id.to_owned(),
                    node_type: label.node_type.to_owned(),
                    pipeline: step.and_then(|step| step.pipeline).map(str::to_owned),
                    step: step.map(|step| step.step.to_owned()),
                    calls: CallCounts {
                        active: i64::try_from(sums.active()).unwrap_or(i64::MAX),
                        completed: sum(Tally::Completed),
                        failed: sum(Tally::Failed),
                        cancelled: sum(Tally::Cancelled),
                    },
                    rows: RowCounts {
                        received: sum(Tally::RowsIn),
                        produced: sum(Tally::RowsOut),
                        written: sum(Tally::RowsWritten),
                        ..RowCounts::default()
                    },
                    bytes: ByteCounts {
                        read: sum(Tally::BytesRead),
                        written: sum(Tally::BytesWritten),
                    },
                    time: TimeSplit {
                        busy: time(Tally::BusyTicks),
                        starved: time(Tally::StarvedTicks),
                        blocked: time(Tally::BlockedTicks),
                        queued: time(Tally::QueuedTicks),
                        ..TimeSplit::default()
                    },
                    expected: expected
                        .get(&(series as u32))
                        .map(|said| Expected {
                            rows: said.rows,
                            bytes: said.bytes,
                            calls: said.calls,
                        })
                        .unwrap_or_default(),
                    distributions: Distributions {
                        buckets: CallBuckets::of(per_call),
                        slowest_calls: distribution::slowest(per_call),
                        ..Distributions::default()
                    },
                    skew: WorkSkew {
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
                        ..WorkSkew::default()
                    },
                    engine_metrics: engine.remove(&(series as u32)).unwrap_or_default(),
                    ..OperatorSnapshot::default()
                }
            })
            .collect();
        (operators, graph::read(labels))
    });
    derive_rates(&mut operators, &edges);
    let imbalances = conservation::check(&operators, &edges, &channels);
    let bottleneck = bottleneck::find(&operators, &edges);
    let overall = estimates::estimate(&mut operators, &edges, look);
    let mut snapshot = Snapshot {
        schema_version: SCHEMA_VERSION,
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
    found.extend(diagnoses::over_time(&snapshot, &thresholds, look));
    if look == Look::Observe {
        diagnoses::log_new(&found);
    }
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
    let total_busy: Duration = operators.iter().map(|op| op.time.busy).sum();
    let mut carried: HashMap<(&str, &str), u64> = HashMap::new();
    for edge in edges {
        *carried
            .entry((edge.to.node_type.as_str(), edge.to.node_id.as_str()))
            .or_default() += edge.rows_received.unwrap_or(edge.rows);
    }
    for op in operators {
        op.time.wall = op.time.busy + op.time.starved + op.time.blocked + op.time.queued;
        op.distributions.busy_per_call = op.distributions.buckets.busy_percentiles();
        op.distributions.rows_per_call = op.distributions.buckets.rows_percentiles();
        op.skew.across_threads = Skew::of(&op.skew.threads);
        op.skew.across_partitions = Skew::of(&op.skew.partitions);
        op.rows.input = match op.rows.received {
            0 => carried
                .get(&(op.node_type.as_str(), op.node_id.as_str()))
                .copied()
                .unwrap_or(0),
            counted => counted,
        };
        op.rows.selectivity =
            (op.rows.input > 0).then(|| op.rows.produced as f64 / op.rows.input as f64);
        let handled = if op.rows.input > 0 {
            op.rows.input
        } else {
            op.rows.produced
        };
        let seconds = op.time.busy.as_secs_f64();
        op.rows.per_busy_second = (seconds > 0.0).then(|| handled as f64 / seconds);
        op.time.busy_share = if total_busy.is_zero() {
            0.0
        } else {
            op.time.busy.as_secs_f64() / total_busy.as_secs_f64()
        };
    }
}
