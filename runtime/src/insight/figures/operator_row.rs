//! An operator's row as the report's table prints it: the columns, the cells and the
//! detail lines under the row (wait states, per-call distributions, skew).

use std::fmt::Write as _;
use std::time::Duration;

use crate::insight::figures::units::{bytes, count, duration, percent, ratio};
use crate::insight::snapshot::OperatorSnapshot;

/// The table's columns after the name.
pub(crate) const HEADER: [&str; 10] = [
    "CALLS", "TIME", "SHARE", "ROWS IN", "ROWS OUT", "SEL", "ROWS/S", "READ", "WRITTEN", "FAILED",
];

/// An operator's cells in the table, under [`HEADER`]: calls, time, share, rows in and
/// out, selectivity, rows per second, bytes read and written, failed calls.
pub(crate) fn operator_cells(op: &OperatorSnapshot) -> [String; 10] {
    let dash = || "-".to_owned();
    [
        op.tasks_completed
            .saturating_add(op.tasks_failed)
            .to_string(),
        duration(op.busy),
        format!("{:.1}%", op.busy_share * 100.0),
        count(op.input_rows),
        count(op.rows_out),
        op.selectivity.map_or_else(dash, ratio),
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
    ]
}

/// The lines under an operator's row: its wall time split into wait states (when it
/// waited), its per-call distributions, and its skew across partitions and threads.
pub(crate) fn detail_lines(op: &OperatorSnapshot) -> Vec<String> {
    let mut lines = Vec::new();
    if op.wall > op.busy {
        let share = |part: Duration| percent(part.as_secs_f64() / op.wall.as_secs_f64());
        lines.push(format!(
            "wall {}: busy {}, starved {}, blocked {}, queued {}",
            duration(op.wall),
            share(op.busy),
            share(op.starved),
            share(op.blocked),
            share(op.queued)
        ));
    }
    if let Some(busy) = &op.busy_per_call {
        let mut line = format!(
            "per call: p50 {}, p90 {}, p99 {}, max {}",
            duration(busy.p50),
            duration(busy.p90),
            duration(busy.p99),
            duration(busy.max)
        );
        if let Some(trace) = op.slowest_calls.first().and_then(|s| s.trace_id.as_ref()) {
            let _ = write!(line, " (slowest in trace {trace})");
        }
        if let Some(rows) = op.rows_per_call.as_ref().filter(|rows| rows.max > 0) {
            let _ = write!(
                line,
                "; rows p50 {}, p99 {}, max {}",
                count(rows.p50),
                count(rows.p99),
                count(rows.max)
            );
        }
        lines.push(line);
    }
    for (skew, across) in [
        (&op.partition_skew, "partitions"),
        (&op.thread_skew, "threads"),
    ] {
        let Some(skew) = skew else {
            continue;
        };
        let percent = |score: Option<f64>| {
            score.map_or_else(String::new, |s| format!(", skew {:.0}%", s * 100.0))
        };
        let unit = if across == "partitions" {
            "partition "
        } else {
            ""
        };
        let time = |ns: u64| duration(Duration::from_nanos(ns));
        lines.push(format!(
            "{} {across}: rows {} / {} / {} (max {unit}{}){}; busy {} / {} / {} (max {unit}{}){}",
            skew.count,
            count(skew.rows.min),
            count(skew.rows.median),
            count(skew.rows.max),
            skew.rows.max_at,
            percent(skew.rows.skew),
            time(skew.busy_ns.min),
            time(skew.busy_ns.median),
            time(skew.busy_ns.max),
            skew.busy_ns.max_at,
            percent(skew.busy_ns.skew),
        ));
    }
    lines
}
