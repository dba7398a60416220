//! The post-run analysis: an EXPLAIN ANALYZE-style table of every run, step and operator
//! (operators under the step they ran in, nested by the operator graph, with their wait
//! states), the bottleneck, the graph's edges and the diagnoses, in human units; the
//! same data as JSON,
//! and the graph as Mermaid or Graphviz DOT. On demand with [`report`], and at shutdown
//! when `PIPETEL_REPORT` is set.

use std::fmt::{self, Write as _};
use std::time::Duration;

mod dot;
mod mermaid;
mod processes;
pub(crate) mod target;
mod tree;

use std::collections::{HashMap, HashSet};

use crate::insight::bottleneck;
use crate::insight::figures::diagram::{self, edge_text, Diagram};
use crate::insight::figures::names::{display_name, display_names};
use crate::insight::figures::operator_row::{columns, detail_lines, operator_cells, HEADER};
use crate::insight::node_index::NodeIndex;
use crate::insight::read_snapshot::snapshot;
use crate::insight::snapshot::Severity;
use crate::insight::snapshot::{OperatorSnapshot, Snapshot, StepSnapshot};
use crate::operator::engine_metrics::EngineValue;

use crate::insight::figures::units::{bytes, count, duration};

/// The report of everything counted so far: `Display` gives the table, [`json`](Self::json)
/// the same data as JSON (operators are the graph's nodes, `edges` its edges),
/// [`mermaid`](Self::mermaid) and [`dot`](Self::dot) the operator graph,
/// [`snapshot`](Self::snapshot) the data itself.
///
/// The table lists each run, its steps, and each step's operators nested by the graph:
/// a consumer, then the operators feeding it one level deeper (`←`), as EXPLAIN prints a
/// plan. Operators show by a short name: the last segment of a module-path `node.id` (the
/// default of `#[operator]`), longer only where two would look the same; the JSON keeps
/// the full ids, and the name column widens to hold the longest whole. An operator that
/// waited has a `·` line with its wall time split into busy, starved, blocked and
/// queued; an engine's own metrics of the operator follow, those at zero left out. Below the table, the bottleneck with its reason,
/// every edge with the rows, bytes and batches that crossed it, the calls still running
/// (while there are some, the figures are not final), and the diagnoses: a `⚠`
/// line for each warning (rows lost or duplicated, skew, a stall, …), a `·` line for
/// each notice.
///
/// ```
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
///
/// #[pipetel::operator(node_type = "scan")]
/// fn scan() -> Vec<u8> {
///     vec![0; 10]
/// }
/// scan();
///
/// let report = pipetel::report();
/// assert!(report.to_string().contains("scan"));
/// let back: pipetel::snapshot::Snapshot = serde_json::from_str(&report.json()).unwrap();
/// assert_eq!(&back, report.snapshot());
/// # drop(telemetry);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Report(Snapshot);

/// The report of everything counted so far.
pub fn report() -> Report {
    Report(snapshot())
}

impl Report {
    /// The report of `snapshot`.
    pub fn of(snapshot: Snapshot) -> Self {
        Report(snapshot)
    }

    /// The data behind the report.
    pub fn snapshot(&self) -> &Snapshot {
        &self.0
    }

    /// The data as pretty-printed JSON; parsing it back gives the same snapshot, floats
    /// included (`serde_json`'s `float_roundtrip`).
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(&self.0)
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }

    /// The operator graph as a Mermaid flowchart: a box per operator (time, share of
    /// busy time, rows in and out, selectivity — above 1, amplification) inside a box per
    /// step, rows, bytes and batches on each edge, what the conservation check flags in
    /// red. Paste it in a Markdown file on GitHub, or in <https://mermaid.live>.
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// #[pipetel::operator(node_type = "scan")]
    /// fn scan() -> impl Iterator<Item = Vec<u8>> {
    ///     (0..3).map(|n| vec![n; 4])
    /// }
    /// #[pipetel::operator(node_type = "sink")]
    /// fn sink(input: impl Iterator<Item = Vec<u8>>) -> usize {
    ///     input.count()
    /// }
    /// sink(scan());
    /// let mermaid = pipetel::report().mermaid();
    /// assert!(mermaid.starts_with("flowchart TD"));
    /// assert!(mermaid.contains("-->|\"12 rows<br/>3 batches\"|"));
    /// # drop(telemetry);
    /// ```
    pub fn mermaid(&self) -> String {
        mermaid::render(&Diagram::of(&self.0))
    }

    /// The operator graph in Graphviz DOT (`dot -Tsvg`), with what
    /// [`mermaid`](Self::mermaid) shows.
    pub fn dot(&self) -> String {
        dot::render(&Diagram::of(&self.0))
    }

    /// [`dot`](Self::dot) with ids on nodes (`op{i}`, `i` the operator's index in the
    /// snapshot) and edges (`edge{from}-{to}`), and `style(i)`'s attributes on each node.
    #[cfg(feature = "html")]
    pub(crate) fn styled_dot(&self, style: &dyn Fn(usize) -> String) -> String {
        dot::render_styled(&Diagram::of(&self.0), style)
    }
}

