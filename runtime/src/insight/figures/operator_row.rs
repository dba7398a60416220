//! An operator's row as the report's table prints it: the columns, the cells and the
//! detail lines under the row (wait states, per-call distributions, skew, memory).

use std::fmt::Write as _;
use std::time::Duration;

use crate::insight::figures::units::{bytes, count, duration, percent, ratio};
use crate::insight::snapshot::{OperatorLogs, OperatorSnapshot, Snapshot};

/// The table's columns after the name. The last, `MEMORY` (live / peak), only for a
/// snapshot with memory measured ([`columns`]).
pub(crate) const HEADER: [&str; 11] = [
    "CALLS", "TIME", "SHARE", "ROWS IN", "ROWS OUT", "SEL", "ROWS/S", "READ", "WRITTEN", "FAILED",
    "MEMORY",
];

/// How many of [`HEADER`]'s columns a table of `snapshot` shows: `MEMORY` only when the
/// tracking allocator measured it.
pub(crate) fn columns(snapshot: &Snapshot) -> usize {
    if snapshot.unattributed_memory.is_some() {
        HEADER.len()
    } else {
        HEADER.len() - 1
    }
}

/// An operator's cells in the table, under [`HEADER`]: calls, time, share, rows in and
/// out, selectivity, rows per second, bytes read and written, failed calls, and the
/// memory it holds now / the most it held.
pub(crate) fn operator_cells(op: &OperatorSnapshot) -> [String; 11] {
    let dash = || "-".to_owned();
    [
        op.calls
            .completed
            .saturating_add(op.calls.failed)
            .to_string(),
        duration(op.time.busy),
        format!("{:.1}%", op.time.busy_share * 100.0),
        count(op.rows.input),
        count(op.rows.produced),
        op.rows.selectivity.map_or_else(dash, ratio),
        op.rows
            .per_busy_second
            .map_or_else(dash, |r| count(r.round() as u64)),
        if op.bytes.read > 0 {
            bytes(op.bytes.read)
        } else {
            dash()
        },
        if op.bytes.written > 0 {
            bytes(op.bytes.written)
        } else {
            dash()
        },
        op.calls.failed.to_string(),
        op.memory.map_or_else(dash, |memory| {
            format!("{} / {}", bytes(memory.live), bytes(memory.peak))
        }),
    ]
}

/// The lines under an operator's row: its wall time split into wait states (when it
/// waited), its per-call distributions, its skew across partitions and threads, and the
/// memory it allocated (when measured and it allocated), and per call.
pub(crate) fn detail_lines(op: &OperatorSnapshot) -> Vec<String> {
    let mut lines = Vec::new();
    if op.time.wall > op.time.busy {
        let share = |part: Duration| percent(part.as_secs_f64() / op.time.wall.as_secs_f64());
        lines.push(format!(
            "wall {}: busy {}, starved {}, blocked {}, queued {}",
            duration(op.time.wall),
            share(op.time.busy),
            share(op.time.starved),
            share(op.time.blocked),
            share(op.time.queued)
        ));
    }
    if let Some(busy) = &op.distributions.busy_per_call {
        let mut line = format!(
            "per call: p50 {}, p90 {}, p99 {}, max {}",
            duration(busy.p50),
            duration(busy.p90),
            duration(busy.p99),
            duration(busy.max)
        );
        if let Some(trace) = op
            .distributions
            .slowest_calls
            .first()
            .and_then(|s| s.trace_id.as_ref())
        {
            let _ = write!(line, " (slowest in trace {trace})");
        }
        if let Some(rows) = op
            .distributions
            .rows_per_call
            .as_ref()
            .filter(|rows| rows.max > 0)
        {
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
        (&op.skew.across_partitions, "partitions"),
        (&op.skew.across_threads, "threads"),
        (&op.skew.across_workers, "workers"),
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
        let line = format!(
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
        );
        lines.push(line);
        // Its own line, to keep within the table's width.
        if let Some(peak) = skew.memory_peak.as_ref().filter(|peak| peak.max > 0) {
            lines.push(format!(
                "{} {across}: memory peak {} / {} / {} (max {unit}{}){}",
                skew.count,
                bytes(peak.min),
                bytes(peak.median),
                bytes(peak.max),
                peak.max_at,
                percent(peak.skew),
            ));
        }
    }
    if let Some(memory) = op.memory.filter(|memory| memory.allocations > 0) {
        lines.push(format!(
            "memory: allocated {} in {} blocks, freed {}, retained {} after its last call that allocated",
            bytes(memory.allocated),
            count(memory.allocations),
            bytes(memory.freed),
            bytes(memory.retained),
        ));
    }
    // A line of its own, as time per call has: the table's width holds either line.
    if let Some(per_call) = op
        .distributions
        .allocated_per_call
        .as_ref()
        .filter(|per_call| per_call.max > 0)
    {
        lines.push(format!(
            "memory per call: p50 {}, p90 {}, p99 {}, max {}",
            bytes(per_call.p50),
            bytes(per_call.p90),
            bytes(per_call.p99),
            bytes(per_call.max)
        ));
    }
    if let Some(logs) = &op.logs {
        lines.push(log_line(logs));
    }
    lines
}

/// How many lines an operator logged, of which warnings and errors, and its latest: the
/// report's detail line, cut to fit the table's width.
fn log_line(logs: &OperatorLogs) -> String {
    /// Characters of the latest line the report shows.
    const LATEST_CHARS: usize = 60;
    let plural = |n: u64, one: &str| match n {
        1 => format!("1 {one}"),
        n => format!("{} {one}s", count(n)),
    };
    let mut line = format!("logs: {}", plural(logs.lines, "line"));
    if logs.warnings + logs.errors > 0 {
        let _ = write!(
            line,
            " ({}, {})",
            plural(logs.warnings, "warning"),
            plural(logs.errors, "error")
        );
    }
    if let Some(latest) = logs.latest.last() {
        let text: String = latest.text.chars().take(LATEST_CHARS).collect();
        let more = if latest.text.chars().nth(LATEST_CHARS).is_some() {
            "…"
        } else {
            ""
        };
        // A child's stream is worth saying; an event's target is its module's path.
        let stream = match latest.source.as_str() {
            stream @ ("stdout" | "stderr") => format!(" ({stream})"),
            _ => String::new(),
        };
        let _ = write!(line, "; latest{stream}: {text}{more}");
    }
    line
}
