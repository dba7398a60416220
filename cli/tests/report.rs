//! The `pipetel report` command on the snapshot directory of real processes: this test
//! binary started again as workers (`worker_process`, which does its work only when
//! `PIPETEL_CLI_TEST_ROWS` is set), each writing into one `PIPETEL_SNAPSHOT_DIR`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use pipetel::snapshot::{merge_files, Snapshot};

const PIPETEL: &str = env!("CARGO_BIN_EXE_pipetel");
const JOB_A: &str = "0af7651916cd43dd8448eb211c80319c";
const JOB_B: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// A worker: counts a scan of `PIPETEL_CLI_TEST_ROWS` rows in batches of 10, then exits
/// (its telemetry writes the last snapshot as it stops). Not a test of its own: ignored,
/// and run by [`worker`] only.
#[test]
#[ignore = "a worker process of the tests below"]
fn worker_process() {
    let rows: usize = std::env::var("PIPETEL_CLI_TEST_ROWS")
        .expect("run by `worker`, with PIPETEL_CLI_TEST_ROWS")
        .parse()
        .expect("a number");
    let telemetry = pipetel::Config::new().init();
    let scan = pipetel::Operator::new("scan", "cli");
    scan.iter((0..rows / 10).map(|_| vec![0u8; 10]))
        .for_each(drop);
    drop(telemetry);
}

/// Runs `worker_process` as a process of its own, writing into `dir` in `job`.
fn worker(dir: &Path, rows: u64, job: &str) {
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            "worker_process",
            "--ignored",
            "--test-threads",
            "1",
        ])
        .env("PIPETEL_CLI_TEST_ROWS", rows.to_string())
        .env("PIPETEL_SNAPSHOT_DIR", dir)
        .env("TRACEPARENT", format!("00-{job}-00f067aa0ba902b7-01"))
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("PIPETEL_REPORT")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start a worker");
    // Bounded: a worker that hangs fails the test rather than holding it.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("a worker did not exit within two minutes");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success());
}

fn pipetel(args: &[&str]) -> Output {
    Command::new(PIPETEL)
        .args(args)
        .output()
        .expect("run pipetel")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn directory(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pipetel-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

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
