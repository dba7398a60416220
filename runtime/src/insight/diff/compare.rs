//! Two snapshots side by side: operators matched by their labels, each one's figures in
//! both runs and the verdict on its time per call; edges matched by their ends.

use std::collections::HashMap;
use std::time::Duration;

use super::shift::{Grid, Shift, JUDGED_QUANTILE};
use super::{Change, Diff, EdgeDiff, OperatorDiff};
use crate::insight::snapshot::{NodeRef, OperatorSnapshot, Percentiles, Snapshot};

/// [`Snapshot::diff`](crate::snapshot::Snapshot::diff).
pub(super) fn diff(before: &Snapshot, after: &Snapshot) -> Diff {
    let earlier: HashMap<NodeRef, &OperatorSnapshot> =
        before.operators.iter().map(|op| (node(op), op)).collect();
    let mut operators = Vec::new();
    let mut added = Vec::new();
    for op in &after.operators {
        match earlier.get(&node(op)) {
            Some(was) => operators.push(operator(was, op)),
            None => added.push(node(op)),
        }
    }
    let later: HashMap<NodeRef, &OperatorSnapshot> =
        after.operators.iter().map(|op| (node(op), op)).collect();
    let removed = before
        .operators
        .iter()
        .map(node)
        .filter(|node| !later.contains_key(node))
        .collect();
    Diff {
        operators,
        added,
        removed,
        edges: edges(before, after),
    }
}

fn node(op: &OperatorSnapshot) -> NodeRef {
    NodeRef {
        node_type: op.node_type.clone(),
        node_id: op.node_id.clone(),
    }
}

fn operator(before: &OperatorSnapshot, after: &OperatorSnapshot) -> OperatorDiff {
    let both = |pick: &dyn Fn(&OperatorSnapshot) -> u64| Change {
        before: pick(before),
        after: pick(after),
    };
    let time = |pick: &dyn Fn(&OperatorSnapshot) -> Duration| Change {
        before: pick(before),
        after: pick(after),
    };
    let (was, is) = (&before.distributions.buckets, &after.distributions.buckets);
    let quantiles = |pick: fn(&Percentiles<Duration>) -> Duration| {
        let (was, is) = (was.busy_percentiles()?, is.busy_percentiles()?);
        Some(Change {
            before: pick(&was),
            after: pick(&is),
        })
    };
    let memory = before.memory.zip(after.memory);
    OperatorDiff {
        node: node(after),
        calls: both(&|op| op.calls.completed + op.calls.failed + op.calls.cancelled),
        failed: both(&|op| op.calls.failed),
        rows_in: both(&|op| op.rows.input),
        rows_out: both(&|op| op.rows.produced),
        busy: time(&|op| op.time.busy),
        starved: time(&|op| op.time.starved),
        blocked: time(&|op| op.time.blocked),
        queued: time(&|op| op.time.queued),
        per_call: Shift::of(&was.busy, &is.busy, Grid::Busy, JUDGED_QUANTILE),
        median: quantiles(|p| p.p50),
        p99: quantiles(|p| p.p99),
        memory_peak: memory.map(|(was, is)| Change {
            before: was.peak,
            after: is.peak,
        }),
        allocated_per_call: memory
            .and_then(|_| Shift::of(&was.allocated, &is.allocated, Grid::ThreeBits, 0.5)),
    }
}

/// The edges of both graphs by (producer, consumer), counts of the ways one pair was
/// found added up.
fn edges(before: &Snapshot, after: &Snapshot) -> Vec<EdgeDiff> {
    let mut edges: Vec<EdgeDiff> = Vec::new();
    let mut at: HashMap<(NodeRef, NodeRef), usize> = HashMap::new();
    for (snapshot, later) in [(after, true), (before, false)] {
        for edge in &snapshot.edges {
            let key = (edge.from.clone(), edge.to.clone());
            let index = *at.entry(key).or_insert_with(|| {
                edges.push(EdgeDiff {
                    from: edge.from.clone(),
                    to: edge.to.clone(),
                    rows: Change::default(),
                    batches: Change::default(),
                });
                edges.len() - 1
            });
            let found = &mut edges[index];
            let (rows, batches) = if later {
                (&mut found.rows.after, &mut found.batches.after)
            } else {
                (&mut found.rows.before, &mut found.batches.before)
            };
            *rows = Some(rows.unwrap_or(0) + edge.rows);
            *batches = Some(batches.unwrap_or(0) + edge.batches);
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::diff::Verdict;
    use crate::insight::snapshot::{
        CallBuckets, CallCounts, Distributions, EdgeSnapshot, RowCounts, TimeSplit,
    };

    fn op(node_type: &str, busy_ns: u64, calls: u64) -> OperatorSnapshot {
        OperatorSnapshot {
            node_type: node_type.into(),
            node_id: "1".into(),
            calls: CallCounts {
                completed: calls,
                ..CallCounts::default()
            },
            rows: RowCounts {
                input: calls * 100,
                produced: calls * 50,
                ..RowCounts::default()
            },
            time: TimeSplit {
                busy: Duration::from_nanos(busy_ns * calls),
                ..TimeSplit::default()
            },
            distributions: Distributions {
                buckets: CallBuckets {
                    busy: vec![(busy_ns, calls)],
                    ..CallBuckets::default()
                },
                ..Distributions::default()
            },
            ..OperatorSnapshot::default()
        }
    }

    fn edge(from: &str, to: &str, rows: u64) -> EdgeSnapshot {
        EdgeSnapshot::of_call(from, to, "1", rows)
    }

    #[test]
    fn operators_and_edges_match_by_their_labels() {
        let before = Snapshot {
            operators: vec![op("scan", 40_960, 50), op("filter", 8_192, 50)],
            edges: vec![edge("scan", "filter", 5_000)],
            ..Snapshot::default()
        };
        let after = Snapshot {
            operators: vec![
                op("scan", 40_960, 50),
                op("filter", 32_768, 50),
                op("sink", 1_024, 1),
            ],
            edges: vec![edge("scan", "filter", 5_000), edge("filter", "sink", 2_500)],
            ..Snapshot::default()
        };
        let diff = diff(&before, &after);
        let names: Vec<&str> = diff
            .operators
            .iter()
            .map(|op| op.node.node_type.as_str())
            .collect();
        assert_eq!(names, ["scan", "filter"]);
        assert_eq!(diff.added[0].node_type, "sink");
        assert!(diff.removed.is_empty());
        assert_eq!(diff.operators[0].verdict(), Verdict::WithinNoise);
        assert_eq!(diff.operators[1].verdict(), Verdict::Higher);
        assert_eq!(diff.slower().len(), 1);
        assert_eq!(
            diff.operators[1].busy,
            Change {
                before: Duration::from_nanos(409_600),
                after: Duration::from_nanos(1_638_400)
            }
        );
        assert_eq!(diff.edges.len(), 2);
        assert_eq!(
            diff.edges[1].rows,
            Change {
                before: None,
                after: Some(2_500)
            }
        );
        // The other way round: the sink's edge and the sink gone, the filter faster.
        let back = after.diff(&before);
        assert_eq!(back.removed[0].node_type, "sink");
        assert_eq!(back.faster().len(), 1);
        assert_eq!(
            back.edges[1].rows,
            Change {
                before: Some(2_500),
                after: None
            }
        );
    }
}
