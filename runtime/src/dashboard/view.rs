//! What the dashboard and the HTML report show, as one JSON document: the operator graph
//! (DOT, coloured by busy share and wait state), each operator's row and detail lines as
//! the text report writes them, the edges, the bottleneck, the diagnoses, progress, the
//! latest runs with their steps, the process' memory and CPU, and live, the memory lane.
//!
//! Every number is formatted here, by the functions the text report uses, so the page
//! shows the report's figures to the digit and holds no formatting code of its own.
//! Nothing from the configuration goes in: no endpoint, no header, no environment value.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::dashboard::memory_lane::MemoryLaneView;
use crate::insight::bottleneck;
use crate::insight::figures::diagram::{edge_via, merged_edges};
use crate::insight::figures::names::{display_name, display_names};
use crate::insight::figures::operator_row::{columns, detail_lines, operator_cells, HEADER};
use crate::insight::figures::units::{batches, bytes, count, duration, percent};
use crate::insight::node_index::NodeIndex;
use crate::insight::report::Report;
use crate::insight::snapshot::NodeRef;
use crate::insight::snapshot::Severity;
use crate::insight::snapshot::{OperatorSnapshot, Snapshot, SourceState};
use crate::pipeline::history::{RunHistory, RunRecord, Status, StepRecord, RECENT_RUNS};

/// The whole page's data.
#[derive(Debug, Serialize)]
pub(crate) struct View {
    /// pipetel's version.
    pub(crate) version: &'static str,
    /// When the data was read, in milliseconds since the Unix epoch.
    pub(crate) taken_at_ms: u64,
    /// Served live (the page polls for more) rather than written to a file.
    pub(crate) live: bool,
    /// The operator table's column titles: the report's, `MEMORY` only when measured.
    pub(crate) header: Vec<&'static str>,
    pub(crate) operators: Vec<OperatorView>,
    pub(crate) edges: Vec<EdgeView>,
    /// The operator graph in Graphviz DOT: node `op{i}` is `operators[i]`, edge
    /// `edge{from}-{to}` the edge between those two.
    pub(crate) graph: String,
    pub(crate) bottleneck: Option<String>,
    pub(crate) diagnoses: Vec<DiagnosisView>,
    pub(crate) progress: Option<ProgressView>,
    pub(crate) runs: Vec<RunView>,
    /// Runs older than those in `runs`, rolled off.
    pub(crate) runs_rolled_off: u64,
    /// How many runs are kept.
    pub(crate) runs_kept: usize,
    pub(crate) process: Option<ProcessView>,
    /// With the tracking allocator: the heap held now, and how much of it operators
    /// allocated (`120.3 MiB, 87.1 MiB by operators`), beside the resident memory.
    pub(crate) heap: Option<String>,
    /// Live, with the tracking allocator: each operator's heap over the latest views.
    pub(crate) memory_lane: Option<MemoryLaneView>,
    /// The processes of the job, when the view is of several (a snapshot directory's):
    /// each by name, with its state.
    pub(crate) processes: Vec<JobProcessView>,
    /// The text report, as `pipetel::report()` prints it.
    pub(crate) report: String,
}

