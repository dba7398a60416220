//! [`snapshot`]: every thread's cells summed (as an export does) into a [`Snapshot`], and
//! the analyses run on it — the graph's rates, skew, estimates, the bottleneck, the
//! conservation check and the diagnoses.
//!
//! It never touches the hot path. Operators are counted while collection is on: with an
//! OTLP metrics endpoint, or locally ([`Config::collect_locally`](crate::Config::collect_locally),
//! `PIPETEL_REPORT`).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::counters::cells::Tally;
use crate::counters::lanes::NO_LANE;
use crate::counters::reading::Reading;
use crate::counters::registry::{self, SeriesLabels};
use crate::insight::look::Look;
use crate::insight::memory::MemoryReading;
use crate::insight::snapshot::{
    ByteCounts, CallBuckets, CallCounts, EdgeSnapshot, Expected, Memory, NodeRef, OperatorSnapshot,
    RowCounts, RunSnapshot, Share, ShareName, Skew, Snapshot, SourceState, StepSnapshot, TimeSplit,
    SCHEMA_VERSION,
};
use crate::insight::{
    bottleneck, conservation, diagnoses, distribution, estimates, graph, log_lines, this_process,
};
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

/// The process's last snapshot, as its telemetry stops: its source [`Done`](SourceState::Done).
pub(crate) fn last() -> Snapshot {
    let mut snapshot = take(Look::Read);
    for source in &mut snapshot.sources {
        source.state = SourceState::Done;
    }
    snapshot
}

fn take(look: Look) -> Snapshot {
    let (steps, runs) = totals::totals();
    let series_count = registry::series_count();
    let mut reading = Reading::read(series_count);
    let mut memory = MemoryReading::read(series_count);
    let mut engine = engine_metrics::read();
    let expected = registry::expected();
    let mut snapshot = registry::with_labels(|labels| {
        reading.fold_lanes(labels);
        fold_engine_lanes(&mut engine, labels);
        if let Some(memory) = &mut memory {
            memory.fold_lanes(labels);
        }
        let mut built = build(
            &reading,
            &expected,
            engine,
            memory.as_ref(),
            labels,
            &steps,
            Keep::All,
        );
        built.unattributed_memory = memory.map(|memory| memory.unattributed);
        log_lines::attach(&mut built, labels);
        built
    });
    analyse(&mut snapshot, look, Skews::Scored);
    snapshot.sources = vec![this_process::source(SourceState::Live)];
    snapshot.steps = steps.iter().map(step_snapshot).collect();
    snapshot.runs = runs
        .into_iter()
        .map(|run| RunSnapshot {
            pipeline: run.pipeline.to_owned(),
            runs: run.runs,
            failed: run.failed,
            active: run.active,
            time: run.time,
            rows: run.rows,
        })
        .collect();
    let thresholds = diagnoses::thresholds();
    let mut found = diagnoses::of_snapshot(&snapshot, &thresholds);
    found.extend(diagnoses::over_time(&snapshot, &thresholds, look));
    if look == Look::Observe {
        diagnoses::log_new(&found);
    }
    snapshot.diagnoses = found;
    snapshot
}

/// Which operators a built snapshot keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Every canonical series (the process's totals).
    All,
    /// Those that counted something, or run now (a run's view).
    Counted,
}

