//! One worker process of a job spread over several, to test the snapshot directory: a
//! scan of `--batches B` batches of `--rows R` numbers (sleeping `--sleep-ms S` before
//! each, as a slow read would), a filter keeping the even ones, and a sum. It counts
//! locally and writes where `PIPETEL_SNAPSHOT_DIR` says; `--then-sleep-s T` keeps it
//! running for T seconds after the work (a test kills it there). It prints the sum.
//!
//! With `--jobs J`, it serves J jobs at once instead, as a long-lived worker of a
//! distributed engine does: on a thread each, a query that is its part of job
//! `job-<j>` scans `--batches B` batches of `(j + 1) * R` rows.

use std::time::Duration;

#[path = "../../../benches/common/arguments.rs"]
mod arguments;

use arguments::argument;
use pipetel::engine::Query;
use pipetel::{operator, Config};

#[operator(node_type = "scan", node_id = "numbers")]
fn scan(batches: u64, rows: u64, sleep: Duration) -> impl Iterator<Item = Vec<u64>> {
    (0..batches).map(move |batch| {
        std::thread::sleep(sleep);
        (batch * rows..(batch + 1) * rows).collect()
    })
}

#[operator(node_type = "filter", node_id = "even")]
fn keep_even(input: impl Iterator<Item = Vec<u64>>) -> impl Iterator<Item = Vec<u64>> {
    input.map(|batch| batch.into_iter().filter(|n| n % 2 == 0).collect())
}

#[operator(node_type = "sink", node_id = "sum")]
fn sum(input: impl Iterator<Item = Vec<u64>>) -> u64 {
    input.flatten().sum()
}

/// This process's part of job `job-<j>`: `batches` batches of `(j + 1) * rows` rows.
fn part_of_job(j: u64, batches: u64, rows: u64) {
    let query = Query::start_in_job(&format!("job-{j}"));
    let scan = query.operator("scan", "numbers");
    let batches = (0..batches).map(|_| vec![0u8; ((j + 1) * rows) as usize]);
    scan.iter(batches).for_each(drop);
}

fn main() {
    let telemetry = Config::new().collect_locally(true).init();
    let jobs: u64 = argument("--jobs", 0);
    if jobs > 0 {
        let (batches, rows): (u64, u64) = (argument("--batches", 10), argument("--rows", 100));
        std::thread::scope(|scope| {
            for j in 0..jobs {
                scope.spawn(move || part_of_job(j, batches, rows));
            }
        });
        drop(telemetry);
        return;
    }
    let total = sum(keep_even(scan(
        argument("--batches", 10),
        argument("--rows", 100),
        Duration::from_millis(argument("--sleep-ms", 0)),
    )));
    println!("{total}");
    std::thread::sleep(Duration::from_secs(argument("--then-sleep-s", 0)));
    drop(telemetry);
}