/// The table fits a 120-column terminal, unless a name with its indentation needs more:
/// the name column then widens to hold the longest, whole.
const NAME_WIDTH: usize = 38;
const WIDTHS: [usize; 11] = [7, 9, 6, 9, 9, 7, 8, 10, 10, 7, 22];

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let snapshot = &self.0;
        if snapshot.operators.is_empty() && snapshot.steps.is_empty() && snapshot.runs.is_empty() {
            return writeln!(f, "pipetel report: nothing was counted (is collection on?)");
        }
        let mut table = Table {
            lines: Vec::new(),
            names: display_names(&snapshot.operators),
            columns: columns(snapshot),
        };
        for run in &snapshot.runs {
            let calls = match run.active {
                0 => run.runs.to_string(),
                active => format!("{}+{active}", run.runs),
            };
            table.row(
                0,
                &format!("run {}", run.pipeline),
                summary(calls, run.time, run.rows, run.failed),
            );
            for step in snapshot
                .steps
                .iter()
                .filter(|step| step.pipeline.as_deref() == Some(&run.pipeline))
            {
                table.step(1, step, snapshot);
            }
        }
        for step in snapshot.steps.iter().filter(|step| step.pipeline.is_none()) {
            table.step(0, step, snapshot);
        }
        // Operators filed under a step the view has no figures of (a query's view: the
        // step of the run it ran in), under the step's name.
        let printed: HashSet<(Option<&str>, &str)> = snapshot
            .steps
            .iter()
            .filter(|step| {
                step.pipeline.is_none()
                    || snapshot
                        .runs
                        .iter()
                        .any(|run| step.pipeline.as_deref() == Some(&run.pipeline))
            })
            .map(|step| (step.pipeline.as_deref(), step.step.as_str()))
            .collect();
        let mut unlisted: Vec<(Option<&str>, &str)> = Vec::new();
        for op in &snapshot.operators {
            if let Some(step) = op.step.as_deref() {
                let key = (op.pipeline.as_deref(), step);
                if !printed.contains(&key) && !unlisted.contains(&key) {
                    unlisted.push(key);
                }
            }
        }
        for (pipeline, step) in unlisted {
            let heading = match pipeline {
                Some(pipeline) => format!("step {step} (pipeline {pipeline})"),
                None => format!("step {step}"),
            };
            table.row(0, &heading, Default::default());
            let operators = in_plan_order(snapshot.operators.iter().filter(|op| {
                op.step.as_deref() == Some(step) && op.pipeline.as_deref() == pipeline
            }));
            table.operators(1, &operators, snapshot);
        }
        let loose = in_plan_order(snapshot.operators.iter().filter(|op| op.step.is_none()));
        if !loose.is_empty() {
            table.row(0, "operators outside any step", Default::default());
            table.operators(1, &loose, snapshot);
        }
        let mut text = table.render();
        table_notes(&mut text, snapshot, &table.names);
        write!(f, "{text}")
    }
}

/// The table's lines, kept until all are known: the name column is as wide as the
/// longest name.
struct Table {
    lines: Vec<Line>,
    /// Display names by (node.type, node.id).
    names: HashMap<(String, String), String>,
    /// How many of the cells it shows.
    columns: usize,
}

enum Line {
    /// A run, step or operator: its indented name and its cells.
    Row(String, Box<[String; 11]>),
    /// A line under a row, printed as it is.
    Under(String),
}

impl Table {
    /// An operator's display name.
    fn name(&self, node_type: &str, node_id: &str) -> String {
        display_name(&self.names, node_type, node_id)
    }

