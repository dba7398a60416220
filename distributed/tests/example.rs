//! The `cluster` example as a user runs it: a coordinator and two real worker processes
//! on 127.0.0.1, four queries, each printed with its merged report — every process in
//! it, the work per worker, the edges across the network conserving their rows — and the
//! coordinator's dashboard showing the whole cluster.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pipetel::snapshot::Snapshot;

#[test]
fn the_cluster_example_prints_each_querys_merged_report() {
    let dir = std::env::temp_dir().join(format!("pipetel-cluster-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(common::cluster_binary())
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
    // Each report merges the coordinator's part and the workers' (the engine decides how
    // many of them each query's stages run on).
    let processes: Vec<usize> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("PROCESSES "))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(processes.len(), 4, "{stdout}");
    assert!(
        processes.iter().all(|&n| (2..=3).contains(&n)),
        "{processes:?}\n{stdout}"
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

#[test]
fn the_coordinators_dashboard_shows_every_process_of_the_cluster() {
    let dir = std::env::temp_dir().join(format!("pipetel-cluster-page-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(common::cluster_binary())
        .args(["--workers", "2", "--orders", "100000"])
        .env("PIPETEL_SNAPSHOT_DIR", &dir)
        .env("PIPETEL_DASHBOARD_ADDR", "127.0.0.1:0")
        // At exit, the dashboard waits (at most this long) for a page to fetch the end.
        .env("PIPETEL_DASHBOARD_LINGER", "60000")
        .env_remove("PIPETEL_REPORT")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example, built by cargo test");
    let stderr = child.stderr.take().expect("piped");
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.split("pipetel: dashboard at ").nth(1) {
                let _ = found.send(url.trim().to_owned());
            }
        }
    });
    let url = address
        .recv_timeout(Duration::from_secs(120))
        .expect("the dashboard's address on stderr");
    // The coordinator and both workers, as soon as the workers' snapshots are written.
    let deadline = Instant::now() + Duration::from_secs(300);
    let processes = loop {
        let page = reqwest::blocking::get(format!("{url}api/snapshot.json"))
            .and_then(|response| response.text())
            .ok()
            .and_then(|text| Snapshot::from_json(&text).ok());
        if let Some(page) = page.filter(|page| page.sources.len() == 3) {
            break page;
        }
        assert!(
            child.try_wait().expect("wait").is_none() && Instant::now() < deadline,
            "the dashboard never showed the three processes"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        processes
            .operators
            .iter()
            .any(|op| op.node_type == "DataSourceExec" && op.skew.workers.len() >= 2),
        "the workers' scans on the coordinator's page: {:?}",
        processes.operators
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
