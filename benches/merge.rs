//! A job's merged report from its processes' snapshots: `cargo bench -p pipetel-benches
//! --bench merge`. 64 snapshot files of 1,000 operators each (a real snapshot of this
//! process — each operator called on four threads, so with thread shares and per-call
//! buckets — written as 64 processes), read back and merged by `merge_files`, and the
//! same 64 snapshots merged in memory by `Snapshot::merge`. Before the timings, one
//! read-and-merge measured for its heap: the peak over the snapshots' own bytes, from a
//! counting allocator around the system's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use pipetel::snapshot::{merge_files, Snapshot};

/// The system allocator, counting the bytes held now and the most held since a reset.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to `System` unchanged; the counters only watch.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let held = HELD.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(held, Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(pointer, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const OPERATORS: usize = 1_000;
const PROCESSES: usize = 64;

/// A snapshot of this process after each of `OPERATORS` operators handed out batches of
/// several sizes on four threads.
fn one_process() -> Snapshot {
    let operators: Vec<pipetel::Operator> = (0..OPERATORS)
        .map(|id| pipetel::Operator::new("bench_merge", &id))
        .collect();
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let operators = &operators;
            scope.spawn(move || {
                for (n, op) in operators.iter().enumerate() {
                    let batches = (0..4).map(|b| vec![0u8; 1 + (n + thread + b) % 200]);
                    op.iter(batches).for_each(drop);
                }
            });
        }
    });
    pipetel::snapshot()
}

/// `snapshot` as written by `PROCESSES` processes into `PIPETEL_SNAPSHOT_DIR`, one file
/// each (compact JSON, as pipetel writes them), into `dir`; and the bytes written.
fn write_processes(snapshot: &Snapshot, dir: &Path) -> (Vec<Snapshot>, u64) {
    std::fs::create_dir_all(dir).expect("the directory");
    let mut written = 0;
    let processes: Vec<Snapshot> = (0..PROCESSES)
        .map(|n| {
            let mut process = snapshot.clone();
            process.sources[0].instance = format!("process-{n}");
            process.sources[0].pid = n as u32 + 1;
            let json = serde_json::to_string(&process).expect("json");
            written += json.len() as u64;
            std::fs::write(dir.join(format!("process-{n}.json")), json).expect("write");
            process
        })
        .collect();
    (processes, written)
}

fn merge(c: &mut Criterion) {
    let telemetry = pipetel::Config::new().collect_locally(true).init();
    let snapshot = one_process();
    assert_eq!(snapshot.operators.len(), OPERATORS);
    let dir = std::env::temp_dir().join(format!("pipetel-bench-merge-{}", std::process::id()));
    let (processes, written) = write_processes(&snapshot, &dir);

    let before = HELD.load(Relaxed);
    PEAK.store(before, Relaxed);
    let merged = merge_files([&dir]).expect("reads").remove(0);
    let peak = PEAK.load(Relaxed) - before;
    assert_eq!(merged.sources.len(), PROCESSES);
    assert_eq!(merged.operators.len(), OPERATORS);
    let mib = |bytes: usize| bytes as f64 / (1 << 20) as f64;
    eprintln!(
        "{PROCESSES} files of {OPERATORS} operators: {:.1} MiB of JSON ({:.2} MiB each; \
         {:.2} MiB pretty-printed); reading and merging them held at most {:.1} MiB of heap \
         at once; the merged snapshot is {:.1} MiB of JSON",
        mib(written as usize),
        mib(written as usize / PROCESSES),
        mib(pipetel::Report::of(snapshot.clone()).json().len()),
        mib(peak),
        mib(serde_json::to_string(&merged).expect("json").len())
    );

    let mut group = c.benchmark_group("merge_64_processes_of_1000_operators");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("merge_files", |b| {
        b.iter(|| merge_files([&dir]).expect("reads"))
    });
    group.bench_function("snapshot_merge_in_memory", |b| {
        b.iter_batched(
            || processes.clone(),
            Snapshot::merge,
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
    drop(telemetry);
}

criterion_group!(benches, merge);
criterion_main!(benches);
