//! The diagnoses of memory, with the tracking allocator: an operator whose allocations
//! held more than its engine accounted for (`untracked_memory`), the operator that holds
//! most of it (`dominant_memory`), both from one snapshot, and an operator whose live
//! bytes keep growing while it works (`memory_growth`: a leak, or a buffer with no
//! bound).
//!
//! Untracked memory compares two views of one operator: the allocator charges a block to
//! the operator that allocated it, an engine's reservation to the operator that holds it
//! (a join reserves for the batches its input made). So an operator's peak is compared
//! with what the engine reserved for it and for the operators it feeds (their
//! reservations account for the batches of its they buffer); only in a snapshot where
//! some operator reported a reservation (an engine that accounts for memory at all).
//!
//! Growth needs the checks before: each observer's look (the watcher's, every
//! [`Thresholds::check_every`]) keeps each operator's live bytes, rows and calls, the
//! last [`Thresholds::memory_growth_checks`] + 1 of them; a reader's look judges from
//! those and changes nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use crate::insight::diagnoses::thresholds::Thresholds;
use crate::insight::diagnoses::wording::{about, label};
use crate::insight::figures::units::{bytes, count, percent};
use crate::insight::look::Look;
use crate::insight::snapshot::{Diagnosis, DiagnosisKind, NodeRef, OperatorSnapshot, Snapshot};
use crate::operator::engine_metrics::EngineValue;

/// The operators whose allocations held `untracked_memory_min` or more beyond what the
/// engine reserved for them and for the operators they feed, most untracked first.
pub(crate) fn untracked(snapshot: &Snapshot, thresholds: &Thresholds) -> Vec<Diagnosis> {
    let reserved_by = |op: &OperatorSnapshot| -> Option<u64> {
        let mut reserved = None;
        for value in op.engine_metrics.values() {
            if let EngineValue::Reserved(bytes) = value {
                *reserved.get_or_insert(0) += bytes;
            }
        }
        reserved
    };
    // Without the tracking allocator no operator has a peak to compare.
    if snapshot.operators.iter().all(|op| op.memory.is_none()) {
        return Vec::new();
    }
    // The node's names copied only for the operators that reserved.
    let reserved: HashMap<NodeRef, u64> = snapshot
        .operators
        .iter()
        .filter_map(|op| {
            let reserved = reserved_by(op)?;
            Some((op.node(), reserved))
        })
        .collect();
    if reserved.is_empty() {
        return Vec::new();
    }
    let mut found: Vec<(u64, Diagnosis)> = snapshot
        .operators
        .iter()
        .filter_map(|op| {
            let peak = op.memory?.peak;
            let node = op.node();
            let own = reserved.get(&node).copied().unwrap_or(0);
            let consumers: u64 = snapshot
                .edges_from(&node)
                .filter_map(|edge| reserved.get(&edge.to))
                .sum();
            let untracked = peak.saturating_sub(own + consumers);
            if untracked < thresholds.untracked_memory_min {
                return None;
            }
            let theirs = match consumers {
                0 => String::new(),
                consumers => format!(", its consumers {}", bytes(consumers)),
            };
            Some((
                untracked,
                about(
                    op,
                    DiagnosisKind::UntrackedMemory,
                    format!(
                        "untracked memory: {} held {} at its peak, reserved {}{theirs}: {} \
                         its engine did not account for",
                        label(op),
                        bytes(peak),
                        bytes(own),
                        bytes(untracked)
                    ),
                ),
            ))
        })
        .collect();
    found.sort_by_key(|(untracked, _)| std::cmp::Reverse(*untracked));
    found.into_iter().map(|(_, diagnosis)| diagnosis).collect()
}

/// The operator whose peak is `dominant_share` of all operators' peaks or more, when two
/// or more held memory and its peak is `dominant_memory_min` or more.
pub(crate) fn dominant(snapshot: &Snapshot, thresholds: &Thresholds) -> Option<Diagnosis> {
    let peaks: Vec<(&OperatorSnapshot, u64)> = snapshot
        .operators
        .iter()
        .filter_map(|op| Some((op, op.memory?.peak)))
        .filter(|(_, peak)| *peak > 0)
        .collect();
    if peaks.len() < 2 {
        return None;
    }
    let all: u64 = peaks.iter().map(|(_, peak)| peak).sum();
    let (op, peak) = peaks.into_iter().max_by_key(|(_, peak)| *peak)?;
    let share = peak as f64 / all as f64;
    (share >= thresholds.dominant_share && peak >= thresholds.dominant_memory_min).then(|| {
        about(
            op,
            DiagnosisKind::DominantMemory,
            format!(
                "dominant memory: {} held {} at its peak, {} of all operators' peaks",
                label(op),
                bytes(peak),
                percent(share)
            ),
        )
    })
}

