//! Progress that propagates: each operator's expected total, how far it is, its rate and
//! ETA, and the overall line (the operator that will finish last).
//!
//! A total comes from what an operator said (rows; bytes, scaled by its rows per byte
//! read so far; calls, scaled by its rows per call so far) or, for an operator that said
//! nothing, from its inputs: each input's expected output, times the share of that
//! output its edge carried so far. An operator's expected output is its expected total
//! times the selectivity (or amplification) it showed so far; an operator that has taken
//! input but handed nothing out yet (an aggregate before its end) gives its consumers no
//! estimate until it does. A total is never below what was already handled.
//!
//! How far: rows handled (its input, or its output for a source) over the total, at most
//! 1, and never lower than at the previous estimate (an estimate that grows holds the
//! bar still rather than moving it back). The rate is rows handled per second of wall
//! time, smoothed: when first seen, its rows over its wall time so far (per call running
//! now), then an exponentially weighted average with a [`RATE_HALF_LIFE`] half-life,
//! updated each time a snapshot is taken (the progress display takes one every 100 ms,
//! or every second). The ETA is what is left over the rate.
//!
//! The state kept between snapshots is one small entry per operator, behind a lock that
//! only snapshots take.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::insight::look::Look;
use crate::insight::node_index::NodeIndex;
use crate::insight::snapshot::OperatorSnapshot;
use crate::insight::snapshot::{Basis, Estimate, Overall};
use crate::insight::snapshot::{EdgeSnapshot, NodeRef};

/// How fast the smoothed rate forgets: a rate measured this long ago weighs half.
pub const RATE_HALF_LIFE: Duration = Duration::from_secs(1);

/// Fills `estimate` for every operator that has one, and returns the overall progress.
/// An observer's look (`Look::Observe`) advances each operator's smoothed rate and the
/// floor of its fraction; a reader's computes them from the same memory, and keeps none.
pub(crate) fn estimate(
    operators: &mut [OperatorSnapshot],
    edges: &[EdgeSnapshot],
    look: Look,
) -> Option<Overall> {
    let totals = Totals::of(operators, edges);
    let now = Instant::now();
    let mut history = HISTORY.lock().unwrap_or_else(PoisonError::into_inner);
    let mut overall: Option<Overall> = None;
    for (index, op) in operators.iter_mut().enumerate() {
        let Some((expected, basis)) = totals.handled[index] else {
            op.estimate = None;
            continue;
        };
        let rows = handled(op);
        let expected_rows = expected.round().max(rows as f64) as u64;
        let key = (op.node_type.clone(), op.node_id.clone());
        // A reader works on a copy of what the observers remember.
        let mut copy;
        let seen = match look {
            Look::Observe => history
                .entry(key)
                .or_insert_with(|| Seen::new(now, rows, first_rate(op, rows))),
            Look::Read => {
                copy = history
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| Seen::new(now, rows, first_rate(op, rows)));
                &mut copy
            }
        };
        let rate = seen.update(now, rows);
        let fraction = if expected_rows == 0 {
            1.0
        } else {
            (rows as f64 / expected_rows as f64).min(1.0)
        };
        seen.fraction = seen.fraction.max(fraction);
        let left = expected_rows.saturating_sub(rows);
        let eta = match (left, rate) {
            (0, _) => Some(Duration::ZERO),
            (left, Some(rate)) if rate > 0.0 => Some(Duration::from_secs_f64(left as f64 / rate)),
            _ => None,
        };
        if let Some(eta) = eta {
            if overall.as_ref().is_none_or(|last| eta > last.eta) {
                overall = Some(Overall {
                    node: NodeRef {
                        node_type: op.node_type.clone(),
                        node_id: op.node_id.clone(),
                    },
                    fraction: seen.fraction,
                    eta,
                });
            }
        }
        op.estimate = Some(Estimate {
            rows,
            expected_rows,
            basis,
            fraction: seen.fraction,
            rate,
            eta,
        });
    }
    overall
}

/// Rows an operator handled: its input, or its output for a source.
pub(crate) fn handled(op: &OperatorSnapshot) -> u64 {
    if op.rows.input > 0 {
        op.rows.input
    } else {
        op.rows.produced
    }
}

/// Every operator's expected total (rows it will handle) and where it came from, by
/// index in the snapshot; what it will hand out follows from it (`expected_output`).
struct Totals {
    handled: Vec<Option<(f64, Basis)>>,
}