    fn row(&mut self, depth: usize, name: &str, cells: [String; 11]) {
        self.lines.push(Line::Row(
            format!("{}{name}", "  ".repeat(depth)),
            Box::new(cells),
        ));
    }

    /// The header and every line, the name column as wide as the longest name.
    fn render(&self) -> String {
        let name_width = self
            .lines
            .iter()
            .filter_map(|line| match line {
                Line::Row(name, _) => Some(name.chars().count() + 1),
                Line::Under(_) => None,
            })
            .fold(NAME_WIDTH, usize::max);
        let mut text = String::new();
        let row = |text: &mut String, name: &str, cells: &mut dyn Iterator<Item = &str>| {
            let _ = write!(text, "{name:<name_width$}");
            for (cell, width) in cells.zip(WIDTHS).take(self.columns) {
                let _ = write!(text, "{cell:>width$}");
            }
            let trimmed = text.trim_end().len();
            text.truncate(trimmed);
            text.push('\n');
        };
        if !self.lines.is_empty() {
            row(
                &mut text,
                "RUN / STEP / OPERATOR",
                &mut HEADER.iter().copied(),
            );
        }
        for line in &self.lines {
            match line {
                Line::Row(name, cells) => {
                    row(&mut text, name, &mut cells.iter().map(String::as_str));
                }
                Line::Under(under) => {
                    text.push_str(under);
                    text.push('\n');
                }
            }
        }
        text
    }

    /// A group's operators nested by the graph: producers under their consumers.
    fn operators(&mut self, depth: usize, group: &[&OperatorSnapshot], snapshot: &Snapshot) {
        for (below, op) in tree::nested(group, &snapshot.edges) {
            self.operator(depth + below, below > 0, op);
        }
    }

    fn step(&mut self, depth: usize, step: &StepSnapshot, snapshot: &Snapshot) {
        self.row(
            depth,
            &format!("step {}", step.step),
            summary(step.calls.to_string(), step.time, step.rows, step.failed),
        );
        let operators =
            in_plan_order(snapshot.operators.iter().filter(|op| {
                op.step.as_deref() == Some(&step.step) && op.pipeline == step.pipeline
            }));
        self.operators(depth + 1, &operators, snapshot);
    }

    fn operator(&mut self, depth: usize, is_input: bool, op: &OperatorSnapshot) {
        let name = self.name(&op.node_type, &op.node_id);
        let name = if is_input {
            format!("← {name}")
        } else {
            name
        };
        self.row(depth, &name, operator_cells(op));
        let indent = format!("{}· ", "  ".repeat(depth + 1));
        for line in detail_lines(op) {
            self.lines.push(Line::Under(format!("{indent}{line}")));
        }
        self.engine_metrics(depth + 1, op);
    }

    /// The engine's own metrics of an operator, under its row: `name value` pairs,
    /// wrapped to the table's width; those at zero (a time never spent, a spill that did
    /// not happen) left out.
    fn engine_metrics(&mut self, depth: usize, op: &OperatorSnapshot) {
        let indent = format!("{}· ", "  ".repeat(depth));
        let width = NAME_WIDTH + WIDTHS.iter().take(self.columns).sum::<usize>();
        let mut line = indent.clone();
        for (name, value) in op
            .engine_metrics
            .iter()
            .filter(|(_, value)| !is_zero(**value))
        {
            let pair = format!("{name} {}", engine_value(*value));
            if line.len() > indent.len() && line.len() + pair.len() + 2 > width {
                let full = std::mem::replace(&mut line, indent.clone());
                self.lines
                    .push(Line::Under(full.trim_end_matches([',', ' ']).to_owned()));
            }
            line.push_str(&pair);
            line.push_str(", ");
        }
        if line.len() > indent.len() {
            self.lines
                .push(Line::Under(line.trim_end_matches([',', ' ']).to_owned()));
        }
    }
}

