//! How good the progress estimates are: `cargo bench -p pipetel-benches --bench progress_accuracy`
//! prints the table kept in BENCHMARKS.md.
//!
//! A scan → filter → explode → aggregate → write pipeline of Volcano iterators over a
//! known total (the scan says how many rows), run on its own thread while this one takes
//! a snapshot every 50 ms, as the progress display does. For each run: the overall ETA's
//! error once 10 % and 50 % of the input was scanned (`|ETA − time left| ÷ time left`,
//! the time left being measured when the pipeline ends), and each operator's estimated
//! total after 25 % of the input against the total it handled in the end (the write has
//! none then: the aggregate hands out its groups at the end).

use std::hint::black_box;
use std::time::{Duration, Instant};

use pipetel::snapshot::Snapshot;
use pipetel::{current_operator, operator, Config};

const ROWS: u64 = 4_000_000;
const BATCH: u64 = 2_000;
const RUNS: usize = 9;

#[operator(node_type = "scan", node_id = run)]
fn scan(run: &str, rows: u64) -> impl Iterator<Item = Vec<u64>> {
    let _ = run;
    current_operator().set_expected_rows(rows);
    (0..rows / BATCH).map(|batch| (batch * BATCH..(batch + 1) * BATCH).collect())
}

#[operator(node_type = "filter", node_id = run)]
fn filter(run: &str, input: impl Iterator<Item = Vec<u64>>) -> impl Iterator<Item = Vec<u64>> {
    let _ = run;
    input.map(|batch| {
        batch
            .into_iter()
            .filter(|n| n.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 5 < 2)
            .collect()
    })
}

#[operator(node_type = "explode", node_id = run)]
fn explode(run: &str, input: impl Iterator<Item = Vec<u64>>) -> impl Iterator<Item = Vec<u64>> {
    let _ = run;
    input.map(|batch| batch.into_iter().flat_map(|n| [n, n ^ 1, n ^ 2]).collect())
}

#[operator(node_type = "aggregate", node_id = run)]
fn aggregate(run: &str, input: impl Iterator<Item = Vec<u64>>) -> impl Iterator<Item = Vec<u64>> {
    let _ = run;
    std::iter::once_with(move || {
        let mut sums = vec![0u64; 64];
        for batch in input {
            for n in batch {
                // Some work per row, so that a run lasts seconds.
                let mut x = n;
                for _ in 0..600 {
                    x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
                }
                sums[(x % 64) as usize] = sums[(x % 64) as usize].wrapping_add(n);
            }
        }
        sums
    })
}

#[operator(node_type = "write", node_id = run, rows_out = |_| 0u64)]
fn write(run: &str, input: impl Iterator<Item = Vec<u64>>) -> u64 {
    let _ = run;
    input
        .map(|sums| sums.iter().fold(0u64, |a, &b| a.wrapping_add(b)))
        .sum()
}

/// One sample: when, how far the scan was, and the snapshot's overall ETA and totals.
struct Sample {
    at: Instant,
    scanned: f64,
    eta: Option<Duration>,
    snapshot: Snapshot,
}

/// Runs the pipeline with `node.id` `id` (each run its own operators: estimates are kept
/// per operator for the life of the process).
fn run_once(id: &'static str) -> (Vec<Sample>, Instant, Snapshot) {
    let before = pipetel::snapshot();
    let pipeline = std::thread::spawn(move || {
        black_box(write(
            id,
            aggregate(id, explode(id, filter(id, scan(id, ROWS)))),
        ));
        Instant::now()
    });
    let mut samples = Vec::new();
    while !pipeline.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        let snapshot = pipetel::snapshot().since(&before);
        let scanned = snapshot
            .operators
            .iter()
            .find(|op| op.node_type == "scan")
            .map_or(0.0, |op| op.rows.produced as f64 / ROWS as f64);
        samples.push(Sample {
            at: Instant::now(),
            scanned,
            eta: snapshot.overall.as_ref().map(|overall| overall.eta),
            snapshot,
        });
    }
    let end = pipeline.join().expect("the pipeline");
    (samples, end, pipetel::snapshot().since(&before))
}

/// The ETA's relative error at the first sample past `fraction` of the input.
fn eta_error(samples: &[Sample], end: Instant, fraction: f64) -> Option<f64> {
    let sample = samples.iter().find(|s| s.scanned >= fraction)?;
    let left = end.duration_since(sample.at).as_secs_f64();
    let eta = sample.eta?.as_secs_f64();
    if std::env::var_os("ACCURACY_DEBUG").is_some() {
        let overall = sample
            .snapshot
            .overall
            .as_ref()
            .map(|o| o.node.node_type.clone());
        eprintln!("at {fraction}: eta {eta:.3} left {left:.3} overall {overall:?}");
    }
    Some((eta - left).abs() / left)
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // cargo test --benches lists benchmarks; there are none to list
    }
    let telemetry = Config::new().collect_locally(true).init();
    println!("| run | seconds | ETA error at 10 % | ETA error at 50 % | worst total error at 25 % (operator) |");
    println!("|---|---:|---:|---:|---|");
    let (mut at_10, mut at_50) = (Vec::new(), Vec::new());
    for run in 1..=RUNS {
        let started = Instant::now();
        let id: &'static str = Box::leak(format!("run-{run}").into_boxed_str());
        let (samples, end, done) = run_once(id);
        let percent =
            |error: Option<f64>| error.map_or("-".to_owned(), |e| format!("{:.1} %", e * 100.0));
        let quarter = samples.iter().find(|s| s.scanned >= 0.25);
        let mut worst = (0.0, String::from("-"));
        if let Some(quarter) = quarter {
            for op in &done.operators {
                let handled = if op.rows.input > 0 {
                    op.rows.input
                } else {
                    op.rows.produced
                };
                let estimated = quarter
                    .snapshot
                    .operators
                    .iter()
                    .find(|q| q.node_type == op.node_type)
                    .and_then(|q| q.estimate.as_ref())
                    .map(|estimate| estimate.expected_rows);
                match estimated {
                    Some(estimated) => {
                        let error = (estimated as f64 - handled as f64).abs() / handled as f64;
                        if error >= worst.0 {
                            worst = (error, op.node_type.clone());
                        }
                    }
                    None => {
                        if op.node_type != "write" {
                            worst = (f64::INFINITY, format!("{} (no estimate)", op.node_type));
                        }
                    }
                }
            }
        }
        at_10.extend(eta_error(&samples, end, 0.10));
        at_50.extend(eta_error(&samples, end, 0.50));
        println!(
            "| {run} | {:.1} | {} | {} | {:.2} % ({}) |",
            end.duration_since(started).as_secs_f64(),
            percent(eta_error(&samples, end, 0.10)),
            percent(eta_error(&samples, end, 0.50)),
            worst.0 * 100.0,
            worst.1
        );
    }
    let median = |errors: &mut Vec<f64>| {
        errors.sort_by(f64::total_cmp);
        errors
            .get(errors.len() / 2)
            .map_or("-".to_owned(), |e| format!("{:.1} %", e * 100.0))
    };
    println!(
        "| median | | {} | {} | |",
        median(&mut at_10),
        median(&mut at_50)
    );
    drop(telemetry);
}
