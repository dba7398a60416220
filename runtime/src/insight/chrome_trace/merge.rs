//! [`merge_chrome_traces`]: the timelines of a job's processes (each written by
//! [`chrome_trace`](crate::chrome_trace), as a process with a snapshot directory writes
//! its own there as it stops) as one file: a process track each, their clocks aligned on
//! the time of day each file starts at, and their ids kept apart.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::{json, Value};

use crate::insight::snapshot_dir::read::{files_named, ReadError, ReadProblem, TIMELINE_SUFFIX};

/// The timelines in `paths` — Chrome trace files written by
/// [`chrome_trace`](crate::chrome_trace), and directories holding them as `*.trace.json`
/// (a snapshot directory, where each process that records a timeline writes its own as
/// its telemetry stops) — as one file in the same format: each process on tracks of its
/// own (its pid, or another where two processes had the same), every time shifted to
/// the earliest file's origin by the time of day each starts at
/// (`otherData.origin_unix_ns`), so that what ran at once across processes lines up as
/// far as their hosts' clocks agree; what rolled off, summed. A file this function wrote
/// merges as its processes, and a process given twice (its file, and a merge holding it)
/// counts once.
///
/// ```
/// let telemetry = pipetel::Config::new()
///     .collect_locally(true)
///     .record_timeline(true)
///     .init();
/// pipetel::Operator::new("scan", "merge-doc").iter(vec![vec![0u8; 4]]).for_each(drop);
/// let dir = std::env::temp_dir().join(format!("pipetel-merge-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let timeline = pipetel::chrome_trace();
/// std::fs::write(dir.join("a.trace.json"), &timeline).unwrap();
/// // The same process's timeline again, under another name: it counts once.
/// std::fs::write(dir.join("b.trace.json"), &timeline).unwrap();
///
/// let merged: serde_json::Value =
///     serde_json::from_str(&pipetel::merge_chrome_traces([&dir]).unwrap()).unwrap();
/// let processes = merged["traceEvents"]
///     .as_array()
///     .unwrap()
///     .iter()
///     .filter(|event| event["name"] == "process_name")
///     .count();
/// assert_eq!(processes, 1);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # drop(telemetry);
/// ```
pub fn merge_chrome_traces<P: AsRef<Path>>(
    paths: impl IntoIterator<Item = P>,
) -> Result<String, ReadError> {
    let mut traces = Vec::new();
    for path in paths {
        for file in files_named(path.as_ref(), |name| name.ends_with(TIMELINE_SUFFIX))? {
            let error = |problem| ReadError {
                path: file.clone(),
                problem,
            };
            let text = std::fs::read_to_string(&file).map_err(|e| error(ReadProblem::Io(e)))?;
            let trace = Trace::read(&text).map_err(|why| error(ReadProblem::Timeline(why)))?;
            traces.push(trace);
        }
    }
    // The earliest start among the files with something on them: a file of a process
    // that recorded nothing has no origin of its own.
    let origin = traces
        .iter()
        .filter(|trace| trace.recorded)
        .map(|trace| trace.origin_unix_ns)
        .min()
        .unwrap_or(0);
    let mut events = Vec::new();
    // Each process once, by its pid and the time of day its file starts at: the same
    // process given twice, or in a file and in an earlier merge of it, is kept once.
    let mut seen: HashMap<(u64, u64), u64> = HashMap::new();
    let mut pids_taken = HashSet::new();
    let mut processes = Vec::new();
    let mut rolled_off = [0u64; 3];
    for (index, trace) in traces.into_iter().enumerate() {
        let shift_us = trace.origin_unix_ns.saturating_sub(origin) as f64 / 1000.0;
        // This file's processes (a merge's list, or the one it is of) and, for each of
        // its pids, the pid it has in the merged file — none for one already there.
        let own = match trace.other["processes"].as_array() {
            Some(list) => list
                .iter()
                .filter_map(|process| {
                    Some((
                        process["pid"].as_u64()?,
                        process["origin_unix_ns"].as_u64()?,
                    ))
                })
                .collect(),
            None => vec![(trace.pid, trace.origin_unix_ns)],
        };
        let mut renamed: HashMap<u64, Option<u64>> = HashMap::new();
        for (pid, started) in own {
            if seen.contains_key(&(pid, started)) {
                renamed.insert(pid, None);
                continue;
            }
            let mut new = pid;
            while !pids_taken.insert(new) {
                new = new.wrapping_add(1 << 22);
            }
            seen.insert((pid, started), new);
            renamed.insert(pid, Some(new));
            processes.push(json!({ "pid": new, "origin_unix_ns": started }));
        }
        let mut kept_any = false;
        for mut event in trace.events {
            let Some(Some(pid)) = event["pid"].as_u64().and_then(|pid| renamed.get(&pid)) else {
                continue;
            };
            kept_any = true;
            event["pid"] = (*pid).into();
            if let Some(ts) = event["ts"].as_f64() {
                event["ts"] = (ts + shift_us).into();
            }
            // Async and flow ids are global to the file: each file's kept apart.
            if let Some(id) = event["id"].as_str() {
                event["id"] = format!("p{}-{id}", index + 1).into();
            }
            events.push(event);
        }
        if kept_any {
            for (sum, key) in rolled_off.iter_mut().zip(ROLLED_OFF) {
                *sum += trace.other[key].as_u64().unwrap_or(0);
            }
        }
    }
    let mut other = json!({
        "producer": "pipetel",
        "origin_unix_ns": origin,
        "processes": processes,
    });
    for (key, sum) in ROLLED_OFF.into_iter().zip(rolled_off) {
        other[key] = sum.into();
    }
    let merged = json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": other,
    });
    Ok(merged.to_string())
}

