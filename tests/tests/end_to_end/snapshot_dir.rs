//! One job over several processes (`tests/src/bin/worker.rs`), each writing its snapshot
//! into one `PIPETEL_SNAPSHOT_DIR`: the merged snapshot is the exact sum of the
//! processes' own, each process counts once however often it is read, a process killed
//! mid-run is marked partial with its last figures, a slow one is named the straggler,
//! and the driver's dashboard shows the whole job; the processes' timelines merge into one,
//! their clocks aligned. A directory that cannot be made, or a file in it that is not a
//! snapshot, is named in a warning while the program runs on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pipetel::diagnose::DiagnosisKind;
use pipetel::snapshot::{merge_files, Snapshot, SourceState};
use pipetel_tests::{assert_success, chrome_trace, start, wait_for_exit};

const WORKER: &str = env!("CARGO_BIN_EXE_worker");
/// The job all workers run in (a `TRACEPARENT`'s trace id).
const JOB: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn snapshot_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pipetel-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("PIPETEL_SNAPSHOT_DIR", dir.display().to_string()),
        ("TRACEPARENT", format!("00-{JOB}-00f067aa0ba902b7-01")),
    ]
}

fn start_worker(dir: &Path, args: &[&str]) -> std::process::Child {
    let env = env(dir);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    start(WORKER, args, &env)
}

/// Every file of `dir`, each read alone.
fn each_file(dir: &Path) -> Vec<Snapshot> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the snapshot directory")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| {
            Snapshot::from_json(&std::fs::read_to_string(file).expect("read")).expect("parse")
        })
        .collect()
}

/// What the test sums by hand, per operator: counters, wait states and every bucket.
#[derive(Debug, Default, PartialEq)]
struct Sums {
    counters: [u64; 8],
    time_ns: [u128; 4],
    busy_buckets: BTreeMap<u64, u64>,
    rows_buckets: BTreeMap<u64, u64>,
}

fn sums(snapshots: &[Snapshot]) -> BTreeMap<(String, String), Sums> {
    let mut all: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for snapshot in snapshots {
        for op in &snapshot.operators {
            let sums = all
                .entry((op.node_type.clone(), op.node_id.clone()))
                .or_default();
            let counters = [
                op.calls.completed,
                op.calls.failed,
                op.calls.cancelled,
                op.rows.received,
                op.rows.produced,
                op.rows.written,
                op.bytes.read,
                op.bytes.written,
            ];
            for (sum, value) in sums.counters.iter_mut().zip(counters) {
                *sum += value;
            }
            let times = [
                op.time.busy,
                op.time.starved,
                op.time.blocked,
                op.time.queued,
            ];
            for (sum, time) in sums.time_ns.iter_mut().zip(times) {
                *sum += time.as_nanos();
            }
            for &(start, n) in &op.distributions.buckets.busy {
                *sums.busy_buckets.entry(start).or_default() += n;
            }
            for &(start, n) in &op.distributions.buckets.rows {
                *sums.rows_buckets.entry(start).or_default() += n;
            }
        }
    }
    all
}