/// One operator at one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    live: u64,
    /// Rows in, out and written.
    rows: u64,
    /// Calls ended.
    calls: u64,
}

impl Sample {
    fn of(op: &OperatorSnapshot) -> Option<Sample> {
        Some(Sample {
            live: op.memory?.live,
            rows: op.rows.received + op.rows.produced + op.rows.written,
            calls: op.calls.completed + op.calls.failed + op.calls.cancelled,
        })
    }
}

/// Each operator's samples at the last checks, oldest first.
static HISTORY: Mutex<Option<HashMap<NodeRef, VecDeque<Sample>>>> = Mutex::new(None);

/// The operators whose live bytes rose at each of the last `memory_growth_checks` checks
/// while they worked, by `memory_growth_min` or more. An observer's `look` adds
/// `snapshot` to what the checks keep first.
pub(crate) fn growth(snapshot: &Snapshot, thresholds: &Thresholds, look: Look) -> Vec<Diagnosis> {
    let checks = thresholds.memory_growth_checks.max(1) as usize;
    let mut history = HISTORY.lock().unwrap_or_else(PoisonError::into_inner);
    let history = history.get_or_insert_with(HashMap::new);
    let mut found = Vec::new();
    for op in &snapshot.operators {
        let Some(now) = Sample::of(op) else {
            continue;
        };
        let node = op.node();
        if look == Look::Observe {
            let kept = history.entry(node.clone()).or_default();
            kept.push_back(now);
            while kept.len() > checks + 1 {
                kept.pop_front();
            }
        }
        let Some(kept) = history.get(&node).filter(|kept| kept.len() > checks) else {
            continue;
        };
        let samples: Vec<Sample> = kept.iter().copied().collect();
        let grew_while_working = samples.windows(2).all(|pair| {
            pair[1].live > pair[0].live
                && (pair[1].rows > pair[0].rows || pair[1].calls > pair[0].calls)
        });
        let (first, last) = (samples[0], samples[samples.len() - 1]);
        let grown = last.live - first.live.min(last.live);
        if !grew_while_working || grown < thresholds.memory_growth_min {
            continue;
        }
        let rows = last.rows - first.rows.min(last.rows);
        let calls = last.calls - first.calls.min(last.calls);
        let per_row = match rows {
            0 => String::new(),
            rows => format!(", {} per row", bytes(grown / rows)),
        };
        found.push(about(
            op,
            DiagnosisKind::MemoryGrowth,
            format!(
                "memory growth: {} holds {}, up {} over the last {checks} checks while it \
                 handled {} rows in {} calls{per_row}: a leak, or a buffer with no bound",
                label(op),
                bytes(last.live),
                bytes(grown),
                count(rows),
                count(calls),
            ),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::snapshot::Memory;

    fn holding(node_id: &str, live: u64, peak: u64, rows: u64) -> OperatorSnapshot {
        let mut op = OperatorSnapshot {
            node_type: "op".into(),
            node_id: node_id.into(),
            memory: Some(Memory {
                live,
                peak,
                ..Memory::default()
            }),
            ..OperatorSnapshot::default()
        };
        op.rows.produced = rows;
        op
    }

    fn snapshot(operators: Vec<OperatorSnapshot>) -> Snapshot {
        Snapshot {
            operators,
            ..Snapshot::default()
        }
    }

    #[test]
    fn the_operator_with_most_of_the_peaks_is_dominant_when_two_held_memory() {
        let thresholds = Thresholds::default();
        let found = dominant(
            &snapshot(vec![
                holding("join", 0, 900 << 20, 0),
                holding("scan", 0, 100 << 20, 0),
            ]),
            &thresholds,
        )
        .expect("90 % of the peaks");
        assert_eq!(
            found.message,
            "dominant memory: op join held 900.0 MiB at its peak, 90% of all operators' peaks"
        );
        let even = snapshot(vec![holding("a", 0, 50, 0), holding("b", 0, 50, 0)]);
        assert_eq!(dominant(&even, &thresholds), None);
        let alone = snapshot(vec![holding("a", 0, 50, 0), holding("b", 0, 0, 0)]);
        assert_eq!(
            dominant(&alone, &thresholds),
            None,
            "one operator held memory"
        );
    }

    #[test]
    fn memory_beyond_the_reservations_of_an_operator_and_its_consumers_is_untracked() {
        use crate::insight::snapshot::{EdgeSnapshot, EdgeVia};
        let reserving = |node_id: &str, peak: u64, reserved: Option<u64>| {
            let mut op = holding(node_id, 0, peak, 0);
            if let Some(reserved) = reserved {
                op.engine_metrics
                    .insert("peak_mem_used".into(), EngineValue::Reserved(reserved));
            }
            op
        };
        let mib = |n: u64| n << 20;
        let edge = |from: &str, to: &str| EdgeSnapshot {
            from: NodeRef {
                node_type: "op".into(),
                node_id: from.into(),
            },
            to: NodeRef {
                node_type: "op".into(),
                node_id: to.into(),
            },
            via: EdgeVia::Call,
            rows: 1,
            bytes: 0,
            batches: 1,
            rows_received: None,
            channel: None,
        };
        let mut plan = snapshot(vec![
            reserving("join", mib(612), Some(mib(48))),
            // Its batches held by the join it feeds, which reserved for them.
            reserving("build-scan", mib(40), None),
            reserving("hoard", mib(64), None),
            reserving("filter", mib(8), None),
        ]);
        plan.edges = vec![edge("build-scan", "join")];
        let found: Vec<String> = untracked(&plan, &Thresholds::default())
            .into_iter()
            .map(|found| found.message)
            .collect();
        assert_eq!(
            found,
            [
                "untracked memory: op join held 612.0 MiB at its peak, reserved 48.0 MiB: \
                 564.0 MiB its engine did not account for",
                "untracked memory: op hoard held 64.0 MiB at its peak, reserved 0 B: 64.0 MiB \
                 its engine did not account for",
            ]
        );
        // An engine that reserves nothing anywhere has no accounting to compare with.
        let unaccounted = snapshot(vec![reserving("hoard", mib(64), None)]);
        assert!(untracked(&unaccounted, &Thresholds::default()).is_empty());
    }

    #[test]
    fn growth_fires_after_checks_in_a_row_that_each_grew_while_working() {
        let thresholds = Thresholds {
            memory_growth_checks: 3,
            memory_growth_min: 1 << 20,
            ..Thresholds::default()
        };
        let look = |live: u64, rows: u64, look: Look| {
            growth(
                &snapshot(vec![holding("growth-leak", live, live, rows)]),
                &thresholds,
                look,
            )
        };
        assert!(look(0, 0, Look::Observe).is_empty());
        assert!(look(1 << 20, 10, Look::Observe).is_empty());
        assert!(look(2 << 20, 20, Look::Observe).is_empty());
        // A reader's look judges what the observers kept: three rises, not yet four samples.
        assert!(look(9 << 20, 90, Look::Read).is_empty());
        let found = look(3 << 20, 30, Look::Observe);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].message,
            "memory growth: op growth-leak holds 3.0 MiB, up 3.0 MiB over the last 3 checks \
             while it handled 30 rows in 0 calls, 102.4 KiB per row: a leak, or a buffer with \
             no bound"
        );
        // A reader sees it too, without adding a sample.
        assert_eq!(look(3 << 20, 30, Look::Read).len(), 1);
        // A check with no work in between breaks the run: idle memory is no growth.
        assert!(look(4 << 20, 30, Look::Observe).is_empty());
    }

    #[test]
    fn memory_that_grows_and_is_given_back_is_no_growth() {
        let thresholds = Thresholds {
            memory_growth_checks: 2,
            memory_growth_min: 1 << 20,
            ..Thresholds::default()
        };
        for (live, rows) in [(0, 0), (4 << 20, 1), (1 << 20, 2), (5 << 20, 3)] {
            let found = growth(
                &snapshot(vec![holding("growth-buffer", live, live, rows)]),
                &thresholds,
                Look::Observe,
            );
            assert!(found.is_empty(), "{found:?}");
        }
    }
}
