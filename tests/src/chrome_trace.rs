//! A file in the Chrome trace event format (what `pipetel::chrome_trace` writes), checked
//! against the format: every event well-formed, the complete events (`"ph": "X"`) of each
//! thread nested, none ending after the slice that holds it, every async slice begun
//! (`"b"`) ended once (`"e"`) no earlier, every flow arrow started (`"s"`) inside an
//! operator's slice and finished (`"f"`) once, inside or before one, every counter
//! (`"C"`) a number of at least zero; and each operator's own time read from the slices'
//! geometry alone (a segment's length less the slices it holds).

use std::collections::BTreeMap;

use serde_json::Value;

/// What a checked trace holds.
#[derive(Debug, Default)]
pub struct CheckedTrace {
    /// By (`node.type`, `node.id`): the operator's own time in its segments, in
    /// nanoseconds — each segment slice's length less the slices directly inside it.
    pub own_ns: BTreeMap<(String, String), f64>,
    /// By (`node.type`, `node.id`): how many segment slices it has.
    pub segments: BTreeMap<(String, String), usize>,
    /// Wait slices by name (`starved`, `blocked`).
    pub waits: BTreeMap<String, usize>,
    /// The threads named by `thread_name` metadata, by (pid, track number).
    pub threads: BTreeMap<(u64, u64), String>,
    /// `otherData.slices_rolled_off`.
    pub rolled_off: u64,
    /// Every operator slice: ((pid, thread), start, end in microseconds, `node.type`).
    pub slices: Vec<((u64, u64), f64, f64, String)>,
    /// The async slices of runs and steps: (category, name, start, end in
    /// microseconds).
    pub spans: Vec<(String, String, f64, f64)>,
    /// The gaps of async and streaming tasks: (task id, name — the operator and the wait
    /// state —, start, end in microseconds).
    pub task_gaps: Vec<(String, String, f64, f64)>,
    /// The counter tracks by name, then by value: (time in microseconds, value).
    pub counters: BTreeMap<(String, String), Vec<(f64, f64)>>,
    /// The processes named by `process_name` metadata, by pid.
    pub processes: BTreeMap<u64, String>,
    /// The flow arrows: the `node.type` of the slice each starts in, and of the one it
    /// ends in (or, bound to the next slice, the next one's).
    pub flows: Vec<(String, String)>,
}

/// The slack for times rounded to the nanosecond in microseconds: a slice may seem to
/// end this much after the one holding it.
const ROUNDING_US: f64 = 0.002;

/// A slice not yet closed, while its thread's slices are read in order.
struct Open {
    end: f64,
    /// Its operator; none for a wait.
    operator: Option<(String, String)>,
    /// Its length less the slices found inside it so far, in microseconds.
    own: f64,
}

/// Closes the innermost open slice: its own time goes to its operator.
fn close(open: &mut Vec<Open>, checked: &mut CheckedTrace) {
    let Some(closed) = open.pop() else { return };
    if let Some(operator) = closed.operator {
        *checked.own_ns.entry(operator.clone()).or_default() += closed.own * 1000.0;
        *checked.segments.entry(operator).or_default() += 1;
    }
}

/// The text field `field` of `event`; panics naming both when it has none.
fn text<'a>(event: &'a Value, field: &str) -> &'a str {
    event[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field}: {event}"))
}

/// The number field `field` of `event`; panics naming both when it has none.
fn number(event: &Value, field: &str) -> f64 {
    event[field]
        .as_f64()
        .unwrap_or_else(|| panic!("no {field}: {event}"))
}

