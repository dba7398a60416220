//! `pipetel timeline`: the timelines two workers wrote into their snapshot directory,
//! merged into one file with a process each — a merge merged again keeps each process
//! once; a directory with none is named.

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
    // A merge kept beside the files it merged: each process still once.
    std::fs::copy(&merged, dir.join("job.trace.json")).expect("copy");
    let processes = |paths: &[&std::path::Path]| -> (usize, usize) {
        let mut args = vec!["timeline"];
        args.extend(paths.iter().map(|path| path.to_str().expect("a path")));
        let output = pipetel(&args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let trace: serde_json::Value = serde_json::from_str(&text(&output.stdout)).expect("JSON");
        let listed = trace["otherData"]["processes"]
            .as_array()
            .map_or(0, Vec::len);
        let named = trace["traceEvents"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|event| event["name"] == "process_name")
            .count();
        (listed, named)
    };
    assert_eq!(processes(&[&dir]), (2, 2));
    // A merge merged with a third process's timeline: three.
    let third = directory("timeline-third");
    timeline_worker(&third, 500, JOB_A);
    assert_eq!(processes(&[&merged, &third]), (3, 3));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&third);
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
