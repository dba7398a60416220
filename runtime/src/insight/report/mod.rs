//! The post-run analysis: an EXPLAIN ANALYZE-style table of every run, step and operator
//! (operators nested under the step they ran in), in human units, and the same data as
//! JSON. On demand with [`report`], and at shutdown when `PIPETEL_REPORT` is set.

use std::fmt::{self, Write as _};
use std::time::Duration;

pub(crate) mod target;
pub(crate) mod units;

use crate::insight::snapshot::{snapshot, OperatorSnapshot, Snapshot, StepSnapshot};
use crate::operator::engine_metrics::EngineValue;

pub(crate) use units::{bytes, count, duration};

/// The report of everything counted so far: `Display` gives the table, [`json`](Self::json)
/// the same data as JSON, [`snapshot`](Self::snapshot) the data itself.
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
/// let back: pipetel::Snapshot = serde_json::from_str(&report.json()).unwrap();
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
}

const HEADER: [&str; 10] = [
    "CALLS", "TIME", "SHARE", "ROWS IN", "ROWS OUT", "SEL", "ROWS/S", "READ", "WRITTEN", "FAILED",
];
const NAME_WIDTH: usize = 52;
const WIDTHS: [usize; 10] = [7, 10, 7, 9, 9, 6, 9, 10, 10, 7];

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let snapshot = &self.0;
        if snapshot.operators.is_empty() && snapshot.steps.is_empty() && snapshot.runs.is_empty() {
            return writeln!(f, "pipetel report: nothing was counted (is collection on?)");
        }
        let mut table = Table::default();
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
        let loose = in_plan_order(snapshot.operators.iter().filter(|op| op.step.is_none()));
        if !loose.is_empty() {
            table.row(0, "operators outside any step", Default::default());
            for op in loose {
                table.operator(1, op);
            }
        }
        write!(f, "{}", table.0)
    }
}

#[derive(Default)]
struct Table(String);

impl Table {
    fn row(&mut self, depth: usize, name: &str, cells: [String; 10]) {
        if self.0.is_empty() {
            let _ = write!(self.0, "{:<NAME_WIDTH$}", "RUN / STEP / OPERATOR");
            for (title, width) in HEADER.iter().zip(WIDTHS) {
                let _ = write!(self.0, "{title:>width$}");
            }
            self.0.push('\n');
        }
        let mut name = format!("{}{name}", "  ".repeat(depth));
        if name.chars().count() > NAME_WIDTH - 1 {
            name = name.chars().take(NAME_WIDTH - 2).collect::<String>() + "…";
        }
        let _ = write!(self.0, "{name:<NAME_WIDTH$}");
        for (cell, width) in cells.iter().zip(WIDTHS) {
            let _ = write!(self.0, "{cell:>width$}");
        }
        let trimmed = self.0.trim_end().len();
        self.0.truncate(trimmed);
        self.0.push('\n');
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
        for op in operators {
            self.operator(depth + 1, op);
        }
    }

    fn operator(&mut self, depth: usize, op: &OperatorSnapshot) {
        let dash = || "-".to_owned();
        self.row(
            depth,
            &format!("{} {}", op.node_type, op.node_id),
            [
                op.tasks_completed
                    .saturating_add(op.tasks_failed)
                    .to_string(),
                duration(op.busy),
                format!("{:.1}%", op.busy_share * 100.0),
                count(op.rows_in),
                count(op.rows_out),
                op.selectivity.map_or_else(dash, |s| format!("{s:.2}")),
                op.rows_per_second
                    .map_or_else(dash, |r| count(r.round() as u64)),
                if op.bytes_read > 0 {
                    bytes(op.bytes_read)
                } else {
                    dash()
                },
                if op.bytes_written > 0 {
                    bytes(op.bytes_written)
                } else {
                    dash()
                },
                op.tasks_failed.to_string(),
            ],
        );
        self.engine_metrics(depth + 1, op);
    }

    /// The engine's own metrics of an operator, under its row: `name value` pairs,
    /// wrapped to the table's width.
    fn engine_metrics(&mut self, depth: usize, op: &OperatorSnapshot) {
        let indent = format!("{}· ", "  ".repeat(depth));
        let width = NAME_WIDTH + WIDTHS.iter().sum::<usize>();
        let mut line = indent.clone();
        for (name, value) in &op.engine_metrics {
            let pair = format!("{name} {}", engine_value(*value));
            if line.len() > indent.len() && line.len() + pair.len() + 2 > width {
                self.0.push_str(line.trim_end_matches([',', ' ']));
                self.0.push('\n');
                line = indent.clone();
            }
            line.push_str(&pair);
            line.push_str(", ");
        }
        if line.len() > indent.len() {
            self.0.push_str(line.trim_end_matches([',', ' ']));
            self.0.push('\n');
        }
    }
}

/// An engine metric's value in human units.
fn engine_value(value: EngineValue) -> String {
    match value {
        EngineValue::Count(n) | EngineValue::Gauge(n) => count(n),
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
fn summary(calls: String, time: Duration, rows: u64, failed: u64) -> [String; 10] {
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
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::snapshot::RunSnapshot;

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
        scan.rows_out = 1_250_000;
        scan.bytes_read = 36_175_872;
        scan.busy = Duration::from_millis(750);
        scan.tasks_completed = 153;
        let mut filter = operator("filter", "quickstart::filter", Some("extract"));
        filter.rows_in = 1_250_000;
        filter.rows_out = 625_000;
        filter.busy = Duration::from_millis(250);
        filter.tasks_completed = 152;
        filter.tasks_failed = 1;
        let mut sink = operator("sink", "7", None);
        sink.rows_in = 4;
        sink.rows_written = 4;
        sink.bytes_written = 71;
        sink.tasks_completed = 1;
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
        crate::insight::snapshot::derive_rates(&mut snapshot.operators);
        let expected = "\
RUN / STEP / OPERATOR                                 CALLS      TIME  SHARE  ROWS IN ROWS OUT   SEL   ROWS/S      READ   WRITTEN FAILED
run orders                                                1    1.10 s                  625.0 K                                         0
  step extract                                            1    1.02 s                  625.0 K                                         0
    scan orders.csv                                     153  750.0 ms  75.0%        0    1.2 M     -    1.7 M  34.5 MiB         -      0
    filter quickstart::filter                           153  250.0 ms  25.0%    1.2 M  625.0 K  0.50    5.0 M         -         -      1
step cleanup                                              2   12.3 ms                        0                                         1
operators outside any step
  sink 7                                                  1      0 ns   0.0%        4        0  0.00        -         -      71 B      0
";
        assert_eq!(Report::of(snapshot.clone()).to_string(), expected);
        let json = Report::of(snapshot.clone()).json();
        let back: Snapshot = serde_json::from_str(&json).expect("json");
        assert_eq!(back, snapshot);
    }

    #[test]
    fn json_round_trips_every_float_exactly() {
        let operators = (1..3000u64)
            .map(|i| OperatorSnapshot {
                selectivity: Some(i as f64 / 7.3),
                rows_per_second: Some((i as f64).sqrt() * 1234.567),
                busy_share: 1.0 / (i as f64 + 0.1),
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