/// One process of a job spread over several.
#[derive(Debug, Serialize)]
pub(crate) struct JobProcessView {
    /// `host:pid`.
    pub(crate) name: String,
    /// `running`, `done` or `partial`.
    pub(crate) state: &'static str,
    /// For a partial one: how old its last snapshot is.
    pub(crate) note: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct OperatorView {
    /// Its short name, as in the report.
    pub(crate) name: String,
    pub(crate) node_type: String,
    pub(crate) node_id: String,
    /// `pipeline / step`, or the step, when it ran in one.
    pub(crate) step: Option<String>,
    /// Its row of the report's table, under `header`.
    pub(crate) cells: Vec<String>,
    /// Its `·` lines in the report: wait states, per-call distributions, skew, memory.
    pub(crate) details: Vec<String>,
    /// Its share of all operators' busy time, 0 to 1.
    pub(crate) busy_share: f64,
    /// Busy, starved, blocked and queued as shares of its wall time, 0 to 1.
    pub(crate) waits: [f64; 4],
    /// Where most of its wall time went.
    pub(crate) state: WaitState,
    /// Its progress, when it has an estimate: `(fraction, line)`.
    pub(crate) progress: Option<(f64, String)>,
    /// Its slowest calls, slowest first.
    pub(crate) slowest: Vec<SlowView>,
    /// Its latest log lines, oldest first.
    pub(crate) log_lines: Vec<LogLineView>,
}

#[derive(Debug, Serialize)]
pub(crate) struct LogLineView {
    /// When, in milliseconds since the Unix epoch.
    pub(crate) at_ms: u64,
    pub(crate) level: String,
    /// The event's target, or the child's stream.
    pub(crate) source: String,
    pub(crate) text: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct SlowView {
    /// Its busy time.
    pub(crate) busy: String,
    /// When it ended, in milliseconds since the Unix epoch.
    pub(crate) ended_ms: u64,
    /// The trace it ran in, if any.
    pub(crate) trace_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct EdgeView {
    /// Index of the producer in `operators`.
    pub(crate) from: usize,
    /// Index of the consumer in `operators`.
    pub(crate) to: usize,
    pub(crate) rows: String,
    pub(crate) bytes: Option<String>,
    pub(crate) batches: String,
    /// How it runs, as the report says it in parentheses: `channel 3`, `4 channels, 1.2 K
    /// received`, `plan`; nothing for a pull or call. Edges between two operators the same
    /// way are added up (a pipeline run again makes a new channel each run).
    pub(crate) via: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct DiagnosisView {
    /// `warning` or `notice`.
    pub(crate) severity: &'static str,
    pub(crate) message: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ProgressView {
    /// The operator that will finish last.
    pub(crate) operator: String,
    /// 0 to 1.
    pub(crate) fraction: f64,
    /// `42%`.
    pub(crate) percent: String,
    /// `ETA 1.23 s`, or `done`.
    pub(crate) eta: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct RunView {
    pub(crate) number: u64,
    pub(crate) pipeline: String,
    /// `running`, `succeeded` or `failed`.
    pub(crate) status: Status,
    /// When it started, in milliseconds since the Unix epoch (the page shows it in the
    /// viewer's time zone).
    pub(crate) started_ms: u64,
    pub(crate) time: String,
    pub(crate) rows: String,
    pub(crate) error: Option<String>,
    pub(crate) trace_id: Option<String>,
    pub(crate) steps: Vec<StepView>,
    pub(crate) steps_left_out: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct StepView {
    pub(crate) step: String,
    pub(crate) status: Status,
    pub(crate) time: String,
    pub(crate) rows: String,
    pub(crate) error: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ProcessView {
    /// Resident memory.
    pub(crate) memory: String,
    /// CPU use since the previous read (or since the process started), as a share of one
    /// core: `150%` is one and a half cores.
    pub(crate) cpu: String,
}

/// A wait state, in the order of [`OperatorView::waits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WaitState {
    Busy,
    Starved,
    Blocked,
    Queued,
}

impl WaitState {
    const ALL: [WaitState; 4] = [
        WaitState::Busy,
        WaitState::Starved,
        WaitState::Blocked,
        WaitState::Queued,
    ];

    /// Its colour in the graph (the page's legend says the same).
    fn colour(self) -> &'static str {
        match self {
            WaitState::Busy => "#222222",
            WaitState::Starved => "#1f77b4",
            WaitState::Blocked => "#9467bd",
            WaitState::Queued => "#7f7f7f",
        }
    }
}

impl View {
    /// The view of `snapshot` and `history`, with `process` figures if read.
    pub(crate) fn of(
        snapshot: Snapshot,
        history: RunHistory,
        process: Option<ProcessView>,
        live: bool,
    ) -> View {
        let names = display_names(&snapshot.operators);
        let name_of = |node: &NodeRef| display_name(&names, &node.node_type, &node.node_id);
        let index = NodeIndex::of(&snapshot.operators);
        let columns = columns(&snapshot);
        let operators: Vec<OperatorView> = snapshot
            .operators
            .iter()
            .map(|op| {
                let name = display_name(&names, &op.node_type, &op.node_id);
                operator_view(op, &name, columns)
            })
            .collect();
        let edges: Vec<EdgeView> = merged_edges(&snapshot, &index)
            .iter()
            .map(|edge| EdgeView {
                from: edge.from,
                to: edge.to,
                rows: count(edge.rows),
                bytes: (edge.bytes > 0).then(|| bytes(edge.bytes)),
                batches: batches(edge.batches),
                via: edge_via(edge),
            })
            .collect();
        let report = Report::of(snapshot);
        let graph = report.styled_dot(&|n| node_style(&operators[n]));
        let snapshot = report.snapshot();
        View {
            version: env!("CARGO_PKG_VERSION"),
            taken_at_ms: millis(SystemTime::now()),
            live,
            header: HEADER[..columns].to_vec(),
            heap: heap(snapshot),
            bottleneck: snapshot.bottleneck.as_ref().map(|found| {
                format!(
                    "{}: {}",
                    name_of(&found.node),
                    bottleneck::reason_line(found, name_of)
                )
            }),
            diagnoses: snapshot
                .diagnoses
                .iter()
                .map(|diagnosis| DiagnosisView {
                    severity: match diagnosis.severity {
                        Severity::Warning => "warning",
                        Severity::Notice => "notice",
                    },
                    message: diagnosis.message.clone(),
                })
                .collect(),
            progress: snapshot.overall.as_ref().map(|overall| ProgressView {
                operator: name_of(&overall.node),
                fraction: overall.fraction,
                percent: percent(overall.fraction),
                eta: eta(overall.fraction, overall.eta),
            }),
            runs: history.runs.iter().rev().map(run_view).collect(),
            runs_rolled_off: history.rolled_off,
            runs_kept: RECENT_RUNS,
            process,
            processes: job_processes(snapshot),
            memory_lane: None,
            report: report.to_string(),
            operators,
            edges,
            graph,
        }
    }

    /// The view as JSON, safe to put inside an HTML `<script>` element: `<`, `>` and `&`
    /// are escaped, so no string can close the element.
    pub(crate) fn json(&self) -> String {
        crate::dashboard::script_json::script_json(self)
    }
}

/// The processes of a snapshot of several (nothing for one process's own).
fn job_processes(snapshot: &Snapshot) -> Vec<JobProcessView> {
    if snapshot.sources.len() < 2 {
        return Vec::new();
    }
    snapshot
        .sources
        .iter()
        .map(|source| {
            let (state, note) = match source.state {
                SourceState::Live => ("running", None),
                SourceState::Done => ("done", None),
                SourceState::Partial { age } => (
                    "partial",
                    Some(format!(
                        "stopped; its last snapshot is {} old",
                        duration(age)
                    )),
                ),
            };
            JobProcessView {
                name: source.name(),
                state,
                note,
            }
        })
        .collect()
}

/// The heap the tracking allocator counted as held now, and the part of it operators
/// allocated; `None` when it did not count.
fn heap(snapshot: &Snapshot) -> Option<String> {
    let outside = snapshot.unattributed_memory?;
    let by_operators: u64 = snapshot
        .operators
        .iter()
        .filter_map(|op| op.memory)
        .map(|memory| memory.live)
        .sum();
    Some(format!(
        "{}, {} by operators",
        bytes(outside.live + by_operators),
        bytes(by_operators)
    ))
}

/// `op`'s view, with the first `columns` cells of its row.
fn operator_view(op: &OperatorSnapshot, name: &str, columns: usize) -> OperatorView {
    let wall = op.time.wall.as_secs_f64();
    let share = |part: Duration| {
        if wall > 0.0 {
            part.as_secs_f64() / wall
        } else {
            0.0
        }
    };
    let waits = [
        share(op.time.busy),
        share(op.time.starved),
        share(op.time.blocked),
        share(op.time.queued),
    ];
    let most = (0..4).fold(0, |most, i| if waits[i] > waits[most] { i } else { most });
    OperatorView {
        name: name.to_owned(),
        node_type: op.node_type.clone(),
        node_id: op.node_id.clone(),
        step: op.step.as_ref().map(|step| match &op.pipeline {
            Some(pipeline) => format!("{pipeline} / {step}"),
            None => step.clone(),
        }),
        cells: operator_cells(op).into_iter().take(columns).collect(),
        details: detail_lines(op),
        busy_share: op.time.busy_share,
        waits,
        state: WaitState::ALL[most],
        progress: op.estimate.as_ref().map(|estimate| {
            (
                estimate.fraction,
                format!(
                    "{} of {} rows, {}",
                    count(estimate.rows),
                    count(estimate.expected_rows),
                    estimate.eta.map_or_else(
                        || "ETA unknown".to_owned(),
                        |left| eta(estimate.fraction, left)
                    )
                ),
            )
        }),
        slowest: op
            .distributions
            .slowest_calls
            .iter()
            .map(|call| SlowView {
                busy: duration(call.busy),
                ended_ms: millis(call.ended),
                trace_id: call.trace_id.clone(),
            })
            .collect(),
        log_lines: op.logs.as_ref().map_or_else(Vec::new, |logs| {
            logs.latest
                .iter()
                .map(|line| LogLineView {
                    at_ms: millis(line.time),
                    level: line.level.clone(),
                    source: line.source.clone(),
                    text: line.text.clone(),
                })
                .collect()
        }),
    }
}

/// `done`, or `ETA 1.23 s`.
fn eta(fraction: f64, left: Duration) -> String {
    if fraction >= 1.0 || left.is_zero() {
        "done".to_owned()
    } else {
        format!("ETA {}", duration(left))
    }
}

fn run_view(run: &RunRecord) -> RunView {
    RunView {
        number: run.number,
        pipeline: run.pipeline.to_string(),
        status: run.status,
        started_ms: millis(run.started),
        time: duration(run.time),
        rows: count(run.rows),
        error: run.error.clone(),
        trace_id: run.trace_id.clone(),
        steps: run.steps.iter().map(step_view).collect(),
        steps_left_out: run.steps_left_out,
    }
}

fn step_view(step: &StepRecord) -> StepView {
    StepView {
        step: step.step.to_string(),
        status: step.status,
        time: duration(step.time),
        rows: count(step.rows),
        error: step.error.clone(),
    }
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

/// The DOT attributes of an operator's node: filled from white to orange by its share of
/// busy time, its border coloured by where most of its wall time went.
fn node_style(op: &OperatorView) -> String {
    // White (0 %) to a full orange (100 %).
    let heat = op.busy_share.clamp(0.0, 1.0);
    let channel = |full: f64| (255.0 - (255.0 - full) * heat).round() as u8;
    let fill = format!("#{:02x}{:02x}{:02x}", 255, channel(140.0), channel(0.0));
    let border = op.state.colour();
    format!("style=\"rounded,filled\", fillcolor=\"{fill}\", color=\"{border}\", penwidth=2")
}
