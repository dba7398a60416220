//! The diagnoses of memory, with the tracking allocator: the operator that holds most of
//! it (`dominant_memory`, from one snapshot), and an operator whose live bytes keep
//! growing while it works (`memory_growth`: a leak, or a buffer with no bound).
//!
//! Growth needs the checks before: each observer's look (the watcher's, every
//! [`Thresholds::check_every`]) keeps each operator's live bytes, rows and calls, the
//! last [`Thresholds::memory_growth_checks`] + 1 of them; a reader's look judges from
//! those and changes nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use crate::insight::diagnoses::{about, label, Thresholds};
use crate::insight::figures::units::{bytes, count, percent};
use crate::insight::look::Look;
use crate::insight::snapshot::{Diagnosis, DiagnosisKind, NodeRef, OperatorSnapshot, Snapshot};

/// The operator whose peak is `dominant_share` of all operators' peaks or more, when two
/// or more held memory.
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
    (share >= thresholds.dominant_share).then(|| {
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