/// What each file says rolled off its rings, summed in the merged file.
const ROLLED_OFF: [&str; 3] = [
    "slices_rolled_off",
    "runs_and_steps_rolled_off",
    "samples_rolled_off",
];

/// One process's timeline, as read.
struct Trace {
    events: Vec<Value>,
    other: Value,
    origin_unix_ns: u64,
    /// Its process's pid (of its `process_name` metadata).
    pid: u64,
    /// Whether it holds anything but metadata.
    recorded: bool,
}

impl Trace {
    /// Reads a file [`chrome_trace`](crate::chrome_trace) wrote; why not, when it is not
    /// one.
    fn read(text: &str) -> Result<Trace, String> {
        let mut file: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let Some(Value::Array(events)) = file.get_mut("traceEvents").map(Value::take) else {
            return Err("no traceEvents array".to_owned());
        };
        let other = file
            .get_mut("otherData")
            .map(Value::take)
            .unwrap_or_default();
        if other["producer"] != "pipetel" {
            return Err("its otherData.producer is not pipetel".to_owned());
        }
        let origin_unix_ns = other["origin_unix_ns"]
            .as_u64()
            .ok_or("no otherData.origin_unix_ns")?;
        let pid = events
            .iter()
            .find(|event| event["name"] == "process_name")
            .and_then(|event| event["pid"].as_u64())
            .ok_or("no process_name event with a pid")?;
        let recorded = events.iter().any(|event| event["ph"] != "M");
        Ok(Trace {
            events,
            other,
            origin_unix_ns,
            pid,
            recorded,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A timeline as `chrome_trace` writes it: process `pid`, starting at `origin`, one
    /// operator slice at `ts` and a task's gap with id `task-1`.
    fn timeline(pid: u32, origin: u64, ts: f64) -> String {
        json!({
            "traceEvents": [
                { "ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                  "args": { "name": format!("pipetel: process {pid}") } },
                { "ph": "X", "name": "scan", "cat": "operator", "pid": pid, "tid": 1,
                  "ts": ts, "dur": 1.0, "args": { "node.type": "scan", "node.id": "a" } },
                { "ph": "b", "name": "scan blocked", "cat": "task", "id": "task-1",
                  "pid": pid, "tid": 1, "ts": ts },
            ],
            "displayTimeUnit": "ms",
            "otherData": { "producer": "pipetel", "origin_unix_ns": origin,
                           "slices_rolled_off": 2 },
        })
        .to_string()
    }

    fn directory(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("pipetel-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a directory");
        dir
    }

    #[test]
    fn two_processes_of_one_pid_stay_apart_on_one_clock() {
        let dir = directory("merge-same-pid");
        // The same pid on two hosts, the second starting one second later.
        std::fs::write(dir.join("a.trace.json"), timeline(7, 5_000_000_000, 10.0)).unwrap();
        std::fs::write(dir.join("b.trace.json"), timeline(7, 6_000_000_000, 10.0)).unwrap();
        let merged: Value = serde_json::from_str(&merge_chrome_traces([&dir]).unwrap()).unwrap();
        let events = merged["traceEvents"].as_array().unwrap();
        let slices: Vec<(u64, f64)> = events
            .iter()
            .filter(|event| event["ph"] == "X")
            .map(|event| {
                (
                    event["pid"].as_u64().unwrap(),
                    event["ts"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(slices.len(), 2);
        assert_ne!(slices[0].0, slices[1].0, "two pids: {slices:?}");
        assert_eq!(slices[0].1, 10.0);
        assert_eq!(slices[1].1, 10.0 + 1_000_000.0, "a second later, in µs");
        let ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
        assert_eq!(ids, ["p1-task-1", "p2-task-1"]);
        assert_eq!(merged["otherData"]["origin_unix_ns"], 5_000_000_000u64);
        assert_eq!(merged["otherData"]["slices_rolled_off"], 4);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_that_is_not_a_pipetel_timeline_is_named() {
        let dir = directory("merge-not-a-timeline");
        let file = dir.join("other.trace.json");
        std::fs::write(&file, r#"{"traceEvents": [], "otherData": {}}"#).unwrap();
        let error = merge_chrome_traces([&dir]).unwrap_err();
        assert_eq!(error.path, file);
        assert!(
            error.to_string().contains("not a pipetel timeline"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
