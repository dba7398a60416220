//! The `pipetel report` command on the snapshot directory of real processes: this test
//! binary started again as workers (`common::worker`), each writing into one
//! `PIPETEL_SNAPSHOT_DIR`.

mod common;

use common::{directory, pipetel, text, worker, JOB_A, JOB_B};
use pipetel::snapshot::{merge_files, Snapshot};

#[test]
fn report_merges_a_jobs_processes_in_every_format() {
    let dir = directory("one-job");
    worker(&dir, 30, JOB_A);
    worker(&dir, 50, JOB_A);
    let dir_arg = dir.to_str().expect("a path");

    let table = pipetel(&["report", dir_arg]);
    assert!(table.status.success(), "{}", text(&table.stderr));
    let table = text(&table.stdout);
    assert!(
        table.contains(&format!("PROCESSES 2 (job {JOB_A}): 2 done")),
        "{table}"
    );
    assert!(table.contains("scan cli"), "{table}");

    let json = pipetel(&["report", dir_arg, "--json"]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    let merged = Snapshot::from_json(&text(&json.stdout)).expect("the snapshot format");
    assert_eq!(
        merged.operator("scan", "cli").map(|op| op.rows.produced),
        Some(80)
    );
    assert_eq!(merged, merge_files([&dir]).expect("reads").remove(0));

    let dot = text(&pipetel(&["report", dir_arg, "--dot"]).stdout);
    assert!(dot.starts_with("digraph"), "{dot}");
    let mermaid = text(&pipetel(&["report", dir_arg, "--mermaid"]).stdout);
    assert!(mermaid.starts_with("flowchart"), "{mermaid}");
    let page = dir.join("report.html.out");
    let html = pipetel(&["report", dir_arg, "--html", page.to_str().expect("a path")]);
    assert!(html.status.success(), "{}", text(&html.stderr));
    let page = std::fs::read_to_string(&page).expect("the page written");
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..100]);

    // Two formats at once: a usage error.
    let both = pipetel(&["report", dir_arg, "--json", "--dot"]);
    assert_eq!(both.status.code(), Some(2), "{}", text(&both.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_names_what_it_cannot_read_and_asks_which_job() {
    let dir = directory("two-jobs");
    worker(&dir, 20, JOB_A);
    worker(&dir, 40, JOB_B);
    let dir_arg = dir.to_str().expect("a path");

    // The table: one report per job.
    let table = text(&pipetel(&["report", dir_arg]).stdout);
    assert!(
        table.contains(&format!("JOB {JOB_A}")) && table.contains(&format!("JOB {JOB_B}")),
        "{table}"
    );
    // One format for two jobs: which one?
    let json = pipetel(&["report", dir_arg, "--json"]);
    assert_eq!(json.status.code(), Some(1));
    let error = text(&json.stderr);
    assert!(error.contains("2 jobs") && error.contains(JOB_B), "{error}");
    let chosen = pipetel(&["report", dir_arg, "--json", "--job", JOB_B]);
    let job_b = Snapshot::from_json(&text(&chosen.stdout)).expect("job B");
    assert_eq!(
        job_b.operator("scan", "cli").map(|op| op.rows.produced),
        Some(40)
    );

    // A file that is not a snapshot, and a directory that is missing: named.
    let bad = dir.join("zz-not-a-snapshot.json");
    std::fs::write(&bad, "{\"operators\": []}").expect("write");
    let read = pipetel(&["report", dir_arg]);
    assert_eq!(read.status.code(), Some(1));
    assert!(
        text(&read.stderr).contains("zz-not-a-snapshot.json"),
        "{}",
        text(&read.stderr)
    );
    let missing = pipetel(&["report", "/nonexistent/pipetel-snapshots"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("/nonexistent/pipetel-snapshots"));
    let _ = std::fs::remove_dir_all(&dir);
}