/// What follows the table: the bottleneck, the edges and the diagnoses.
fn table_notes(text: &mut String, snapshot: &Snapshot, names: &HashMap<(String, String), String>) {
    let name = |node_type: &str, node_id: &str| display_name(names, node_type, node_id);
    processes::note(text, snapshot);
    if let Some(bottleneck) = &snapshot.bottleneck {
        let node_name =
            |node: &crate::insight::snapshot::NodeRef| name(&node.node_type, &node.node_id);
        let reason = bottleneck::reason_line(bottleneck, node_name);
        let _ = writeln!(
            text,
            "\nBOTTLENECK {}: {reason}",
            node_name(&bottleneck.node)
        );
    }
    // The edges, each with what crossed it; those of one producer, consumer and way
    // added up (a pipeline run again makes a new channel each run).
    let edges = diagram::merged_edges(snapshot, &NodeIndex::of(&snapshot.operators));
    if !edges.is_empty() {
        text.push_str("\nEDGES (producer → consumer)\n");
        for edge in edges {
            let (from, to) = (&snapshot.operators[edge.from], &snapshot.operators[edge.to]);
            let _ = writeln!(
                text,
                "  {} → {}: {}",
                name(&from.node_type, &from.node_id),
                name(&to.node_type, &to.node_id),
                edge_text(&edge)
            );
        }
    }
    let running = snapshot.calls_running();
    if running > 0 {
        let operators = snapshot
            .operators
            .iter()
            .filter(|op| op.calls.active > 0)
            .count();
        let _ = writeln!(
            text,
            "\nRUNNING {} of {}: the figures grow until they end",
            plural(running, "call"),
            plural(operators as u64, "operator")
        );
    }
    // What the built-in checks found: `⚠` for a warning, `·` for a notice.
    if !snapshot.diagnoses.is_empty() {
        text.push_str("\nDIAGNOSES\n");
        for diagnosis in &snapshot.diagnoses {
            let mark = match diagnosis.severity {
                Severity::Warning => '⚠',
                Severity::Notice => '·',
            };
            let _ = writeln!(text, "{mark} {}", diagnosis.message);
        }
    }
}

/// `n` `thing`s, in words.
fn plural(n: u64, thing: &str) -> String {
    match n {
        1 => format!("1 {thing}"),
        n => format!("{} {thing}s", count(n)),
    }
}

/// Whether an engine metric says nothing happened.
fn is_zero(value: EngineValue) -> bool {
    match value {
        EngineValue::Count(n) | EngineValue::Gauge(n) | EngineValue::Reserved(n) => n == 0,
        EngineValue::Time(time) => time.is_zero(),
    }
}

/// An engine metric's value in human units.
fn engine_value(value: EngineValue) -> String {
    match value {
        EngineValue::Count(n) | EngineValue::Gauge(n) => count(n),
        EngineValue::Reserved(n) => bytes(n),
        EngineValue::Time(time) => duration(time),
    }
}

/// A group of operators in the order of the snapshot (first call), or by `node.id` when
/// every id in the group is an integer: positions in a plan, as pipetel-datafusion gives
/// them, list the plan top-down whatever order the nodes were first seen in.
fn in_plan_order<'a>(
    operators: impl Iterator<Item = &'a OperatorSnapshot>,
) -> Vec<&'a OperatorSnapshot> {
    let mut operators: Vec<&OperatorSnapshot> = operators.collect();
    let positions: Option<Vec<u64>> = operators.iter().map(|op| op.node_id.parse().ok()).collect();
    if let Some(positions) = positions {
        let mut numbered: Vec<(u64, &OperatorSnapshot)> =
            positions.into_iter().zip(operators).collect();
        numbered.sort_by_key(|(position, _)| *position);
        operators = numbered.into_iter().map(|(_, op)| op).collect();
    }
    operators
}

