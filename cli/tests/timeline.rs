//! `pipetel timeline`: the timelines two workers wrote into their snapshot directory,
//! merged into one file with a process each; a directory with none is named.

mod common;

use common::{directory, pipetel, text, timeline_worker, JOB_A};

#[test]
fn the_timelines_in_a_snapshot_directory_merge_into_one_file() {
    let dir = directory("timeline");
    timeline_worker(&dir, 500, JOB_A);
    timeline_worker(&dir, 500, JOB_A);
    let merged = dir.join("merged.json");
    let output = pipetel(&[
        "timeline",
        dir.to_str().expect("a path"),
        "-o",
        merged.to_str().expect("a path"),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&merged).expect("written")).expect("JSON");
    let events = trace["traceEvents"].as_array().expect("events");
    let pids: std::collections::BTreeSet<u64> = events
        .iter()
        .filter(|event| event["ph"] == "X")
        .map(|event| event["pid"].as_u64().expect("a pid"))
        .collect();
    assert_eq!(pids.len(), 2, "a process each");
    assert_eq!(
        trace["otherData"]["processes"].as_array().map(Vec::len),
        Some(2)
    );
    // The merged file is not read back as one of the directory's timelines.
    let again = pipetel(&["timeline", dir.to_str().expect("a path")]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let again: serde_json::Value = serde_json::from_str(&text(&again.stdout)).expect("JSON");
    assert_eq!(
        again["otherData"]["processes"].as_array().map(Vec::len),
        Some(2)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_directory_without_timelines_is_named() {
    let dir = directory("no-timeline");
    std::fs::create_dir_all(&dir).expect("a directory");
    let output = pipetel(&["timeline", dir.to_str().expect("a path")]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("no timeline files") && stderr.contains(dir.to_str().expect("a path")),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