#[test]
fn eight_workers_merge_to_the_exact_sum_and_the_slow_one_is_the_straggler() {
    let dir = snapshot_dir("eight-workers");
    // Worker 5 sleeps 100 ms before each batch, the others 1 ms: a hundredfold, so that
    // it stays the straggler (four times the median busy time, the diagnosis' ratio)
    // however long a loaded machine makes the others' sleeps.
    let workers: Vec<_> = (0..8)
        .map(|n| {
            let sleep = if n == 5 { "100" } else { "1" };
            start_worker(
                &dir,
                &["--batches", "10", "--rows", "100", "--sleep-ms", sleep],
            )
        })
        .collect();
    let slow_pid = workers[5].id();
    for worker in workers {
        let output = wait_for_exit(worker, Duration::from_secs(120));
        assert_success(&output);
        // Each worker's sum of the even numbers below 1,000.
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "249500");
    }

    let alone = each_file(&dir);
    assert_eq!(alone.len(), 8, "one file per process");
    let jobs = merge_files([&dir]).expect("the directory reads");
    assert_eq!(jobs.len(), 1, "one job");
    let merged = &jobs[0];

    // Every counter, wait state and bucket: the sum of the processes' own.
    assert_eq!(sums(std::slice::from_ref(merged)), sums(&alone));
    let scan = merged.operator("scan", "numbers").expect("the scan");
    assert_eq!((scan.rows.produced, scan.calls.completed), (8_000, 8));
    let filter = merged.operator("filter", "even").expect("the filter");
    assert_eq!((filter.rows.input, filter.rows.produced), (8_000, 4_000));
    let busy = scan.distributions.busy_per_call.expect("percentiles");
    assert_eq!(
        busy.count,
        8 * 12,
        "each scan's call, its ten batches and its end"
    );
    let edge_rows: u64 = merged
        .edges
        .iter()
        .filter(|edge| edge.from.node_type == "scan")
        .map(|edge| edge.rows)
        .sum();
    assert_eq!(edge_rows, 8_000);
    assert!(merged.imbalances.is_empty(), "{:?}", merged.imbalances);
    assert_eq!(merged.sources.len(), 8);
    assert!(merged
        .sources
        .iter()
        .all(|source| source.state == SourceState::Done && source.job.as_deref() == Some(JOB)));

    // The slow worker: the largest busy share of the scan, and a skew diagnosis.
    let slow = merged
        .sources
        .iter()
        .find(|source| source.pid == slow_pid)
        .expect("the slow worker's source")
        .name();
    let across = scan.skew.across_workers.as_ref().expect("eight workers");
    assert_eq!(across.count, 8);
    assert_eq!(across.busy_ns.max_at, slow);
    assert!(
        merged
            .diagnoses
            .iter()
            .any(|found| found.kind == DiagnosisKind::Skew
                && found.message.contains(&format!("worker {slow}"))),
        "{:#?}",
        merged.diagnoses
    );

    // Read twice, or given again: each process counts once.
    let twice = merge_files([&dir, &dir]).expect("reads");
    assert_eq!(sums(&twice), sums(&jobs));
    let again = Snapshot::merge(alone.iter().cloned().chain(alone.iter().cloned()));
    assert_eq!(sums(&[again]), sums(&alone));
    // One worker's file there 50 times over (copied under other names): once.
    let copies = snapshot_dir("eight-workers-copies");
    std::fs::create_dir_all(&copies).expect("a directory");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the directory")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    files.sort();
    for file in &files {
        let name = file.file_name().expect("a name");
        std::fs::copy(file, copies.join(name)).expect("copy");
    }
    for n in 0..50 {
        std::fs::copy(&files[0], copies.join(format!("copy-{n}.json"))).expect("copy");
    }
    let from_copies = merge_files([&copies]).expect("reads");
    assert_eq!(sums(&from_copies), sums(&alone));
    assert_eq!(from_copies[0].sources.len(), 8);
    let _ = std::fs::remove_dir_all(&copies);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_timelines_of_workers_run_one_after_another_merge_into_one_in_that_order() {
    let dir = snapshot_dir("timelines");
    let reports = snapshot_dir("timelines-reports");
    std::fs::create_dir_all(&reports).expect("a directory");
    for n in 1..=2 {
        // A report naming a timeline turns the recorder on: the process writes its
        // timeline there and, as it has a snapshot directory, into that too.
        let report = reports.join(format!("worker-{n}.trace.json"));
        let mut env = env(&dir);
        env.push(("PIPETEL_REPORT", report.display().to_string()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let args = ["--batches", "10", "--rows", "1000", "--sleep-ms", "2"];
        let output = wait_for_exit(start(WORKER, &args, &env), Duration::from_secs(120));
        assert_success(&output);
        // A gap between the two, wider than a process's anchor of its clock to the time
        // of day can be off by (its two reads preempted on a loaded machine).
        std::thread::sleep(Duration::from_millis(200));
    }
    // The timelines beside the snapshots, which read as before.
    let jobs = merge_files([&dir]).expect("the snapshots read, the timelines left out");
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job.sources.len(), 2);

    let merged = pipetel::merge_chrome_traces([&dir]).expect("the timelines merge");
    let trace = chrome_trace::check(&merged);
    assert_eq!(trace.processes.len(), 2, "{:?}", trace.processes);
    assert_eq!(trace.rolled_off, 0);
    // Each worker ran after the one before it exited: on the aligned clocks, all of the
    // second's slices after all of the first's.
    let mut by_process: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for &((pid, _), start, end, _) in &trace.slices {
        let span = by_process.entry(pid).or_insert((f64::MAX, f64::MIN));
        *span = (span.0.min(start), span.1.max(end));
    }
    let mut spans: Vec<(f64, f64)> = by_process.into_values().collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(spans.len(), 2);
    assert!(
        spans[0].1 <= spans[1].0,
        "the first worker's slices end at {} µs, the second's start at {} µs",
        spans[0].1,
        spans[1].0
    );
    // Both processes' slices add up to the job's busy time, operator by operator.
    for op in &job.operators {
        let key = (op.node_type.clone(), op.node_id.clone());
        let busy = op.time.busy.as_nanos() as f64;
        let calls = op.calls.completed + op.calls.failed + op.calls.cancelled;
        let own = trace.own_ns.get(&key).copied().unwrap_or_default();
        let slack = busy * 0.01 + 2.0 * 12.0 * calls as f64;
        assert!(
            (own - busy).abs() <= slack,
            "{key:?}: slices {own} ns of own time, the job {busy} ns busy"
        );
    }
    // Each process's tasks on tracks of their own.
    let processes_with_gaps: std::collections::BTreeSet<&str> = trace
        .task_gaps
        .iter()
        .map(|gap| gap.0.split('-').next().expect("a prefix"))
        .collect();
    assert_eq!(processes_with_gaps.len(), 2, "{processes_with_gaps:?}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&reports);
}

#[test]
fn jobs_served_at_once_by_the_same_workers_merge_into_a_report_each() {
    let dir = snapshot_dir("jobs");
    let workers: Vec<_> = (0..3)
        .map(|_| start_worker(&dir, &["--jobs", "2", "--batches", "7", "--rows", "10"]))
        .collect();
    for worker in workers {
        let output = wait_for_exit(worker, Duration::from_secs(60));
        assert!(output.status.success(), "a worker failed: {output:?}");
    }
    let merged = merge_files([&dir]).expect("the directory");
    let job = |name: Option<&str>| {
        merged
            .iter()
            .find(|snapshot| snapshot.job() == name)
            .unwrap_or_else(|| panic!("no merged snapshot of job {name:?}"))
    };
    // Each job: its part on each of the three workers, exactly, all of them done.
    for j in 0..2u64 {
        let name = format!("job-{j}");
        let snapshot = job(Some(&name));
        let scan = snapshot.operator("scan", "numbers").expect("the scan");
        // 3 workers × 7 batches of (j + 1) × 10 rows.
        assert_eq!(scan.rows.produced, 3 * 7 * 10 * (j + 1), "{name}");
        assert_eq!(scan.calls.completed, 3, "{name}");
        assert_eq!(snapshot.sources.len(), 3, "{name}");
        assert!(
            snapshot
                .sources
                .iter()
                .all(|source| source.state == SourceState::Done),
            "{name}: {:?}",
            snapshot.sources
        );
    }
    // The processes' own snapshots hold both jobs' work: the job of the whole run.
    let all = job(Some(JOB));
    let scan = all.operator("scan", "numbers").expect("the scan");
    assert_eq!(scan.rows.produced, 3 * 7 * 10 * (1 + 2));
    assert_eq!(merged.len(), 3, "two jobs and the processes' run");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_process_written_again_and_again_counts_once_and_a_killed_one_is_partial() {
    let dir = snapshot_dir("killed");
    // A worker slow enough to be read mid-run several times (40 batches, 100 ms apart:
    // four seconds or more, against a first write one second in), then killed while it
    // sleeps; and one that ends.
    let mut killed = start_worker(
        &dir,
        &[
            "--batches",
            "40",
            "--rows",
            "10",
            "--sleep-ms",
            "100",
            "--then-sleep-s",
            "120",
        ],
    );
    let ended = start_worker(&dir, &["--batches", "3", "--rows", "10"]);
    assert!(wait_for_exit(ended, Duration::from_secs(60))
        .status
        .success());

    // Every version of the killed worker's file seen while it ran: cumulative snapshots.
    let mut versions: Vec<Snapshot> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let scan_rows = |snapshot: &Snapshot| {
        snapshot
            .operator("scan", "numbers")
            .map_or(0, |op| op.rows.produced)
    };
    loop {
        let mine: Vec<Snapshot> = each_file(&dir)
            .into_iter()
            .filter(|snapshot| snapshot.sources[0].pid == killed.id())
            .collect();
        if let Some(latest) = mine.into_iter().next() {
            let done = scan_rows(&latest) == 400;
            if versions.last() != Some(&latest) {
                versions.push(latest);
            }
            if done {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the worker never wrote all its rows"
        );
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(versions.len() >= 2, "read while it ran: {}", versions.len());
    assert!(scan_rows(&versions[0]) < 400);

    killed.kill().expect("kill -9");
    let _ = killed.wait();

    let jobs = merge_files([&dir]).expect("reads");
    let merged = &jobs[0];
    let states: Vec<(u32, SourceState)> = merged
        .sources
        .iter()
        .map(|source| (source.pid, source.state))
        .collect();
    let killed_state = states
        .iter()
        .find(|(pid, _)| *pid == killed.id())
        .expect("the killed worker")
        .1;
    assert!(
        matches!(killed_state, SourceState::Partial { .. }),
        "{states:?}"
    );
    assert!(
        states
            .iter()
            .any(|(pid, state)| *pid != killed.id() && *state == SourceState::Done),
        "{states:?}"
    );
    let killed_name = merged
        .sources
        .iter()
        .find(|source| source.pid == killed.id())
        .expect("the killed worker")
        .name();
    let report = pipetel::Report::of(merged.clone()).to_string();
    assert!(
        report.contains(&format!("PROCESSES 2 (job {JOB}): 1 done, 1 partial"))
            && report.contains(&format!("{killed_name} stopped without saying so")),
        "{report}"
    );
    // Its last figures count, once: with every earlier version given too, the same.
    let scan = merged.operator("scan", "numbers").expect("the scan");
    assert_eq!(scan.rows.produced, 400 + 30);
    let ended_alone: Vec<Snapshot> = each_file(&dir)
        .into_iter()
        .filter(|snapshot| snapshot.sources[0].pid != killed.id())
        .collect();
    let with_versions = Snapshot::merge(ended_alone.into_iter().chain(versions));
    assert_eq!(
        with_versions
            .operator("scan", "numbers")
            .map(|op| op.rows.produced),
        Some(430)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_drivers_dashboard_shows_every_process_of_its_job() {
    let dir = snapshot_dir("dashboard");
    for _ in 0..3 {
        let worker = start_worker(&dir, &["--batches", "10", "--rows", "100"]);
        assert!(wait_for_exit(worker, Duration::from_secs(60))
            .status
            .success());
    }
    // A process of another job in the same directory: not in this job's view.
    let mut other_job = env(&dir);
    other_job[1].1 = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01".into();
    let other_job: Vec<(&str, &str)> = other_job.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let other = start(WORKER, &["--batches", "1", "--rows", "7"], &other_job);
    assert!(wait_for_exit(other, Duration::from_secs(60))
        .status
        .success());
    // A file that is not a snapshot: left out, with a warning naming it.
    std::fs::write(dir.join("notes.json"), "{\"not\": \"a snapshot\"}").expect("write");

    // The driver: the fourth process of the job, its dashboard up while it sleeps.
    let mut env = env(&dir);
    env.push(("PIPETEL_DASHBOARD_ADDR", "127.0.0.1:0".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut driver = start(
        WORKER,
        &["--batches", "10", "--rows", "100", "--then-sleep-s", "120"],
        &env,
    );
    let (url, lines) = pipetel_tests::watch_stderr(&mut driver, "pipetel: dashboard at ");
    let url = url
        .recv_timeout(Duration::from_secs(120))
        .expect("the dashboard's address");
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client");
    let get = |path: &str| {
        client
            .get(format!("{url}{path}"))
            .send()
            .and_then(|response| response.text())
            .expect("GET")
    };
    // Once the driver's own work is in: the job's four processes, summed.
    let deadline = Instant::now() + Duration::from_secs(120);
    let merged = loop {
        let snapshot = Snapshot::from_json(&get("api/snapshot.json")).expect("a snapshot");
        let rows = snapshot
            .operator("scan", "numbers")
            .map_or(0, |op| op.rows.produced);
        if rows == 4_000 {
            break snapshot;
        }
        assert!(rows < 4_000, "{rows} rows: more than the job's");
        assert!(Instant::now() < deadline, "the driver's rows never came");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(merged.sources.len(), 4);
    let view: serde_json::Value = serde_json::from_str(&get("api/view.json")).expect("json");
    let mut states: Vec<&str> = view["processes"]
        .as_array()
        .expect("the job's processes")
        .iter()
        .map(|process| process["state"].as_str().expect("a state"))
        .collect();
    states.sort_unstable();
    assert_eq!(states, ["done", "done", "done", "running"]);
    let report = view["report"].as_str().expect("the report");
    assert!(
        report.contains(&format!("PROCESSES 4 (job {JOB}): 3 done, 1 running")),
        "{report}"
    );
    assert!(report.contains("4 workers: rows"), "{report}");
    driver.kill().expect("stop the driver");
    let _ = driver.wait();
    let stderr = lines.join().expect("the driver's stderr");
    assert!(
        stderr.iter().any(|line| line.contains("notes.json")
            && line.contains("the dashboard leaves it out")),
        "{stderr:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_snapshot_directory_that_cannot_be_made_is_named_and_the_program_runs_on() {
    let dir = snapshot_dir("not-a-directory");
    std::fs::create_dir_all(&dir).expect("a directory");
    // A path below a file: no directory can be made there.
    let file = dir.join("a-file");
    std::fs::write(&file, "").expect("write");
    let below = file.join("snapshots");
    let env = [("PIPETEL_SNAPSHOT_DIR", below.to_str().expect("utf-8"))];
    let output = wait_for_exit(
        start(WORKER, &["--batches", "2", "--rows", "10"], &env),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "90");
    assert!(
        stderr.contains(&format!("PIPETEL_SNAPSHOT_DIR={}", below.display()))
            && stderr.contains("no snapshots written"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