/// The operators, edges and channels of `reading` (lanes folded into canonical series),
/// each operator with its `memory` when the tracking allocator measured it; the analyses
/// ([`analyse`]), steps, runs and diagnoses are the caller's. Called under the registry's
/// lock (`labels`): what it needs of the registry besides, `expected`, comes read.
pub(crate) fn build(
    reading: &Reading,
    expected: &HashMap<u32, registry::Expected>,
    mut engine: BTreeMap<u32, engine_metrics::Values>,
    memory: Option<&MemoryReading>,
    labels: &[SeriesLabels],
    steps: &[StepTotals],
    keep: Keep,
) -> Snapshot {
    let mut partitions = reading.partitions.clone();
    // Each thread's name made once, copied into each of its shares.
    let thread_names: Vec<ShareName> = reading
        .thread_names
        .iter()
        .map(|name| ShareName::from(&**name))
        .collect();
    // Room for every series at once, and each operator filled in its place: an operator
    // is large (about 1.5 KB); built aside and moved in, it would be copied in parts a
    // dozen times, and a vector grown by doubling would copy each again.
    let mut operators: Vec<OperatorSnapshot> = Vec::with_capacity(labels.len());
    // One buffer for every operator's spreads.
    let mut values = Vec::new();
    let all = labels
        .iter()
        .zip(reading.sums.series())
        .zip(&reading.per_call);
    for (series, ((label, sums), per_call)) in all.enumerate() {
        if label.lane != NO_LANE {
            continue;
        }
        let sum = |tally: Tally| sums.get(tally);
        let time = |tally: Tally| Duration::from_nanos(ticks_to_nanos(sum(tally)));
        let step = sums.step.step().and_then(|id| steps.get(id.index()));
        operators.push(OperatorSnapshot::default());
        let op = operators.last_mut().expect("just pushed");
        op.node_id = label.node_id.to_owned();
        op.node_type = label.node_type.to_owned();
        op.pipeline = step.and_then(|step| step.pipeline).map(str::to_owned);
        op.step = step.map(|step| step.step.to_owned());
        op.calls = CallCounts {
            active: i64::try_from(sums.active()).unwrap_or(i64::MAX),
            completed: sum(Tally::Completed),
            failed: sum(Tally::Failed),
            cancelled: sum(Tally::Cancelled),
        };
        op.rows = RowCounts {
            received: sum(Tally::RowsIn),
            produced: sum(Tally::RowsOut),
            written: sum(Tally::RowsWritten),
            ..RowCounts::default()
        };
        op.bytes = ByteCounts {
            read: sum(Tally::BytesRead),
            written: sum(Tally::BytesWritten),
        };
        op.time = TimeSplit {
            busy: time(Tally::BusyTicks),
            starved: time(Tally::StarvedTicks),
            blocked: time(Tally::BlockedTicks),
            queued: time(Tally::QueuedTicks),
            ..TimeSplit::default()
        };
        // Most operators said nothing to expect and name no partition: no lookup then.
        if !expected.is_empty() {
            if let Some(said) = expected.get(&(series as u32)) {
                op.expected = Expected {
                    rows: said.rows,
                    bytes: said.bytes,
                    calls: said.calls,
                };
            }
        }
        op.distributions.buckets = CallBuckets::of(per_call);
        op.distributions.slowest_calls = distribution::slowest(per_call);
        if !partitions.is_empty() {
            op.skew.partitions = partition_shares(
                &mut partitions,
                series as u32,
                memory.map(|memory| memory.partitions_of(series)),
            );
        }
        op.skew.threads = per_call
            .threads
            .iter()
            .map(|share| Share {
                at: thread_names
                    .get(share.thread as usize)
                    .cloned()
                    .unwrap_or_else(|| ShareName::number(u64::from(share.thread))),
                rows: share.rows_out,
                busy_ns: ticks_to_nanos(share.busy_ticks),
                memory: None,
            })
            .collect();
        if let Some(values) = engine.remove(&(series as u32)) {
            op.engine_metrics = values;
        }
        // Scored now, while the shares just written are in the cache: at 10,000
        // operators on 64 threads they are 31 MB, read back from memory if scored later.
        op.skew.across_threads = Skew::of(&op.skew.threads, &mut values);
        op.skew.across_partitions = Skew::of(&op.skew.partitions, &mut values);
        op.memory = memory.map(|memory| memory.of(series));
        if keep == Keep::Counted && !counted(op) {
            operators.pop();
        }
    }
    let (edges, channels) = graph::read(labels, &reading.links);
    let edges: Vec<EdgeSnapshot> = match keep {
        Keep::All => edges,
        // An edge of a view carried something in it, or joins two of its operators.
        Keep::Counted => {
            let kept: HashSet<NodeRef> = operators.iter().map(OperatorSnapshot::node).collect();
            edges
                .into_iter()
                .filter(|edge| {
                    edge.batches > 0 || (kept.contains(&edge.from) && kept.contains(&edge.to))
                })
                .collect()
        }
    };
    Snapshot {
        schema_version: SCHEMA_VERSION,
        operators,
        edges,
        channels,
        ..Snapshot::default()
    }
}

