//! [`chrome_trace`]: what the timeline's recorder holds (`crate::timeline`), as a file
//! in the Chrome trace event format, which Perfetto (<https://ui.perfetto.dev>) and
//! `chrome://tracing` open: a track per thread, a slice per operator segment, named by
//! its operator and carrying its `node.type`, `node.id` and rows, and a slice per wait
//! inside it (starved, blocked); and the runs and steps, as async slices (`"ph": "b"` /
//! `"e"`: a step may start on one thread and end on another), each on a track of its
//! own under the process; each batch handed through a pipetel channel as a flow arrow
//! from the operator that sent it to the one that took it; each gap of an async or
//! streaming task between its segments (starved, blocked, queued) as an async slice on
//! the task's track (its thread ran other work meanwhile); and the process's memory and
//! how far its work got as counter tracks (`"ph": "C"`).
//!
//! [`merge::merge_chrome_traces`] makes one file of several processes' (a job's, in its
//! snapshot directory).
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
use crate::insight::this_process;
use crate::operator::clock::{ticks_to_nanos, wall_time_at};
use crate::timeline::{
    self, Sample, SliceKind, SpanKind, ThreadSlices, TIMELINE_SAMPLES, TIMELINE_SAMPLE_INTERVAL,
    TIMELINE_SLICES_PER_THREAD,
};

pub(crate) mod merge;

/// The timeline recorded so far, in the Chrome trace event format (JSON).
///
/// Recorded only while a timeline is asked for: with
/// [`Config::record_timeline`](crate::Config::record_timeline), or `PIPETEL_REPORT` naming
/// a file `trace.json` or `*.trace.json` (written when telemetry stops). Without, the
/// file has no slices. A process that writes into `PIPETEL_SNAPSHOT_DIR` also leaves its
/// timeline there as telemetry stops, for [`merge_chrome_traces`](crate::merge_chrome_traces)
/// to make one file of a job's.
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
    let (samples, samples_rolled_off) = timeline::samples();
    let names = operator_names(&threads);
    let origin = threads
        .iter()
        .filter_map(|thread| thread.slices.iter().map(|slice| slice.start).min())
        .chain(spans.iter().map(|span| span.start))
        .chain(samples.iter().map(|sample| sample.tick))
        .min()
        .unwrap_or(0);
    // Nanoseconds from the origin, and as the format's microseconds.
    let nanos = |tick: u64| ticks_to_nanos(tick.saturating_sub(origin));
    let micros = |nanos: u64| nanos as f64 / 1000.0;
    let pid = std::process::id();
    let instance = this_process::instance();
    let process = if instance.is_empty() {
        format!("pipetel: process {pid}")
    } else {
        format!("pipetel: {instance}")
    };
    let mut events: Vec<Value> = vec![json!({
        "ph": "M", "name": "process_name", "pid": pid, "tid": 0,
        "args": { "name": process },
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
            if let SliceKind::Handover { .. } = slice.kind {
                continue;
            }
            let (operator, node_type, node_id) = names
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
                SliceKind::Segment => (operator, "operator"),
                SliceKind::Starved => ("starved".to_owned(), "wait"),
                SliceKind::Blocked => ("blocked".to_owned(), "wait"),
                SliceKind::Handover { .. } => continue,
                SliceKind::TaskGap { task, wait } => {
                    // On the task's track: Perfetto names the track by the slice, one
                    // per operator and wait state.
                    let name = format!("{operator} {}", wait.name());
                    let id = format!("task-{task}");
                    let (start, end) = (nanos(slice.start), nanos(slice.end));
                    events.push(json!({
                        "ph": "b", "name": name, "cat": "task", "id": id, "pid": pid,
                        "tid": thread.number, "ts": micros(start), "args": args,
                    }));
                    events.push(json!({
                        "ph": "e", "name": name, "cat": "task", "id": id, "pid": pid,
                        "tid": thread.number, "ts": micros(end.max(start)),
                    }));
                    continue;
                }
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
    events.extend(flows(&threads, pid, &|tick| micros(nanos(tick))));
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
    events.extend(counters(&samples, pid, &|tick| micros(nanos(tick))));
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
            "samples_rolled_off": samples_rolled_off,
            "samples_kept": TIMELINE_SAMPLES,
            "sample_interval_ms": TIMELINE_SAMPLE_INTERVAL.as_millis() as u64,
        }),
    };
    serde_json::to_string(&file).unwrap_or_default()
}