/// The cells of a run or step row: calls, time, rows (in the ROWS OUT column), failures.
fn summary(calls: String, time: Duration, rows: u64, failed: u64) -> [String; 11] {
    let empty = String::new;
    [
        calls,
        duration(time),
        empty(),
        empty(),
        count(rows),
        empty(),
        empty(),
        empty(),
        empty(),
        failed.to_string(),
        empty(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::snapshot::EdgeVia;
    use crate::insight::snapshot::NodeRef;
    use crate::insight::snapshot::RunSnapshot;
    use crate::insight::snapshot::{RowCounts, TimeSplit};

    fn operator(node_type: &str, node_id: &str, step: Option<&str>) -> OperatorSnapshot {
        OperatorSnapshot {
            node_id: node_id.into(),
            node_type: node_type.into(),
            pipeline: step.map(|_| "orders".into()),
            step: step.map(Into::into),
            ..OperatorSnapshot::default()
        }
    }

    #[test]
    fn the_table_nests_operators_under_their_steps_under_their_runs() {
        let mut scan = operator("scan", "orders.csv", Some("extract"));
        scan.rows.produced = 1_250_000;
        scan.bytes.read = 36_175_872;
        scan.time.busy = Duration::from_millis(750);
        scan.calls.completed = 153;
        let mut filter = operator("filter", "quickstart::filter", Some("extract"));
        filter.rows.received = 1_250_000;
        filter.rows.produced = 625_000;
        filter.time.busy = Duration::from_millis(250);
        filter.calls.completed = 152;
        filter.calls.failed = 1;
        let mut sink = operator("sink", "7", None);
        sink.rows.received = 4;
        sink.rows.written = 4;
        sink.bytes.written = 71;
        sink.calls.completed = 1;
        let mut snapshot = Snapshot {
            operators: vec![scan, filter, sink],
            steps: vec![
                StepSnapshot {
                    pipeline: Some("orders".into()),
                    step: "extract".into(),
                    calls: 1,
                    time: Duration::from_millis(1_020),
                    rows: 625_000,
                    ..StepSnapshot::default()
                },
                StepSnapshot {
                    pipeline: None,
                    step: "cleanup".into(),
                    calls: 2,
                    failed: 1,
                    time: Duration::from_micros(12_345),
                    ..StepSnapshot::default()
                },
            ],
            runs: vec![RunSnapshot {
                pipeline: "orders".into(),
                runs: 1,
                time: Duration::from_millis(1_100),
                rows: 625_000,
                ..RunSnapshot::default()
            }],
            ..Snapshot::default()
        };
        snapshot.edges.push(crate::insight::snapshot::EdgeSnapshot {
            from: NodeRef {
                node_type: "scan".into(),
                node_id: "orders.csv".into(),
            },
            to: NodeRef {
                node_type: "filter".into(),
                node_id: "quickstart::filter".into(),
            },
            via: EdgeVia::Call,
            rows: 1_250_000,
            bytes: 0,
            batches: 153,
            rows_received: None,
            channel: None,
        });
        crate::insight::read_snapshot::derive_rates(
            &mut snapshot.operators,
            &snapshot.edges,
            crate::insight::read_snapshot::Skews::ToScore,
        );
        let expected = "\
RUN / STEP / OPERATOR                   CALLS     TIME SHARE  ROWS IN ROWS OUT    SEL  ROWS/S      READ   WRITTEN FAILED
run orders                                  1   1.10 s                 625.0 K                                         0
  step extract                              1   1.02 s                 625.0 K                                         0
    filter                                153 250.0 ms 25.0%    1.2 M  625.0 K   0.50   5.0 M         -         -      1
      ← scan orders.csv                   153 750.0 ms 75.0%        0    1.2 M      -   1.7 M  34.5 MiB         -      0
step cleanup                                2  12.3 ms                       0                                         1
operators outside any step
  sink 7                                    1     0 ns  0.0%        4        0   0.00       -         -      71 B      0

EDGES (producer → consumer)
  scan orders.csv → filter: 1.2 M rows in 153 batches
";
        let table = Report::of(snapshot.clone()).to_string();
        assert_eq!(table, expected);
        assert!(table.lines().all(|line| line.chars().count() <= 120));
        let json = Report::of(snapshot.clone()).json();
        let back: Snapshot = serde_json::from_str(&json).expect("json");
        assert_eq!(back, snapshot);
    }

    #[test]
    fn edges_between_two_operators_the_same_way_are_one_line_and_one_arrow() {
        let node = |node_type: &str| NodeRef {
            node_type: node_type.into(),
            node_id: node_type.into(),
        };
        let channel = |id: u32, rows: u64, received: u64| crate::insight::snapshot::EdgeSnapshot {
            from: node("scan"),
            to: node("filter"),
            via: EdgeVia::Channel,
            rows,
            bytes: 10,
            batches: 1,
            rows_received: Some(received),
            channel: Some(id),
        };
        let snapshot = Snapshot {
            operators: vec![
                operator("scan", "scan", None),
                operator("filter", "filter", None),
            ],
            // Three runs, a channel each; the last lost 5 rows.
            edges: vec![
                channel(1, 100, 100),
                channel(2, 100, 100),
                channel(3, 100, 95),
            ],
            ..Snapshot::default()
        };
        let report = Report::of(snapshot);
        let table = report.to_string();
        let edges: Vec<&str> = table
            .lines()
            .skip_while(|l| !l.starts_with("EDGES"))
            .collect();
        assert_eq!(
            edges,
            [
                "EDGES (producer → consumer)",
                "  scan scan → filter filter: 300 rows, 30 B in 3 batches (3 channels, 295 received)"
            ]
        );
        let dot = report.dot();
        assert_eq!(dot.matches(" -> ").count(), 1, "{dot}");
        assert!(
            dot.contains("300 rows, 30 B\\n3 batches\\n3 channels, 295 received"),
            "{dot}"
        );
    }

    #[test]
    fn a_deep_plan_keeps_every_name_whole_and_leaves_zero_metrics_out() {
        // A chain of 30 plan nodes, each feeding the one above: the deepest is indented
        // 58 columns before its name.
        let name = |position: usize| format!("HashJoinExec{position}");
        let node = |position: usize| NodeRef {
            node_type: name(position),
            node_id: position.to_string(),
        };
        let mut operators: Vec<OperatorSnapshot> = (0..30)
            .map(|position| operator(&name(position), &position.to_string(), None))
            .collect();
        operators[29].engine_metrics = [
            ("output_rows".to_owned(), EngineValue::Count(12)),
            ("spill_count".to_owned(), EngineValue::Count(0)),
            ("build_time".to_owned(), EngineValue::Time(Duration::ZERO)),
        ]
        .into();
        let edges = (1..30)
            .map(|position| crate::insight::snapshot::EdgeSnapshot {
                from: node(position),
                to: node(position - 1),
                via: EdgeVia::Plan,
                rows: 12,
                bytes: 96,
                batches: 1,
                rows_received: None,
                channel: None,
            })
            .collect();
        let table = Report::of(Snapshot {
            operators,
            edges,
            ..Snapshot::default()
        })
        .to_string();
        let deepest = table
            .lines()
            .find(|line| line.contains("HashJoinExec29"))
            .expect("the deepest node's row");
        assert!(deepest.contains("← HashJoinExec29 29 "), "{deepest}");
        assert!(!table.contains('…'), "{table}");
        // Every row's cells start in the same column.
        let header = table.lines().next().expect("the header");
        let calls_column = header.find("CALLS").expect("CALLS") + "CALLS".len();
        let row = table
            .lines()
            .find(|line| line.contains("HashJoinExec0 0"))
            .unwrap();
        assert_eq!(row.chars().nth(calls_column - 1), Some('0'), "{table}");
        assert!(table.contains("output_rows 12"), "{table}");
        assert!(
            !table.contains("spill_count") && !table.contains("build_time"),
            "{table}"
        );
    }

    #[test]
    fn calls_still_running_say_the_figures_are_not_final() {
        let mut scan = operator("scan", "orders", None);
        scan.calls.active = 2;
        scan.calls.completed = 1;
        let snapshot = Snapshot {
            operators: vec![scan, operator("sink", "totals", None)],
            ..Snapshot::default()
        };
        let table = Report::of(snapshot.clone()).to_string();
        assert!(
            table.contains("\nRUNNING 2 calls of 1 operator: the figures grow until they end\n"),
            "{table}"
        );
        let mut done = snapshot;
        done.operators[0].calls.active = 0;
        assert!(!Report::of(done).to_string().contains("RUNNING"));
    }

    #[test]
    fn json_round_trips_every_float_exactly() {
        let operators = (1..3000u64)
            .map(|i| OperatorSnapshot {
                rows: RowCounts {
                    selectivity: Some(i as f64 / 7.3),
                    per_busy_second: Some((i as f64).sqrt() * 1234.567),
                    ..RowCounts::default()
                },
                time: TimeSplit {
                    busy_share: 1.0 / (i as f64 + 0.1),
                    ..TimeSplit::default()
                },
                ..OperatorSnapshot::default()
            })
            .collect();
        let snapshot = Snapshot {
            operators,
            ..Snapshot::default()
        };
        let back: Snapshot =
            serde_json::from_str(&Report::of(snapshot.clone()).json()).expect("json");
        assert_eq!(back, snapshot);
    }

    #[test]
    fn an_empty_report_says_so() {
        assert_eq!(
            Report::of(Snapshot::default()).to_string(),
            "pipetel report: nothing was counted (is collection on?)\n"
        );
    }
}
