//! Diagnoses: built-in checks that turn the numbers into sentences — a stall, skew, a row
//! explosion, rows lost or duplicated, a dominant operator, failures, cancellations,
//! series folded into `other`, exports failing, and with the tracking allocator memory
//! growth, memory the engine did not account for and the operator holding most memory
//! (`memory.rs`) — in the
//! snapshot and the report, and as one log record each the first time it fires.
//!
//! Every check but three reads one snapshot. A stall needs the time since anything last
//! moved, failing exports their count, and memory growth each operator's live bytes at
//! the last checks: all are kept between snapshots, process wide. The log record is a `tracing` event with target [`DIAGNOSIS_TARGET`] (WARN, or
//! INFO for a [`Severity::Notice`]), which pipetel's log bridge exports as an OTLP log
//! record; it goes out once per kind and operator for the life of the process. A watcher
//! thread (`insight::watch`) takes a snapshot every [`Thresholds::check_every`] while
//! telemetry runs, so that a diagnosis fires even when nobody looks, and once more at
//! shutdown.

mod memory;
mod thresholds;
mod wording;

pub use thresholds::Thresholds;
pub(crate) use thresholds::{set_thresholds, thresholds};
use wording::{about, label};

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::insight::figures::units::{count, duration, percent, ratio};
use crate::insight::look::Look;
use crate::insight::snapshot::Imbalance;
use crate::insight::snapshot::NodeRef;
use crate::insight::snapshot::{Diagnosis, DiagnosisKind, Severity};
use crate::insight::snapshot::{OperatorSnapshot, Snapshot};
use crate::insight::snapshot::{Skew, Spread};
use crate::names;

/// The `tracing` target of the log record a diagnosis sends when it first fires.
pub const DIAGNOSIS_TARGET: &str = "pipetel_diagnosis";

/// Whether diagnoses of `kind` come from one snapshot ([`of_snapshot`]) rather than from
/// what happened before it ([`over_time`]).
pub(crate) fn of_one_snapshot(kind: DiagnosisKind) -> bool {
    !matches!(
        kind,
        DiagnosisKind::Stall | DiagnosisKind::ExportFailing | DiagnosisKind::MemoryGrowth
    )
}

/// The checks that read only `snapshot`: skew, row explosions, rows lost or duplicated,
/// a dominant operator by time and by memory, memory the engine did not account for,
/// failures, cancellations, folded series.
pub(crate) fn of_snapshot(snapshot: &Snapshot, thresholds: &Thresholds) -> Vec<Diagnosis> {
    let mut found = Vec::new();
    let busy_ops = snapshot
        .operators
        .iter()
        .filter(|op| !op.time.busy.is_zero())
        .count();
    for op in &snapshot.operators {
        skew(op, thresholds, &mut found);
        if let Some(amplification) = op
            .rows
            .selectivity
            .filter(|&s| s > thresholds.explosion_ratio)
        {
            found.push(about(
                op,
                DiagnosisKind::RowExplosion,
                format!(
                    "row explosion: {} hands out {} rows per row in ({} from {})",
                    label(op),
                    ratio(amplification),
                    count(op.rows.produced),
                    count(op.rows.input)
                ),
            ));
        }
        if busy_ops >= 2 && op.time.busy_share >= thresholds.dominant_share {
            found.push(about(
                op,
                DiagnosisKind::DominantOperator,
                format!(
                    "dominant operator: {} takes {} of all operators' busy time",
                    label(op),
                    percent(op.time.busy_share)
                ),
            ));
        }
        let calls = op.calls.completed + op.calls.failed + op.calls.cancelled;
        if op.calls.failed > 0 {
            found.push(about(
                op,
                DiagnosisKind::Failures,
                format!(
                    "failures: {} of {} calls of {} failed",
                    count(op.calls.failed),
                    count(calls),
                    label(op)
                ),
            ));
        }
        if op.calls.cancelled > 0 {
            found.push(about(
                op,
                DiagnosisKind::Cancellations,
                format!(
                    "cancellations: {} of {} calls of {} were dropped before they ended",
                    count(op.calls.cancelled),
                    count(calls),
                    label(op)
                ),
            ));
        }
        if op.node_id == names::OVERFLOW_NODE_ID {
            found.push(about(
                op,
                DiagnosisKind::SeriesFolded,
                format!(
                    "series folded: node.type {:?} had more node.id values than its cap \
                     (Config::max_node_ids_per_type, pipetel::limits::MAX_OPERATOR_SERIES); the rest \
                     count together as node.id {:?}",
                    op.node_type,
                    names::OVERFLOW_NODE_ID
                ),
            ));
        }
    }
    for imbalance in &snapshot.imbalances {
        found.push(imbalanced(imbalance));
    }
    found.extend(memory::untracked(snapshot, thresholds));
    found.extend(memory::dominant(snapshot, thresholds));
    found
}