impl Totals {
    fn of(operators: &[OperatorSnapshot], edges: &[EdgeSnapshot]) -> Totals {
        // Inputs of each operator: (producer, rows its edge carried).
        let mut inputs: Vec<Vec<(usize, u64)>> = vec![Vec::new(); operators.len()];
        // With no edges, no index of the operators.
        let index = (!edges.is_empty()).then(|| NodeIndex::of(operators));
        let at = |node: &NodeRef| index.as_ref()?.get(node);
        for edge in edges {
            if let (Some(from), Some(to)) = (at(&edge.from), at(&edge.to)) {
                if from != to {
                    inputs[to].push((from, edge.rows_received.unwrap_or(edge.rows)));
                }
            }
        }
        let mut totals = Totals {
            handled: vec![None; operators.len()],
        };
        let mut state = vec![Visit::New; operators.len()];
        for op in 0..operators.len() {
            totals.visit(op, operators, &inputs, &mut state);
        }
        totals
    }

    /// Computes the expected total of `op` after its inputs' (a cycle's back edge gives
    /// no estimate).
    fn visit(
        &mut self,
        op: usize,
        operators: &[OperatorSnapshot],
        inputs: &[Vec<(usize, u64)>],
        state: &mut [Visit],
    ) {
        if state[op] != Visit::New {
            return;
        }
        state[op] = Visit::Open;
        for &(from, _) in &inputs[op] {
            self.visit(from, operators, inputs, state);
        }
        self.handled[op] = stated(&operators[op]).or_else(|| {
            if inputs[op].is_empty() {
                return None;
            }
            let mut total = 0.0;
            for &(from, carried) in &inputs[op] {
                if state[from] == Visit::Open {
                    return None;
                }
                let producer = &operators[from];
                let (expected, _) = self.handled[from]?;
                let out = expected_output(producer, expected)?;
                let share = if producer.rows.produced == 0 {
                    1.0
                } else {
                    (carried as f64 / producer.rows.produced as f64).min(1.0)
                };
                total += out * share;
            }
            Some((total, Basis::Upstream))
        });
        state[op] = Visit::Done;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visit {
    New,
    Open,
    Done,
}

/// The total an operator said, in rows.
fn stated(op: &OperatorSnapshot) -> Option<(f64, Basis)> {
    let done = handled(op) as f64;
    if let Some(rows) = op.expected.rows {
        return Some((rows as f64, Basis::Rows));
    }
    if let (Some(bytes), true) = (op.expected.bytes, op.bytes.read > 0) {
        return Some((done * bytes as f64 / op.bytes.read as f64, Basis::Bytes));
    }
    let calls = op.calls.completed + op.calls.failed;
    if let (Some(expected), true) = (op.expected.calls, calls > 0) {
        return Some((done * expected as f64 / calls as f64, Basis::Calls));
    }
    None
}

/// The rows `op` will hand out if it handles `expected`: at the ratio seen so far.
fn expected_output(op: &OperatorSnapshot, expected: f64) -> Option<f64> {
    let done = handled(op);
    if op.rows.input == 0 {
        // A source: what it handles is its output.
        return Some(expected);
    }
    (op.rows.produced > 0).then(|| expected * op.rows.produced as f64 / done as f64)
}

/// What the estimates remember of an operator between snapshots.
#[derive(Debug, Clone)]
struct Seen {
    first: Instant,
    first_rows: u64,
    last: Instant,
    last_rows: u64,
    rate: Option<f64>,
    fraction: f64,
}

static HISTORY: Mutex<BTreeMap<(String, String), Seen>> = Mutex::new(BTreeMap::new());

/// The rate of an operator seen for the first time with `rows` handled: over its wall
/// time so far, per call running now (calls that run side by side each add their wall
/// time).
fn first_rate(op: &OperatorSnapshot, rows: u64) -> Option<f64> {
    let parallel = op.calls.active.max(1) as f64;
    let seconds = op.time.wall.as_secs_f64() / parallel;
    (rows > 0 && seconds > 0.0).then(|| rows as f64 / seconds)
}

impl Seen {
    fn new(now: Instant, rows: u64, rate: Option<f64>) -> Seen {
        Seen {
            first: now,
            first_rows: rows,
            last: now,
            last_rows: rows,
            rate,
            fraction: 0.0,
        }
    }

    /// The smoothed rate at `now`, with `rows` handled.
    fn update(&mut self, now: Instant, rows: u64) -> Option<f64> {
        let step = now.duration_since(self.last).as_secs_f64();
        // Snapshots closer than this apart refine nothing (and a burst of them would
        // weigh one short interval as much as a long one).
        if step < 0.005 {
            return self.rate;
        }
        let recent = rows.saturating_sub(self.last_rows) as f64 / step;
        self.rate = Some(match self.rate {
            None => {
                let since = now.duration_since(self.first).as_secs_f64();
                rows.saturating_sub(self.first_rows) as f64 / since
            }
            Some(rate) => {
                let keep = 0.5_f64.powf(step / RATE_HALF_LIFE.as_secs_f64());
                keep * rate + (1.0 - keep) * recent
            }
        });
        self.last = now;
        self.last_rows = rows;
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{estimate, stated, Totals, HISTORY};
    use crate::insight::look::Look;
    use crate::insight::snapshot::Basis;
    use crate::insight::snapshot::EdgeSnapshot;
    use crate::insight::snapshot::{OperatorSnapshot, RowCounts, TimeSplit};

    fn op(node_type: &str, input_rows: u64, rows_out: u64) -> OperatorSnapshot {
        OperatorSnapshot {
            node_type: node_type.to_owned(),
            node_id: "t".to_owned(),
            rows: RowCounts {
                input: input_rows,
                produced: rows_out,
                ..RowCounts::default()
            },
            time: TimeSplit {
                busy: Duration::from_millis(1),
                ..TimeSplit::default()
            },
            ..OperatorSnapshot::default()
        }
    }

    fn edge(from: &str, to: &str, rows: u64) -> EdgeSnapshot {
        EdgeSnapshot::of_call(from, to, "t", rows)
    }

    #[test]
    fn a_producer_feeding_two_consumers_gives_each_its_share() {
        let mut scan = op("scan", 0, 100);
        scan.expected.rows = Some(1_000);
        let operators = [scan, op("left", 30, 30), op("right", 70, 7)];
        let edges = [edge("scan", "left", 30), edge("scan", "right", 70)];
        let totals = Totals::of(&operators, &edges);
        assert_eq!(totals.handled[0], Some((1_000.0, Basis::Rows)));
        assert_eq!(totals.handled[1], Some((300.0, Basis::Upstream)));
        assert_eq!(totals.handled[2], Some((700.0, Basis::Upstream)));
    }

    #[test]
    fn a_consumer_of_an_operator_that_handed_nothing_out_yet_has_no_total() {
        let mut scan = op("scan", 0, 100);
        scan.expected.rows = Some(1_000);
        let operators = [scan, op("aggregate", 100, 0), op("write", 0, 0)];
        let edges = [
            edge("scan", "aggregate", 100),
            edge("aggregate", "write", 0),
        ];
        let totals = Totals::of(&operators, &edges);
        assert_eq!(totals.handled[1], Some((1_000.0, Basis::Upstream)));
        assert_eq!(totals.handled[2], None);
    }

    #[test]
    fn a_cycle_gives_no_total_and_ends() {
        let operators = [op("a", 10, 10), op("b", 10, 10)];
        let edges = [edge("a", "b", 10), edge("b", "a", 10)];
        let totals = Totals::of(&operators, &edges);
        assert_eq!(totals.handled, [None, None]);
    }

    #[test]
    fn bytes_and_calls_scale_what_was_handled_so_far() {
        let mut by_bytes = op("read", 0, 250);
        (by_bytes.expected.bytes, by_bytes.bytes.read) = (Some(4_000), 1_000);
        assert_eq!(stated(&by_bytes), Some((1_000.0, Basis::Bytes)));
        let mut by_calls = op("read", 0, 250);
        (by_calls.expected.calls, by_calls.calls.completed) = (Some(8), 2);
        assert_eq!(stated(&by_calls), Some((1_000.0, Basis::Calls)));
        // Nothing read yet: no total from bytes.
        by_bytes.bytes.read = 0;
        assert_eq!(stated(&by_bytes), None);
    }

    #[test]
    fn a_readers_estimate_remembers_nothing_an_observers_does() {
        let remembered = |node_type: &str| {
            HISTORY
                .lock()
                .unwrap()
                .contains_key(&(node_type.to_owned(), "t".to_owned()))
        };
        let mut scan = op("remembered_scan", 0, 100);
        scan.expected.rows = Some(1_000);
        let mut operators = [scan];
        for _ in 0..2 {
            estimate(&mut operators, &[], Look::Read);
        }
        let read = operators[0].estimate.clone().expect("an estimate");
        assert_eq!(read.fraction, 0.1);
        assert!(!remembered("remembered_scan"), "a read left a trace");
        estimate(&mut operators, &[], Look::Observe);
        assert!(remembered("remembered_scan"));
    }
}
