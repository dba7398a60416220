//! [`chrome_trace`]: what the timeline's recorder holds (`crate::timeline`), as a file
//! in the Chrome trace event format, which Perfetto (<https://ui.perfetto.dev>) and
//! `chrome://tracing` open: a track per thread, a slice per operator segment, named by
//! its operator and carrying its `node.type`, `node.id` and rows, and a slice per wait
//! inside it (starved, blocked); and the runs and steps, as async slices (`"ph": "b"` /
//! `"e"`: a step may start on one thread and end on another), each on a track of its
//! own under the process.
//!
//! Slices are complete events (`"ph": "X"`) in microseconds from the earliest recorded
//! slice, whose time of day the file gives (`otherData.origin_unix_ns`). A segment's
//! slice holds the slices of the operators nested in it and of its waits: its own busy
//! time is its length less theirs, which is the busy time the report counts for it.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::counters::registry;
use crate::insight::figures::names::{display_name, names_of};
use crate::operator::clock::{ticks_to_nanos, wall_time_at};
use crate::timeline::{self, SliceKind, SpanKind, ThreadSlices, TIMELINE_SLICES_PER_THREAD};

/// The timeline recorded so far, in the Chrome trace event format (JSON).
///
/// Recorded only while a timeline is asked for: with
/// [`Config::record_timeline`](crate::Config::record_timeline), or `PIPETEL_REPORT` naming
/// a file `trace.json` or `*.trace.json` (written when telemetry stops). Without, the
/// file has no slices.
///
/// ```
/// let telemetry = pipetel::Config::new()
///     .collect_locally(true)
///     .record_timeline(true)
///     .init();
/// let scan = pipetel::Operator::new("scan", "chrome-trace-doc");
/// scan.iter(vec![vec![0u8; 5]]).for_each(drop);
///
/// let trace: serde_json::Value = serde_json::from_str(&pipetel::chrome_trace()).unwrap();
/// let slices = trace["traceEvents"].as_array().unwrap();
/// assert!(slices.iter().any(|event| event["name"] == "scan chrome-trace-doc"));
/// # drop(telemetry);
/// ```
pub fn chrome_trace() -> String {
    let (threads, let_go) = timeline::read();
    let (spans, spans_rolled_off) = timeline::spans();
    let names = operator_names(&threads);
    let origin = threads
        .iter()
        .filter_map(|thread| thread.slices.iter().map(|slice| slice.start).min())
        .chain(spans.iter().map(|span| span.start))
        .min()
        .unwrap_or(0);
    // Nanoseconds from the origin, and as the format's microseconds.
    let nanos = |tick: u64| ticks_to_nanos(tick.saturating_sub(origin));
    let micros = |nanos: u64| nanos as f64 / 1000.0;
    let pid = std::process::id();
    let mut events: Vec<Value> = vec![json!({
        "ph": "M", "name": "process_name", "pid": pid, "tid": 0,
        "args": { "name": format!("pipetel: process {pid}") },
    })];
    // Slices of threads whose rings made room for others', and those of each thread.
    let mut rolled_off = let_go;
    for thread in &threads {
        rolled_off += thread.rolled_off;
        events.push(json!({
            "ph": "M", "name": "thread_name", "pid": pid, "tid": thread.number,
            "args": { "name": thread.thread },
        }));
        let mut slices = thread.slices.clone();
        // Enclosing slices before the slices they hold: by start, the longer first.
        slices.sort_by_key(|slice| (slice.start, std::cmp::Reverse(slice.end)));
        if thread.rolled_off > 0 {
            events.push(json!({
                "ph": "i", "s": "t", "name": "earlier slices rolled off",
                "pid": pid, "tid": thread.number,
                "ts": slices.first().map_or(0.0, |slice| micros(nanos(slice.start))),
                "args": { "rolled_off": thread.rolled_off },
            }));
        }
        for slice in slices {
            let (name, node_type, node_id) = names
                .get(&slice.series)
                .cloned()
                .unwrap_or_else(|| (format!("series {}", slice.series), "", ""));
            let mut args = Map::new();
            args.insert("node.type".into(), node_type.into());
            args.insert("node.id".into(), node_id.into());
            if let Some(rows) = slice.rows {
                args.insert("rows".into(), rows.into());
            }
            let (name, category) = match slice.kind {
                SliceKind::Segment => (name, "operator"),
                SliceKind::Starved => ("starved".to_owned(), "wait"),
                SliceKind::Blocked => ("blocked".to_owned(), "wait"),
            };
            let (start, end) = (nanos(slice.start), nanos(slice.end));
            events.push(json!({
                "ph": "X", "name": name, "cat": category, "pid": pid, "tid": thread.number,
                "ts": micros(start),
                // Whole nanoseconds on both ends: a slice nested in another never ends
                // after it.
                "dur": micros(end.saturating_sub(start)),
                "args": args,
            }));
        }
    }
    for (number, span) in spans.iter().enumerate() {
        let (category, name) = match span.kind {
            SpanKind::Run => ("run", format!("run {}", span.name)),
            SpanKind::Step => ("step", format!("step {}", span.name)),
        };
        let id = format!("{category}-{}", number + 1);
        let args = json!({ "pipeline": span.pipeline, "failed": span.failed });
        events.push(json!({
            "ph": "b", "name": name, "cat": category, "id": id, "pid": pid, "tid": 0,
            "ts": micros(nanos(span.start)), "args": args,
        }));
        events.push(json!({
            "ph": "e", "name": name, "cat": category, "id": id, "pid": pid, "tid": 0,
            "ts": micros(nanos(span.end.max(span.start))),
        }));
    }
    let origin_unix_ns = wall_time_at(origin)
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64);
    let file = TraceFile {
        trace_events: events,
        display_time_unit: "ms",
        other_data: json!({
            "producer": "pipetel",
            "origin_unix_ns": origin_unix_ns,
            "slices_rolled_off": rolled_off,
            "slices_per_thread": TIMELINE_SLICES_PER_THREAD,
            "runs_and_steps_rolled_off": spans_rolled_off,
        }),
    };
    serde_json::to_string(&file).unwrap_or_default()
}

/// The JSON object form of the Chrome trace event format.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TraceFile {
    trace_events: Vec<Value>,
    display_time_unit: &'static str,
    other_data: Value,
}

/// Each recorded series' slice name (the name the report gives its operator),
/// `node.type` and `node.id`: a run's lane series as the operator it counts for.
fn operator_names(threads: &[ThreadSlices]) -> HashMap<u32, (String, &'static str, &'static str)> {
    let mut labelled = HashMap::new();
    registry::with_labels(|labels| {
        for slice in threads.iter().flat_map(|thread| &thread.slices) {
            let canonical = labels
                .get(slice.series as usize)
                .and_then(|series| labels.get(series.canonical as usize));
            if let Some(labels) = canonical {
                labelled.insert(slice.series, (labels.node_type, labels.node_id));
            }
        }
    });
    let mut keys: Vec<(String, String)> = labelled
        .values()
        .map(|&(node_type, node_id)| (node_type.to_owned(), node_id.to_owned()))
        .collect();
    keys.sort();
    keys.dedup();
    let shown = names_of(keys);
    labelled
        .into_iter()
        .map(|(series, (node_type, node_id))| {
            let name = display_name(&shown, node_type, node_id);
            (series, (name, node_type, node_id))
        })
        .collect()
}
