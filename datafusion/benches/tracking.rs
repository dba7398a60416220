//! Each query of the shared workload with pipetel's rule, the tracking allocator on
//! against off: `pipetel::alloc::Tracking<System>` as the global allocator, or `System`.
//!
//! A program has one global allocator for its whole life, so the two are two processes:
//! this binary runs itself as a child in either mode (`PIPETEL_BENCH_TRACKING=1` or `0`,
//! read before the first allocation), the modes alternating round by round as the
//! interleaved benchmarks' runs do; each child times every query and prints its medians,
//! and the ratio is the median of the per-round ratios. 1 million orders, 4 partitions
//! (`-- --orders N`, `-- --rounds N`). `cargo bench -p pipetel-datafusion --bench
//! tracking`.

#[path = "../../benches/common/arguments.rs"]
mod arguments;
#[path = "../workload.rs"]
mod workload;

use arguments::argument;

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::time::{Duration, Instant};

use pipetel::alloc::Tracking;

const PARTITIONS: usize = 4;
/// Runs of each query a child times (after one to warm up); it reports their median.
const RUNS: usize = 7;
/// The environment variable that says a child's mode.
const MODE: &str = "PIPETEL_BENCH_TRACKING";

/// `System`, or `Tracking<System>`, as the process's environment said at its first
/// allocation — for the whole life of the process, so every block is freed by the
/// allocator that made it.
struct Either;

static TRACKING: Tracking<System> = Tracking::new(System);
/// 0: not read yet; 1: the system's; 2: tracking.
static CHOSEN: AtomicU8 = AtomicU8::new(0);

impl Either {
    #[inline]
    fn tracking(&self) -> bool {
        match CHOSEN.load(Relaxed) {
            0 => {
                // `getenv` allocates nothing: safe to call inside the allocator.
                // SAFETY: a NUL-terminated name; the result is only compared.
                let value = unsafe { libc::getenv(c"PIPETEL_BENCH_TRACKING".as_ptr()) };
                // SAFETY: a non-null result is a NUL-terminated string of the environment.
                let on = !value.is_null() && unsafe { *value } == b'1' as libc::c_char;
                CHOSEN.store(if on { 2 } else { 1 }, Relaxed);
                on
            }
            chosen => chosen == 2,
        }
    }
}

// SAFETY: each call goes to the one allocator chosen for the process's whole life.
unsafe impl GlobalAlloc for Either {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's promises, passed on.
        unsafe {
            if self.tracking() {
                TRACKING.alloc(layout)
            } else {
                System.alloc(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above; `ptr` is the chosen allocator's.
        unsafe {
            if self.tracking() {
                TRACKING.dealloc(ptr, layout)
            } else {
                System.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        unsafe {
            if self.tracking() {
                TRACKING.alloc_zeroed(layout)
            } else {
                System.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        unsafe {
            if self.tracking() {
                TRACKING.realloc(ptr, layout, new_size)
            } else {
                System.realloc(ptr, layout, new_size)
            }
        }
    }
}

#[global_allocator]
static ALLOCATOR: Either = Either;

fn main() {
    let orders: i64 = argument("--orders", 1_000_000);
    let rounds: usize = argument("--rounds", 9);
    let child = std::env::args().any(|arg| arg == "--child");
    if child {
        for time in time_queries(orders) {
            println!("{}", time.as_nanos());
        }
        return;
    }
    let run = |tracking: bool| -> Vec<Duration> {
        let output = Command::new(std::env::current_exe().expect("this program"))
            .args(["--child", "--orders", &orders.to_string()])
            .env(MODE, if tracking { "1" } else { "0" })
            .output()
            .expect("a child");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| Duration::from_nanos(line.parse().expect("nanoseconds")))
            .collect()
    };
    let mut ratios = vec![Vec::new(); workload::QUERIES.len()];
    let (mut off_times, mut on_times) = (ratios.clone(), ratios.clone());
    for round in 0..rounds {
        let (off, on) = if round % 2 == 0 {
            let off = run(false);
            (off, run(true))
        } else {
            let on = run(true);
            (run(false), on)
        };
        for (query, (off, on)) in off.iter().zip(&on).enumerate() {
            ratios[query].push(on.as_secs_f64() / off.as_secs_f64());
            off_times[query].push(off.as_secs_f64());
            on_times[query].push(on.as_secs_f64());
        }
    }
    println!("{orders} orders, {PARTITIONS} partitions, {rounds} rounds of two processes");
    println!(
        "{:<20} {:>12} {:>12} {:>10}",
        "query", "off", "tracking", "ratio"
    );
    for (query, (shape, _)) in workload::QUERIES.iter().enumerate() {
        println!(
            "{shape:<20} {:>10.2}ms {:>10.2}ms {:>10.3}",
            median(&mut off_times[query]) * 1e3,
            median(&mut on_times[query]) * 1e3,
            median(&mut ratios[query])
        );
    }
}

/// Each query's median time over [`RUNS`] runs after one to warm up, with pipetel's rule
/// and telemetry on (collected locally).
fn time_queries(orders: i64) -> Vec<Duration> {
    let _telemetry = pipetel::Config::new().collect_locally(true).init();
    let ctx = workload::session(true, orders, PARTITIONS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    workload::QUERIES
        .iter()
        .map(|(_, sql)| {
            let mut times: Vec<Duration> = (0..=RUNS)
                .map(|_| {
                    runtime.block_on(async {
                        let started = Instant::now();
                        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
                        std::hint::black_box(batches);
                        started.elapsed()
                    })
                })
                .skip(1)
                .collect();
            times.sort();
            times[times.len() / 2]
        })
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    values[values.len() / 2]
}