/// Checks `trace` against the format and reads it; panics naming the event at fault.
pub fn check(trace: &str) -> CheckedTrace {
    let file: Value = serde_json::from_str(trace).expect("the trace is JSON");
    let events = file["traceEvents"].as_array().expect("a traceEvents array");
    assert_eq!(file["displayTimeUnit"], "ms", "displayTimeUnit");
    let mut checked = CheckedTrace {
        rolled_off: file["otherData"]["slices_rolled_off"]
            .as_u64()
            .expect("otherData.slices_rolled_off"),
        ..CheckedTrace::default()
    };
    // By thread: (start, end, operator or none for a wait).
    type Slice = (f64, f64, Option<(String, String)>);
    let mut by_thread: BTreeMap<(u64, u64), Vec<Slice>> = BTreeMap::new();
    // Async slices begun and not yet ended, by (category, id): (name, start).
    let mut begun: BTreeMap<(String, String), (String, f64)> = BTreeMap::new();
    // Flow arrows by id: where each started (thread, ts) and ended (thread, ts, enclosing).
    let mut started: BTreeMap<String, ((u64, u64), f64)> = BTreeMap::new();
    let mut finished: BTreeMap<String, ((u64, u64), f64, bool)> = BTreeMap::new();
    for event in events {
        let phase = text(event, "ph");
        let tid = event["tid"]
            .as_u64()
            .unwrap_or_else(|| panic!("no tid: {event}"));
        let pid = event["pid"]
            .as_u64()
            .unwrap_or_else(|| panic!("no pid: {event}"));
        // A thread's track: its number is its process's.
        let tid = (pid, tid);
        let name = text(event, "name");
        match phase {
            "M" => {
                let named = event["args"]["name"]
                    .as_str()
                    .unwrap_or_else(|| panic!("metadata without args.name: {event}"));
                assert!(["process_name", "thread_name"].contains(&name), "{event}");
                if name == "thread_name" {
                    checked.threads.insert(tid, named.to_owned());
                } else {
                    checked.processes.insert(pid, named.to_owned());
                }
            }
            "i" => {
                assert!(event["ts"].as_f64().is_some_and(|ts| ts >= 0.0), "{event}");
            }
            "s" | "f" => {
                let ts = number(event, "ts");
                let id = text(event, "id");
                assert_eq!(event["cat"], "channel", "{event}");
                let twice = if phase == "s" {
                    started.insert(id.to_owned(), (tid, ts)).is_some()
                } else {
                    let enclosing = event["bp"] == "e";
                    finished
                        .insert(id.to_owned(), (tid, ts, enclosing))
                        .is_some()
                };
                assert!(!twice, "a flow {phase} twice: {event}");
            }
            "b" | "e" => {
                let ts = number(event, "ts");
                let category = text(event, "cat");
                let id = text(event, "id");
                let key = (category.to_owned(), id.to_owned());
                if phase == "b" {
                    let earlier = begun.insert(key, (name.to_owned(), ts));
                    assert!(earlier.is_none(), "begun twice: {event}");
                } else {
                    let (begun_name, start) = begun
                        .remove(&key)
                        .unwrap_or_else(|| panic!("ended, never begun: {event}"));
                    assert_eq!(begun_name, name, "{event}");
                    assert!(ts >= start, "ends before it begins: {event}");
                    match category {
                        "run" | "step" => {
                            checked
                                .spans
                                .push((category.to_owned(), name.to_owned(), start, ts))
                        }
                        "task" => {
                            checked
                                .task_gaps
                                .push((id.to_owned(), name.to_owned(), start, ts))
                        }
                        other => panic!("an async slice of category {other:?}: {event}"),
                    }
                }
            }
            "C" => {
                let ts = number(event, "ts");
                assert!(ts >= 0.0, "{event}");
                let values = event["args"]
                    .as_object()
                    .unwrap_or_else(|| panic!("a counter without args: {event}"));
                assert!(!values.is_empty(), "a counter without values: {event}");
                for (key, value) in values {
                    let value = value
                        .as_f64()
                        .filter(|value| *value >= 0.0)
                        .unwrap_or_else(|| panic!("a counter value not a number ≥ 0: {event}"));
                    checked
                        .counters
                        .entry((name.to_owned(), key.clone()))
                        .or_default()
                        .push((ts, value));
                }
            }
            "X" => {
                let ts = number(event, "ts");
                let dur = number(event, "dur");
                assert!(ts >= 0.0 && dur >= 0.0, "negative time: {event}");
                let node_type = event["args"]["node.type"].as_str();
                let node_id = event["args"]["node.id"].as_str();
                let (Some(node_type), Some(node_id)) = (node_type, node_id) else {
                    panic!("a slice without node.type and node.id: {event}");
                };
                let operator = match event["cat"].as_str() {
                    Some("operator") => {
                        // The report's name of the operator: its type, and its id or the
                        // end of it.
                        assert!(name.starts_with(node_type), "{event}");
                        Some((node_type.to_owned(), node_id.to_owned()))
                    }
                    Some("wait") => {
                        assert!(["starved", "blocked"].contains(&name), "{event}");
                        *checked.waits.entry(name.to_owned()).or_default() += 1;
                        None
                    }
                    other => panic!("a slice of category {other:?}: {event}"),
                };
                if let Some((node_type, _)) = &operator {
                    checked.slices.push((tid, ts, ts + dur, node_type.clone()));
                }
                by_thread
                    .entry(tid)
                    .or_default()
                    .push((ts, ts + dur, operator));
            }
            other => panic!("an event of phase {other:?}: {event}"),
        }
    }
    assert!(begun.is_empty(), "begun, never ended: {begun:?}");
    assert_eq!(
        started.keys().collect::<Vec<_>>(),
        finished.keys().collect::<Vec<_>>(),
        "every flow started and finished"
    );
    // The operator slice holding `ts` on `tid` (the innermost), or the next to start.
    let holding = |tid: (u64, u64), ts: f64| -> Option<String> {
        checked
            .slices
            .iter()
            .filter(|(at, start, end, _)| *at == tid && *start <= ts && ts <= *end)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|slice| slice.3.clone())
    };
    let next = |tid: (u64, u64), ts: f64| -> Option<String> {
        checked
            .slices
            .iter()
            .filter(|(at, start, _, _)| *at == tid && *start >= ts)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|slice| slice.3.clone())
    };
    let mut flows = Vec::new();
    for (id, &(from_tid, from_ts)) in &started {
        let from = holding(from_tid, from_ts)
            .unwrap_or_else(|| panic!("flow {id} starts in no operator slice"));
        let (to_tid, to_ts, enclosing) = finished[id];
        let to = if enclosing {
            holding(to_tid, to_ts)
        } else {
            next(to_tid, to_ts)
        }
        .unwrap_or_else(|| panic!("flow {id} ends at no operator slice"));
        flows.push((from, to));
    }
    checked.flows = flows;
    for (tid, mut slices) in by_thread {
        assert!(
            checked.threads.contains_key(&tid),
            "thread {tid:?} has slices and no name"
        );
        slices.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        // The open slices, outermost first.
        let mut open: Vec<Open> = Vec::new();
        for (start, end, operator) in slices {
            while open
                .last()
                .is_some_and(|holding| start >= holding.end - ROUNDING_US)
            {
                close(&mut open, &mut checked);
            }
            if let Some(holding) = open.last_mut() {
                assert!(
                    end <= holding.end + ROUNDING_US,
                    "thread {tid:?}: a slice {start}–{end} µs crosses the end of the slice \
                     holding it ({} µs)",
                    holding.end
                );
                holding.own -= end - start;
            }
            open.push(Open {
                end,
                operator,
                own: end - start,
            });
        }
        while !open.is_empty() {
            close(&mut open, &mut checked);
        }
    }
    checked
}