/// A straggler partition or thread of `op`, when evening its work out would save time
/// that matters.
fn skew(op: &OperatorSnapshot, thresholds: &Thresholds, found: &mut Vec<Diagnosis>) {
    if op.time.busy_share < thresholds.skew_min_busy_share || op.time.busy_share <= 0.0 {
        return;
    }
    // All operators' busy time, from this one's and its share of it.
    let all_busy_ns = op.time.busy.as_nanos() as f64 / op.time.busy_share;
    for (skew, across) in [
        (&op.skew.across_partitions, "partition"),
        (&op.skew.across_threads, "thread"),
        (&op.skew.across_workers, "worker"),
    ] {
        let Some(Skew {
            count: shares,
            rows,
            busy_ns,
            ..
        }) = skew
        else {
            continue;
        };
        let saving = busy_ns.max.saturating_sub(busy_ns.median);
        if (saving as f64) < thresholds.skew_min_busy_share * all_busy_ns
            || Duration::from_nanos(saving) < thresholds.skew_min_time
        {
            continue;
        }
        let straggles = |spread: &Spread| {
            spread.max > 0 && spread.max as f64 >= thresholds.straggler_ratio * spread.median as f64
        };
        let times = |spread: &Spread| match spread.median {
            0 => "all".to_owned(),
            median => format!("{:.1}×", spread.max as f64 / median as f64),
        };
        let mut message = String::new();
        if straggles(rows) {
            let _ = write!(
                message,
                "{across} {} of {} handled {} the median rows ({} against {})",
                rows.max_at,
                label(op),
                times(rows),
                count(rows.max),
                count(rows.median)
            );
        }
        if straggles(busy_ns) {
            let time = |ns: u64| duration(Duration::from_nanos(ns));
            if message.is_empty() {
                let _ = write!(message, "{across} {} of {} took", busy_ns.max_at, label(op));
            } else {
                message.push_str(", and took");
            }
            let _ = write!(
                message,
                " {} the median busy time ({} against {})",
                times(busy_ns),
                time(busy_ns.max),
                time(busy_ns.median)
            );
        }
        if !message.is_empty() {
            found.push(about(
                op,
                DiagnosisKind::Skew,
                format!("skew: {message}, of {shares} {across}s"),
            ));
        }
    }
}

fn imbalanced(imbalance: &Imbalance) -> Diagnosis {
    let kind = if imbalance.difference() < 0 {
        DiagnosisKind::RowsLost
    } else {
        DiagnosisKind::RowsDuplicated
    };
    let node = imbalance.to.first().or(imbalance.from.first()).cloned();
    let at = match &node {
        Some(node) => format!("{} {}", node.node_type, node.node_id),
        None => "a channel".to_owned(),
    };
    Diagnosis {
        kind,
        severity: kind.severity(),
        node,
        message: format!(
            "{}: {at}: {}",
            kind.name().replace('_', " "),
            imbalance.reason
        ),
    }
}

/// When anything last moved, and how it stood then.
struct Movement {
    /// Rows in, out and written, and calls ended, summed over every operator.
    progress: u64,
    /// Whether calls were running.
    running: bool,
    since: Instant,
}

static MOVEMENT: Mutex<Option<Movement>> = Mutex::new(None);

/// The checks that need what happened before `snapshot`: a stall, failing exports. Only
/// an observer's look (`Look::Observe`) moves the stall's clock.
pub(crate) fn over_time(
    snapshot: &Snapshot,
    thresholds: &Thresholds,
    look: Look,
) -> Vec<Diagnosis> {
    let mut found = Vec::new();
    let now = Instant::now();
    let progress = snapshot
        .operators
        .iter()
        .map(|op| {
            op.rows
                .received
                .wrapping_add(op.rows.produced)
                .wrapping_add(op.rows.written)
                .wrapping_add(op.calls.completed)
                .wrapping_add(op.calls.failed)
                .wrapping_add(op.calls.cancelled)
        })
        .fold(0u64, u64::wrapping_add);
    let running: Vec<&OperatorSnapshot> = snapshot
        .operators
        .iter()
        .filter(|op| op.calls.active > 0)
        .collect();
    // Since when nothing moved while calls ran is the observers' to remember (a time
    // with no call running is no stall, however long): a reader sees the time since they
    // first saw the progress it sees with calls running, or none if it moved since.
    let still = {
        let mut movement = MOVEMENT.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *movement {
            Some(last) if last.progress == progress && last.running && !running.is_empty() => {
                now.duration_since(last.since)
            }
            last => {
                if look == Look::Observe {
                    *last = Some(Movement {
                        progress,
                        running: !running.is_empty(),
                        since: now,
                    });
                }
                Duration::ZERO
            }
        }
    };
    if still >= thresholds.stall_after && !running.is_empty() {
        let calls: i64 = running.iter().map(|op| op.calls.active).sum();
        let names: Vec<String> = running.iter().take(5).map(|op| label(op)).collect();
        let more = if running.len() > 5 { ", …" } else { "" };
        found.push(Diagnosis {
            kind: DiagnosisKind::Stall,
            severity: Severity::Warning,
            node: (running.len() == 1).then(|| NodeRef {
                node_type: running[0].node_type.clone(),
                node_id: running[0].node_id.clone(),
            }),
            message: format!(
                "stall: no operator handled a row or ended a call for {} while {calls} \
                 calls run ({}{more})",
                duration(still),
                names.join(", ")
            ),
        });
    }
    found.extend(memory::growth(snapshot, thresholds, look));
    let (failed, last) = export_failures();
    if failed > 0 {
        found.push(Diagnosis {
            kind: DiagnosisKind::ExportFailing,
            severity: Severity::Warning,
            node: None,
            message: format!(
                "exports failing: {failed} export{} failed; the last: {}",
                if failed == 1 { "" } else { "s" },
                last.unwrap_or_default()
            ),
        });
    }
    found
}

