//! The `cluster` example as a user runs it: a coordinator and two real worker processes
//! on 127.0.0.1, four queries, each printed with its merged report — every process in
//! it, the work per worker, the edges across the network conserving their rows.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The example's binary, built beside this test's by `cargo test`.
fn example() -> PathBuf {
    let test = std::env::current_exe().expect("this test binary");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    profile.join("examples").join("cluster")
}

#[test]
fn the_cluster_example_prints_each_querys_merged_report() {
    let dir = std::env::temp_dir().join(format!("pipetel-cluster-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(example())
        .args(["--workers", "2", "--orders", "100000"])
        .env("PIPETEL_SNAPSHOT_DIR", &dir)
        .env_remove("PIPETEL_DASHBOARD_ADDR")
        .env_remove("PIPETEL_REPORT")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example, built by cargo test");
    let deadline = Instant::now() + Duration::from_secs(600);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("the example did not end within 600 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("its output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");

    // Four queries, each with its result and the report of its three processes.
    assert_eq!(
        stdout
            .lines()
            .filter(|line| line.starts_with("== "))
            .count(),
        4,
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("PROCESSES 3 (job ").count(),
        4,
        "every query's report merges the coordinator and both workers\n{stdout}"
    );
    // Each operator of a stage shows its work per worker.
    assert!(stdout.contains("2 workers: rows"), "{stdout}");
    assert!(
        stdout.contains("→ NetworkShuffleExec") || stdout.contains("→ NetworkCoalesceExec"),
        "the edges across the network: {stdout}"
    );
    assert!(!stdout.contains("rows lost"), "{stdout}");
    assert!(!stdout.contains("duplicated"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