/// The hand-overs of batches through pipetel channels as flow arrows, from the slice of
/// the operator that sent a batch to the slice of the one that took it: a flow start
/// (`"s"`) inside the sender's slice (a send made after the segment that made the batch
/// ended is placed at that segment's end), a flow end (`"f"`) inside the receiver's
/// slice, or, for a batch received outside any operator, bound to the next slice on its
/// thread — the operator it is handed to. Only batches both sent and received while
/// recording have an arrow. `micros`: ticks as the file's microseconds.
fn flows(threads: &[ThreadSlices], pid: u32, micros: &dyn Fn(u64) -> f64) -> Vec<Value> {
    // (channel, number) → where the batch was sent, and where received.
    let mut ends: HashMap<(u32, u64), [Option<FlowEnd>; 2]> = HashMap::new();
    for thread in threads {
        // A thread's ring is in the order its slices ended (a hand-over's is its time):
        // each operator's latest segment ended so far, by series, in one pass.
        let mut latest_end: HashMap<u32, u64> = HashMap::new();
        for slice in &thread.slices {
            let SliceKind::Handover {
                channel,
                number,
                out,
                inside,
            } = slice.kind
            else {
                if slice.kind == SliceKind::Segment && slice.start < slice.end {
                    latest_end.insert(slice.series, slice.end);
                }
                continue;
            };
            let ts = if out && !inside {
                // Inside the latest segment of the sending operator that ended by then,
                // a nanosecond before its end.
                let Some(&made) = latest_end.get(&slice.series) else {
                    continue;
                };
                micros(made) - 0.001
            } else {
                micros(slice.start)
            };
            ends.entry((channel, number)).or_default()[usize::from(!out)] = Some(FlowEnd {
                thread: thread.number,
                ts,
                enclosing: inside,
            });
        }
    }
    let mut pairs: Vec<((u32, u64), FlowEnd, FlowEnd)> = ends
        .into_iter()
        .filter_map(|(key, [sent, received])| Some((key, sent?, received?)))
        .collect();
    pairs.sort_by_key(|&(key, _, _)| key);
    let mut events = Vec::with_capacity(2 * pairs.len());
    for ((channel, number), sent, received) in pairs {
        let id = format!("channel-{channel}-{number}");
        events.push(json!({
            "ph": "s", "name": "batch", "cat": "channel", "id": id, "pid": pid,
            "tid": sent.thread, "ts": sent.ts,
        }));
        let mut end = json!({
            "ph": "f", "name": "batch", "cat": "channel", "id": id, "pid": pid,
            "tid": received.thread, "ts": received.ts,
        });
        if received.enclosing {
            // Bound to the slice it happened in; otherwise to the next slice on the
            // thread, the operator the batch is handed to.
            end["bp"] = "e".into();
        }
        events.push(end);
    }
    events
}

/// The samples as two counter tracks: `memory` (resident bytes, and the tracking
/// allocator's live bytes when it counts) and `progress` (percent done), each value
/// where it was read. `micros`: ticks as the file's microseconds.
fn counters(samples: &[Sample], pid: u32, micros: &dyn Fn(u64) -> f64) -> Vec<Value> {
    let mut events = Vec::new();
    for sample in samples {
        let ts = micros(sample.tick);
        let mut memory = Map::new();
        if let Some(resident) = sample.resident {
            memory.insert("resident bytes".into(), resident.into());
        }
        if let Some(allocated) = sample.allocated {
            memory.insert("allocated bytes".into(), allocated.into());
        }
        if !memory.is_empty() {
            events.push(json!({
                "ph": "C", "name": "memory", "pid": pid, "tid": 0, "ts": ts, "args": memory,
            }));
        }
        if let Some(done) = sample.done {
            // To a tenth of a percent: the estimate is no finer.
            let percent = (done * 1000.0).round() / 10.0;
            events.push(json!({
                "ph": "C", "name": "progress", "pid": pid, "tid": 0, "ts": ts,
                "args": { "done %": percent },
            }));
        }
    }
    events
}

/// One end of a flow arrow: its thread, its time, and whether it binds to the slice
/// enclosing it (rather than the next one).
#[derive(Debug, Clone, Copy)]
struct FlowEnd {
    thread: u32,
    ts: f64,
    enclosing: bool,
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
