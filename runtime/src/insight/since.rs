//! [`Snapshot::since`]: what happened between two snapshots — one batch, or one query or
//! run when they run one at a time (with others beside it, its own view is
//! [`RunId::snapshot`](crate::RunId::snapshot)), where [`snapshot`](crate::snapshot())
//! gives totals since the process started.

use std::collections::{HashMap, HashSet};

use crate::insight::bottleneck;
use crate::insight::conservation;
use crate::insight::diagnoses;
use crate::insight::read_snapshot::{counted, derive_rates, Skews};
use crate::insight::skew;
use crate::insight::snapshot::{
    ByteCounts, CallCounts, Distributions, Memory, OperatorLogs, OperatorSnapshot, RowCounts,
    RunSnapshot, Snapshot, StepSnapshot, TimeSplit, WorkSkew,
};
use crate::insight::snapshot::{ChannelSnapshot, EdgeSnapshot, EdgeVia, NodeRef, SCHEMA_VERSION};
use crate::operator::engine_metrics;

impl Snapshot {
    /// What was counted after `earlier` and up to `self` (both from
    /// [`snapshot`](crate::snapshot()), `earlier` taken first): counters are differences,
    /// `calls.active` and `active` are `self`'s (what is running now), rates and shares
    /// are derived again from the differences. Operators, steps and runs with nothing
    /// counted in between are left out, and edges that carried nothing unless both their
    /// ends were counted (a plan whose query failed early is still a tree); the order is
    /// `self`'s. Figures are final once nothing runs ([`Snapshot::calls_running`] is 0):
    /// an engine may end a query's last tasks a little after its result is in.
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let scan = pipetel::Operator::new("scan", "since-doc");
    ///
    /// scan.iter(vec![vec![0u8; 5]]).for_each(drop); // an earlier query: 5 rows
    /// let before = pipetel::snapshot();
    /// scan.iter(vec![vec![0u8; 3]]).for_each(drop); // this query: 3 rows
    /// let this_query = pipetel::snapshot().since(&before);
    ///
    /// let op = this_query.operators.iter().find(|op| op.node_id == "since-doc").unwrap();
    /// assert_eq!((op.rows.produced, op.calls.completed), (3, 1));
    /// println!("{}", pipetel::Report::of(this_query));
    /// # drop(telemetry);
    /// ```
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        let operators_before: HashMap<(&str, &str), &OperatorSnapshot> = earlier
            .operators
            .iter()
            .map(|op| ((op.node_type.as_str(), op.node_id.as_str()), op))
            .collect();
        let mut operators: Vec<OperatorSnapshot> = self
            .operators
            .iter()
            .map(
                |op| match operators_before.get(&(op.node_type.as_str(), op.node_id.as_str())) {
                    Some(before) => operator_since(op, before),
                    None => op.clone(),
                },
            )
            .filter(counted)
            .collect();

        let steps_before: HashMap<(Option<&str>, &str), &StepSnapshot> = earlier
            .steps
            .iter()
            .map(|step| ((step.pipeline.as_deref(), step.step.as_str()), step))
            .collect();
        let steps: Vec<StepSnapshot> = self
            .steps
            .iter()
            .map(
                |step| match steps_before.get(&(step.pipeline.as_deref(), step.step.as_str())) {
                    Some(before) => StepSnapshot {
                        calls: step.calls.saturating_sub(before.calls),
                        failed: step.failed.saturating_sub(before.failed),
                        time: step.time.saturating_sub(before.time),
                        rows: step.rows.saturating_sub(before.rows),
                        ..step.clone()
                    },
                    None => step.clone(),
                },
            )
            .filter(|step| step.calls > 0 || step.active > 0)
            .collect();

        let runs_before: HashMap<&str, &RunSnapshot> = earlier
            .runs
            .iter()
            .map(|run| (run.pipeline.as_str(), run))
            .collect();
        let runs = self
            .runs
            .iter()
            .map(|run| match runs_before.get(run.pipeline.as_str()) {
                Some(before) => RunSnapshot {
                    runs: run.runs.saturating_sub(before.runs),
                    failed: run.failed.saturating_sub(before.failed),
                    time: run.time.saturating_sub(before.time),
                    rows: run.rows.saturating_sub(before.rows),
                    ..run.clone()
                },
                None => run.clone(),
            })
            .filter(|run| run.runs > 0 || run.active > 0)
            .collect();

