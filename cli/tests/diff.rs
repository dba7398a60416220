//! The `pipetel diff` command on the snapshot directories of real processes (workers
//! started from this test binary, `common::worker`): the text, JSON and HTML of a diff,
//! and what it says of paths it cannot compare.

mod common;

use common::{directory, pipetel, text, worker, JOB_A, JOB_B};
use pipetel::diff::Diff;

#[test]
fn diff_compares_two_runs_in_every_format() {
    let (before, after) = (directory("diff-before"), directory("diff-after"));
    worker(&before, 30, JOB_A);
    worker(&after, 50, JOB_B);
    let (before_arg, after_arg) = (
        before.to_str().expect("a path"),
        after.to_str().expect("a path"),
    );

    let table = pipetel(&["diff", before_arg, after_arg]);
    assert!(table.status.success(), "{}", text(&table.stderr));
    let table = text(&table.stdout);
    assert!(
        table.starts_with("pipetel diff: 1 operator in both runs"),
        "{table}"
    );
    // Rows are counts: the difference is called whatever the noise.
    assert!(table.contains("rows out of scan cli: 30 → 50"), "{table}");
    assert!(table.contains("too few calls"), "{table}");

    let json = pipetel(&["diff", before_arg, after_arg, "--json"]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    let diff: Diff = serde_json::from_str(&text(&json.stdout)).expect("the diff's JSON");
    assert_eq!(diff.operators.len(), 1);
    assert_eq!(
        (
            diff.operators[0].rows_out.before,
            diff.operators[0].rows_out.after
        ),
        (30, 50)
    );

    let page = after.join("diff.html.out");
    let html = pipetel(&[
        "diff",
        before_arg,
        after_arg,
        "--html",
        page.to_str().expect("a path"),
    ]);
    assert!(html.status.success(), "{}", text(&html.stderr));
    let page = std::fs::read_to_string(&page).expect("the page written");
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..100]);
    assert!(page.contains("rows out of scan cli: 30 → 50"));
    let _ = std::fs::remove_dir_all(&before);
    let _ = std::fs::remove_dir_all(&after);
}

#[test]
fn diff_names_the_path_it_cannot_compare() {
    let (two_jobs, empty) = (directory("diff-two-jobs"), directory("diff-empty"));
    worker(&two_jobs, 20, JOB_A);
    worker(&two_jobs, 40, JOB_B);
    std::fs::create_dir_all(&empty).expect("dir");
    let (two_jobs_arg, empty_arg) = (
        two_jobs.to_str().expect("a path"),
        empty.to_str().expect("a path"),
    );

    let several = pipetel(&["diff", two_jobs_arg, two_jobs_arg]);
    assert_eq!(several.status.code(), Some(1));
    let error = text(&several.stderr);
    assert!(
        error.contains(&format!("2 jobs in {two_jobs_arg}")) && error.contains(JOB_B),
        "{error}"
    );
    let nothing = pipetel(&["diff", two_jobs_arg, empty_arg]);
    assert_eq!(nothing.status.code(), Some(1));
    let error = text(&nothing.stderr);
    assert!(error.contains("2 jobs in"), "BEFORE is read first: {error}");
    let nothing = pipetel(&["diff", empty_arg, two_jobs_arg]);
    let error = text(&nothing.stderr);
    assert!(
        error.contains(&format!("no snapshot files in {empty_arg}")),
        "{error}"
    );
    // One run missing: a usage error.
    let usage = pipetel(&["diff", empty_arg]);
    assert_eq!(usage.status.code(), Some(2), "{}", text(&usage.stderr));
    let _ = std::fs::remove_dir_all(&two_jobs);
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn a_reader_that_stops_reading_ends_the_command_quietly() {
    let dir = directory("diff-closed-stdout");
    worker(&dir, 30, JOB_A);
    let dir_arg = dir.to_str().expect("a path");
    for args in [["diff", dir_arg, dir_arg], ["report", dir_arg, "--json"]] {
        // A pipe whose reading end is closed before the command writes (`| head`, done).
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let output = std::process::Command::new(common::PIPETEL)
            .args(args)
            .stdout(writer)
            .output()
            .expect("run pipetel");
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        assert_eq!(text(&output.stderr), "", "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
