//! The tracking allocator's cost: an allocate + free through `pipetel::alloc::Tracking`
//! against the same through the allocator it wraps (the system's), 64 B and 4 KiB, on one
//! thread and on two threads at once charging the same operator (its counters shared:
//! the worst case). Each iteration is one allocation and its free, called through
//! `GlobalAlloc` directly. `cargo bench -p pipetel-allocator-bench`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use pipetel::alloc::Tracking;
use pipetel::Operator;

static TRACKING: Tracking<System> = Tracking::new(System);

/// `iterations` allocations and frees of `size` bytes through `allocator`.
fn churn(allocator: &(dyn GlobalAlloc + Sync), size: usize, iterations: u64) {
    let layout = Layout::from_size_align(size, 8).expect("a layout");
    for _ in 0..iterations {
        // SAFETY: a non-zero layout; the block is freed with it.
        unsafe {
            let block = allocator.alloc(layout);
            black_box(block);
            allocator.dealloc(block, layout);
        }
    }
}

/// `churn` on `threads` threads at once, inside one operator's call on each; the
/// slowest thread's time.
fn churn_on(
    allocator: &'static (dyn GlobalAlloc + Sync),
    size: usize,
    iterations: u64,
    threads: usize,
) -> Duration {
    let operator = Operator::new("bench", "alloc");
    let barrier = std::sync::Barrier::new(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = &barrier;
                scope.spawn(move || {
                    operator.call(|| {
                        barrier.wait();
                        let started = Instant::now();
                        churn(allocator, size, iterations);
                        started.elapsed()
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a thread"))
            .max()
            .unwrap_or_default()
    })
}

fn allocate_and_free(c: &mut Criterion) {
    let _telemetry = pipetel::Config::new().collect_locally(true).init();
    let mut group = c.benchmark_group("allocate + free");
    for size in [64, 4096] {
        for threads in [1, 2] {
            let system: &'static (dyn GlobalAlloc + Sync) = &System;
            let tracking: &'static (dyn GlobalAlloc + Sync) = &TRACKING;
            for (name, allocator) in [("system", system), ("tracking", tracking)] {
                group.bench_function(format!("{name}, {size} B, {threads} thread(s)"), |b| {
                    b.iter_custom(|iterations| churn_on(allocator, size, iterations, threads))
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, allocate_and_free);
criterion_main!(benches);