        let in_view: HashSet<NodeRef> = operators.iter().map(OperatorSnapshot::node).collect();
        let edges_before: HashMap<(&NodeRef, &NodeRef, EdgeVia), &EdgeSnapshot> = earlier
            .edges
            .iter()
            .map(|edge| ((&edge.from, &edge.to, edge.via), edge))
            .collect();
        let edges: Vec<EdgeSnapshot> = self
            .edges
            .iter()
            .map(
                |edge| match edges_before.get(&(&edge.from, &edge.to, edge.via)) {
                    Some(before) => EdgeSnapshot {
                        rows: edge.rows.saturating_sub(before.rows),
                        bytes: edge.bytes.saturating_sub(before.bytes),
                        batches: edge.batches.saturating_sub(before.batches),
                        rows_received: edge
                            .rows_received
                            .map(|now| now.saturating_sub(before.rows_received.unwrap_or(0))),
                        ..edge.clone()
                    },
                    None => edge.clone(),
                },
            )
            // An edge of this view carried something in it, or joins two operators of it.
            .filter(|edge| {
                edge.batches > 0 || (in_view.contains(&edge.from) && in_view.contains(&edge.to))
            })
            .collect();

        let channels_before: HashMap<u32, &ChannelSnapshot> = earlier
            .channels
            .iter()
            .map(|channel| (channel.id, channel))
            .collect();
        let channels: Vec<ChannelSnapshot> = self
            .channels
            .iter()
            .map(|channel| match channels_before.get(&channel.id) {
                Some(before) => ChannelSnapshot {
                    rows_sent: channel.rows_sent.saturating_sub(before.rows_sent),
                    batches_sent: channel.batches_sent.saturating_sub(before.batches_sent),
                    bytes_sent: channel.bytes_sent.saturating_sub(before.bytes_sent),
                    rows_received: channel.rows_received.saturating_sub(before.rows_received),
                    batches_received: channel
                        .batches_received
                        .saturating_sub(before.batches_received),
                    rows_lost: channel.rows_lost.saturating_sub(before.rows_lost),
                    batches_lost: channel.batches_lost.saturating_sub(before.batches_lost),
                    ..channel.clone()
                },
                None => channel.clone(),
            })
            .filter(|channel| {
                channel.batches_sent > 0 || channel.batches_received > 0 || channel.batches_lost > 0
            })
            .collect();
        // An operator is filed under the step it last ran in; a step that neither ran nor
        // runs in this view is not where it ran in it (a query outside any step, after
        // queries inside steps): in this view it ran outside any step.
        let steps_in_view: HashSet<(Option<&str>, &str)> = steps
            .iter()
            .map(|step| (step.pipeline.as_deref(), step.step.as_str()))
            .collect();
        for op in &mut operators {
            let filed = op
                .step
                .as_deref()
                .is_some_and(|step| steps_in_view.contains(&(op.pipeline.as_deref(), step)));
            if !filed {
                op.step = None;
                op.pipeline = None;
            }
        }
        derive_rates(&mut operators, &edges, Skews::ToScore);
        let imbalances = conservation::check(&operators, &edges, &channels);
        let bottleneck = bottleneck::find(&operators, &edges);

        let mut view = Snapshot {
            schema_version: SCHEMA_VERSION,
            sources: self.sources.clone(),
            bottleneck,
            // Progress is of the process's pipeline: the estimates stay those of now.
            overall: self.overall.clone(),
            diagnoses: Vec::new(),
            operators,
            steps,
            runs,
            edges,
            channels,
            imbalances,
            unattributed_memory: memory_since(
                &self.unattributed_memory,
                &earlier.unattributed_memory,
            ),
        };
        // The checks of one snapshot run on the view; those that look back over time
        // (a stall, failing exports) are of the process, as of now.
        view.diagnoses = diagnoses::of_snapshot(&view, &diagnoses::thresholds());
        view.diagnoses.extend(
            self.diagnoses
                .iter()
                .filter(|found| !diagnoses::of_one_snapshot(found.kind))
                .cloned(),
        );
        view
    }
}

