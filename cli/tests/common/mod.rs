//! What the command's tests share: workers — the test binary started again as a process
//! of its own (`worker_process`, which does its work only when `PIPETEL_CLI_TEST_ROWS`
//! is set) writing into a `PIPETEL_SNAPSHOT_DIR` — and running the command.

// Each test binary uses some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const PIPETEL: &str = env!("CARGO_BIN_EXE_pipetel");
pub const JOB_A: &str = "0af7651916cd43dd8448eb211c80319c";
pub const JOB_B: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

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
    let timeline = std::env::var_os("PIPETEL_CLI_TEST_TIMELINE").is_some();
    let telemetry = pipetel::Config::new().record_timeline(timeline).init();
    let scan = pipetel::Operator::new("scan", "cli");
    scan.iter((0..rows / 10).map(|_| vec![0u8; 10]))
        .for_each(drop);
    drop(telemetry);
}

/// Runs `worker_process` as a process of its own, writing into `dir` in `job`.
pub fn worker(dir: &Path, rows: u64, job: &str) {
    run_worker(dir, rows, job, false);
}

/// [`worker`], recording its timeline (written into `dir` beside its snapshot).
pub fn timeline_worker(dir: &Path, rows: u64, job: &str) {
    run_worker(dir, rows, job, true);
}

fn run_worker(dir: &Path, rows: u64, job: &str, timeline: bool) {
    let mut command = Command::new(std::env::current_exe().expect("this test binary"));
    if timeline {
        command.env("PIPETEL_CLI_TEST_TIMELINE", "1");
    }
    let mut child = command
        .args([
            "--exact",
            "common::worker_process",
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

pub fn pipetel(args: &[&str]) -> Output {
    Command::new(PIPETEL)
        .args(args)
        .output()
        .expect("run pipetel")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn directory(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pipetel-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