/// Whether a snapshot's skews across threads and partitions are still to be scored from
/// its shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skews {
    /// Scored as [`build`] wrote the shares.
    Scored,
    /// To score: the shares were merged, or taken apart.
    ToScore,
}

/// The analyses that read only a snapshot's operators and edges: rates, conservation,
/// the bottleneck and the estimates (outside the registry's lock).
pub(crate) fn analyse(snapshot: &mut Snapshot, look: Look, skews: Skews) {
    derive_rates(&mut snapshot.operators, &snapshot.edges, skews);
    snapshot.imbalances =
        conservation::check(&snapshot.operators, &snapshot.edges, &snapshot.channels);
    snapshot.bottleneck = bottleneck::find(&snapshot.operators, &snapshot.edges);
    snapshot.overall = estimates::estimate(&mut snapshot.operators, &snapshot.edges, look);
}

/// Whether anything was counted for the operator (or it is running now).
pub(crate) fn counted(op: &OperatorSnapshot) -> bool {
    op.calls.active > 0
        || op.calls.completed > 0
        || op.calls.failed > 0
        || op.calls.cancelled > 0
        || op.rows.received > 0
        || op.rows.produced > 0
        || op.rows.written > 0
        || op.bytes.read > 0
        || op.bytes.written > 0
        || !op.time.busy.is_zero()
}

/// An engine's metrics of each lane series added into its canonical series'.
pub(crate) fn fold_engine_lanes(
    engine: &mut BTreeMap<u32, engine_metrics::Values>,
    labels: &[SeriesLabels],
) {
    let lane_series: Vec<u32> = engine
        .keys()
        .copied()
        .filter(|&series| {
            labels
                .get(series as usize)
                .is_some_and(|labels| labels.canonical != series)
        })
        .collect();
    for series in lane_series {
        let Some(values) = engine.remove(&series) else {
            continue;
        };
        let into = engine.entry(labels[series as usize].canonical).or_default();
        engine_metrics::add_values(into, &values);
    }
}

/// The shares of `series`' partitions, in partition order, taken out of `partitions`,
/// each with the memory its calls allocated when measured (`memory`: the series'
/// partitions', in partition order).
fn partition_shares(
    partitions: &mut HashMap<u32, Vec<(u32, u64, u64)>>,
    series: u32,
    memory: Option<&[(u32, Memory)]>,
) -> Vec<Share> {
    partitions
        .remove(&series)
        .unwrap_or_default()
        .into_iter()
        .map(|(partition, rows, busy_ticks)| Share {
            at: ShareName::number(u64::from(partition)),
            rows,
            busy_ns: ticks_to_nanos(busy_ticks),
            memory: memory.map(|parts| {
                Box::new(
                    parts
                        .binary_search_by_key(&partition, |&(at, _)| at)
                        .map_or_else(|_| Memory::default(), |at| parts[at].1),
                )
            }),
        })
        .collect()
}

pub(crate) fn step_snapshot(step: &StepTotals) -> StepSnapshot {
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
/// the counters, buckets and shares, and the rows on the graph's edges; the skews across
/// threads and partitions only when `skews` says they are still to score.
pub(crate) fn derive_rates(
    operators: &mut [OperatorSnapshot],
    edges: &[EdgeSnapshot],
    skews: Skews,
) {
    let total_busy: Duration = operators.iter().map(|op| op.time.busy).sum();
    let mut carried: HashMap<(&str, &str), u64> = HashMap::new();
    for edge in edges {
        *carried
            .entry((edge.to.node_type.as_str(), edge.to.node_id.as_str()))
            .or_default() += edge.rows_received.unwrap_or(edge.rows);
    }
    // One buffer for every operator's spreads.
    let mut values = Vec::new();
    for op in operators {
        op.time.wall = op.time.busy + op.time.starved + op.time.blocked + op.time.queued;
        op.distributions.busy_per_call = op.distributions.buckets.busy_percentiles();
        op.distributions.rows_per_call = op.distributions.buckets.rows_percentiles();
        op.distributions.allocated_per_call = op.distributions.buckets.allocated_percentiles();
        if skews == Skews::ToScore {
            op.skew.across_threads = Skew::of(&op.skew.threads, &mut values);
            op.skew.across_partitions = Skew::of(&op.skew.partitions, &mut values);
        }
        op.skew.across_workers = Skew::of(&op.skew.workers, &mut values);
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