fn operator_since(now: &OperatorSnapshot, before: &OperatorSnapshot) -> OperatorSnapshot {
    OperatorSnapshot {
        calls: CallCounts {
            completed: now.calls.completed.saturating_sub(before.calls.completed),
            failed: now.calls.failed.saturating_sub(before.calls.failed),
            cancelled: now.calls.cancelled.saturating_sub(before.calls.cancelled),
            ..now.calls
        },
        rows: RowCounts {
            received: now.rows.received.saturating_sub(before.rows.received),
            produced: now.rows.produced.saturating_sub(before.rows.produced),
            written: now.rows.written.saturating_sub(before.rows.written),
            ..now.rows
        },
        bytes: ByteCounts {
            read: now.bytes.read.saturating_sub(before.bytes.read),
            written: now.bytes.written.saturating_sub(before.bytes.written),
        },
        time: TimeSplit {
            busy: now.time.busy.saturating_sub(before.time.busy),
            starved: now.time.starved.saturating_sub(before.time.starved),
            blocked: now.time.blocked.saturating_sub(before.time.blocked),
            queued: now.time.queued.saturating_sub(before.time.queued),
            ..now.time
        },
        distributions: Distributions {
            buckets: now
                .distributions
                .buckets
                .since(&before.distributions.buckets),
            // Those among the slowest now that were not before happened in between.
            slowest_calls: now
                .distributions
                .slowest_calls
                .iter()
                .filter(|call| !before.distributions.slowest_calls.contains(call))
                .cloned()
                .collect(),
            ..now.distributions.clone()
        },
        skew: WorkSkew {
            threads: skew::since(&now.skew.threads, &before.skew.threads),
            partitions: skew::since(&now.skew.partitions, &before.skew.partitions),
            workers: skew::since(&now.skew.workers, &before.skew.workers),
            ..now.skew.clone()
        },
        engine_metrics: engine_metrics::values_since(
            &now.engine_metrics,
            Some(&before.engine_metrics),
        ),
        memory: memory_since(&now.memory, &before.memory),
        logs: logs_since(&now.logs, &before.logs),
        ..now.clone()
    }
}

/// Lines counted in between, and the latest of them.
fn logs_since(now: &Option<OperatorLogs>, before: &Option<OperatorLogs>) -> Option<OperatorLogs> {
    let now = now.as_ref()?;
    let Some(before) = before else {
        return Some(now.clone());
    };
    let lines = now.lines.saturating_sub(before.lines);
    (lines > 0).then(|| OperatorLogs {
        lines,
        warnings: now.warnings.saturating_sub(before.warnings),
        errors: now.errors.saturating_sub(before.errors),
        latest: now
            .latest
            .iter()
            .filter(|line| !before.latest.contains(line))
            .cloned()
            .collect(),
    })
}