/// A diagnosis as far as its log record goes: once per kind and operator.
type Fired = (DiagnosisKind, Option<NodeRef>);

/// Exports that failed, every signal.
static FAILED_EXPORTS: AtomicU64 = AtomicU64::new(0);
/// What the last failed export said.
static LAST_FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Counts a failed export; `message` says which and why (the exporters call this).
pub(crate) fn note_export_failure(message: String) {
    FAILED_EXPORTS.fetch_add(1, Ordering::Relaxed);
    *LAST_FAILURE.lock().unwrap_or_else(PoisonError::into_inner) = Some(message);
}

/// How many exports failed, and what the last one said.
fn export_failures() -> (u64, Option<String>) {
    let last = LAST_FAILURE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    (FAILED_EXPORTS.load(Ordering::Relaxed), last)
}

/// Kinds and operators that already sent their log record.
static FIRED: Mutex<Option<HashSet<Fired>>> = Mutex::new(None);

/// Sends one log record for each diagnosis of `found` not sent before.
pub(crate) fn log_new(found: &[Diagnosis]) {
    let mut fired = FIRED.lock().unwrap_or_else(PoisonError::into_inner);
    let fired = fired.get_or_insert_with(HashSet::new);
    for diagnosis in found {
        if !fired.insert((diagnosis.kind, diagnosis.node.clone())) {
            continue;
        }
        let kind = diagnosis.kind.name();
        let (node_type, node_id) = diagnosis.node.as_ref().map_or(("", ""), |node| {
            (node.node_type.as_str(), node.node_id.as_str())
        });
        let message = &diagnosis.message;
        match diagnosis.severity {
            Severity::Warning => tracing::warn!(
                target: DIAGNOSIS_TARGET,
                diagnosis = kind,
                node.type = node_type,
                node.id = node_id,
                "{message}"
            ),
            Severity::Notice => tracing::info!(
                target: DIAGNOSIS_TARGET,
                diagnosis = kind,
                node.type = node_type,
                node.id = node_id,
                "{message}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{of_snapshot, Thresholds};
    use crate::insight::snapshot::{
        DiagnosisKind, OperatorSnapshot, Skew, Snapshot, Spread, TimeSplit, WorkSkew,
    };

    /// A scan over 8 partitions whose partition 3 took `max` against a median of
    /// `median`, the scan being `share` of all operators' busy time.
    fn straggling(median: Duration, max: Duration, share: f64) -> Snapshot {
        let nanos = |time: Duration| time.as_nanos() as u64;
        let spread = |median: u64, max: u64| Spread {
            min: median,
            median,
            max,
            max_at: "3".into(),
            skew: None,
        };
        Snapshot {
            operators: vec![OperatorSnapshot {
                node_type: "scan".into(),
                node_id: "orders".into(),
                time: TimeSplit {
                    busy: median * 7 + max,
                    busy_share: share,
                    ..TimeSplit::default()
                },
                skew: WorkSkew {
                    across_partitions: Some(Skew {
                        count: 8,
                        rows: spread(1_000, 1_000),
                        busy_ns: spread(nanos(median), nanos(max)),
                        memory_peak: None,
                    }),
                    ..WorkSkew::default()
                },
                ..OperatorSnapshot::default()
            }],
            ..Snapshot::default()
        }
    }

    fn skews(snapshot: &Snapshot) -> Vec<String> {
        of_snapshot(snapshot, &Thresholds::default())
            .into_iter()
            .filter(|found| found.kind == DiagnosisKind::Skew)
            .map(|found| found.message)
            .collect()
    }

    #[test]
    fn a_straggler_is_named_when_evening_it_out_saves_time_that_matters() {
        let ms = Duration::from_millis;
        // 40 ms beyond the median, the scan being all the busy time: it matters.
        let found = skews(&straggling(ms(10), ms(50), 1.0));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("partition 3 of scan orders took 5.0×"),
            "{found:?}"
        );
        // The same ratio under a millisecond: what scheduling moves by itself.
        let us = Duration::from_micros;
        assert!(skews(&straggling(us(100), us(500), 1.0)).is_empty());
        // 4.3 ms beyond the median, in a scan that is a tenth of its query's busy time
        // (12.3 ms of 123 ms): evening it out would save 3.5 % of it.
        let small_share = straggling(ms(1), us(5_300), 0.1);
        assert!(skews(&small_share).is_empty());
    }
}