/// Memory allocated and freed in between; held, peak and retained as of now.
fn memory_since(now: &Option<Memory>, before: &Option<Memory>) -> Option<Memory> {
    let now = (*now)?;
    Some(match before {
        Some(before) => now.since(before),
        None => now,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::insight::snapshot::{
        CallCounts, EdgeSnapshot, EdgeVia, NodeRef, OperatorSnapshot, RowCounts, Snapshot,
        StepSnapshot, TimeSplit,
    };

    fn operator(node_id: &str, rows_out: u64, completed: u64) -> OperatorSnapshot {
        OperatorSnapshot {
            node_id: node_id.to_owned(),
            node_type: "scan".to_owned(),
            rows: RowCounts {
                produced: rows_out,
                received: rows_out,
                ..RowCounts::default()
            },
            calls: CallCounts {
                completed,
                ..CallCounts::default()
            },
            time: TimeSplit {
                busy: Duration::from_millis(rows_out),
                ..TimeSplit::default()
            },
            ..OperatorSnapshot::default()
        }
    }

    #[test]
    fn skew_across_threads_is_scored_over_the_interval() {
        use crate::insight::skew::skew_score;
        use crate::insight::snapshot::{Share, Skew};

        let with_threads = |rows: [u64; 2]| {
            let mut op = operator("a", rows.iter().sum(), 1);
            op.skew.threads = ["t:1", "t:2"]
                .into_iter()
                .zip(rows)
                .map(|(at, rows)| Share {
                    at: at.into(),
                    rows,
                    ..Share::default()
                })
                .collect();
            op.skew.across_threads = Skew::of(&op.skew.threads, &mut Vec::new());
            Snapshot {
                operators: vec![op],
                ..Snapshot::default()
            }
        };
        let (earlier, later) = (with_threads([10, 10]), with_threads([100, 20]));
        let since = later.since(&earlier);
        let across = since.operators[0].skew.across_threads.as_ref();
        assert_eq!(
            across.and_then(|skew| skew.rows.skew),
            skew_score(&[90, 10]),
            "the interval's, not the later snapshot's ({:?})",
            skew_score(&[100, 20])
        );
    }

    #[test]
    fn counters_are_differences_and_idle_entries_are_left_out() {
        let step = |calls| StepSnapshot {
            step: "load".to_owned(),
            calls,
            time: Duration::from_secs(calls),
            ..StepSnapshot::default()
        };
        let earlier = Snapshot {
            operators: vec![operator("a", 10, 1), operator("b", 5, 1)],
            steps: vec![step(1)],
            ..Snapshot::default()
        };
        let later = Snapshot {
            operators: vec![
                operator("a", 16, 2),
                operator("b", 5, 1),
                operator("c", 4, 1),
            ],
            steps: vec![step(3)],
            ..Snapshot::default()
        };
        let since = later.since(&earlier);
        let ids: Vec<&str> = since
            .operators
            .iter()
            .map(|op| op.node_id.as_str())
            .collect();
        assert_eq!(ids, ["a", "c"]);
        assert_eq!(since.operators[0].rows.produced, 6);
        assert_eq!(since.operators[0].calls.completed, 1);
        assert_eq!(since.operators[0].time.busy, Duration::from_millis(6));
        // Shares are of the interval: a took 6 ms of 10.
        assert!((since.operators[0].time.busy_share - 0.6).abs() < 1e-9);
        assert_eq!(since.steps[0].calls, 2);
        assert_eq!(since.steps[0].time, Duration::from_secs(2));
        assert_eq!(later.since(&later), Snapshot::default());
    }

    #[test]
    fn an_edge_that_carried_nothing_stays_between_two_operators_of_the_view() {
        let node = |id: &str| NodeRef {
            node_type: "scan".to_owned(),
            node_id: id.to_owned(),
        };
        let edge = |from: &str, to: &str, batches: u64| EdgeSnapshot {
            from: node(from),
            to: node(to),
            via: EdgeVia::Plan,
            rows: batches * 10,
            bytes: batches * 80,
            batches,
            rows_received: None,
            channel: None,
        };
        // c → a and b → a carried 3 batches before; in between, a and c ran (a query
        // that failed before c handed anything on) and b did not.
        let earlier = Snapshot {
            operators: vec![
                operator("a", 30, 1),
                operator("b", 30, 1),
                operator("c", 30, 1),
            ],
            edges: vec![edge("c", "a", 3), edge("b", "a", 3)],
            ..Snapshot::default()
        };
        let later = Snapshot {
            operators: vec![
                operator("a", 30, 2),
                operator("b", 30, 1),
                operator("c", 30, 2),
            ],
            edges: vec![edge("c", "a", 3), edge("b", "a", 3)],
            ..Snapshot::default()
        };
        let since = later.since(&earlier);
        assert_eq!(since.edges.len(), 1, "{:?}", since.edges);
        assert_eq!(
            (since.edges[0].from.node_id.as_str(), since.edges[0].batches),
            ("c", 0)
        );
    }

    #[test]
    fn an_operator_filed_under_a_step_that_did_not_run_in_the_view_ran_outside_any_step() {
        let filed = |op: OperatorSnapshot, step: &str| OperatorSnapshot {
            pipeline: Some("orders".to_owned()),
            step: Some(step.to_owned()),
            ..op
        };
        let step = |step: &str, calls| StepSnapshot {
            pipeline: Some("orders".to_owned()),
            step: step.to_owned(),
            calls,
            ..StepSnapshot::default()
        };
        // a ran inside "extract" before; in between, "load" ran b, and a ran again
        // outside any step (its mark is still extract's).
        let earlier = Snapshot {
            operators: vec![filed(operator("a", 10, 1), "extract")],
            steps: vec![step("extract", 1)],
            ..Snapshot::default()
        };
        let later = Snapshot {
            operators: vec![
                filed(operator("a", 20, 2), "extract"),
                filed(operator("b", 5, 1), "load"),
            ],
            steps: vec![step("extract", 1), step("load", 1)],
            ..Snapshot::default()
        };
        let since = later.since(&earlier);
        let filed_under: Vec<(&str, Option<&str>)> = since
            .operators
            .iter()
            .map(|op| (op.node_id.as_str(), op.step.as_deref()))
            .collect();
        assert_eq!(filed_under, [("a", None), ("b", Some("load"))]);
        assert!(since.operators[0].pipeline.is_none());
        let table = crate::Report::of(since).to_string();
        assert!(table.contains("operators outside any step"), "{table}");
    }
}
