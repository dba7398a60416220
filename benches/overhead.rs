//! The per-call cost of `#[operator]`, measured in one run against the plain function
//! and against peers: `cargo bench -p pipetel-benches --bench overhead`, then
//! `python3 benches/table.py` prints the table kept in BENCHMARKS.md.
//!
//! Every variant runs the same small operator body (sum four numbers), and the `slice_`
//! ones the second body (eight numbers from a slice). "on" collects
//! into the SDK's in-memory exporter with a 60 s interval, so no export runs while
//! measuring; the counters are what a real exporter would read. The peers (tracing, the
//! SDK instruments with attributes per call, and bound once) are in `common/peers.rs`.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;

#[path = "common/peers.rs"]
#[allow(dead_code)]
mod peers;

use peers::{
    operator, operator_slice, plain, plain_slice, traced, traced_slice, Batch, BoundSet,
    Recorder as _, SdkSet, BATCH, SLICE,
};

/// `iters` calls on each of `threads` threads started together; the time per call per thread.
fn threaded(threads: usize, iters: u64, call: impl Fn(&Batch) -> u64 + Sync) -> Duration {
    let barrier = Barrier::new(threads);
    let elapsed: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(call(black_box(&BATCH)));
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("bench thread"))
            .collect()
    });
    elapsed.into_iter().max().unwrap_or_default()
}

fn overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_call");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));

    group.bench_function("plain", |b| b.iter(|| plain(black_box(&BATCH))));
    group.bench_function("operator_off", |b| b.iter(|| operator(black_box(&BATCH))));
    group.bench_function("tracing_instrument_no_subscriber", |b| {
        b.iter(|| traced(black_box(&BATCH)))
    });
    let clock = quanta::Clock::new();
    // The body between the clock pair pipetel reads: what "on" is compared with.
    group.bench_function("tsc_clock_pair", |b| {
        b.iter(|| {
            let start = clock.raw();
            let sum = plain(black_box(&BATCH));
            sum.wrapping_add(clock.raw().wrapping_sub(start))
        })
    });
    // The second body: eight numbers from a slice (see `common/peers.rs`).
    group.bench_function("slice_plain", |b| b.iter(|| plain_slice(black_box(&SLICE))));
    group.bench_function("slice_operator_off", |b| {
        b.iter(|| operator_slice(black_box(&SLICE)))
    });
    group.bench_function("slice_tracing_instrument_no_subscriber", |b| {
        b.iter(|| traced_slice(black_box(&SLICE)))
    });
    group.bench_function("slice_tsc_clock_pair", |b| {
        b.iter(|| {
            let start = clock.raw();
            let sum = plain_slice(black_box(&SLICE));
            sum.wrapping_add(clock.raw().wrapping_sub(start))
        })
    });

    let provider = peers::meter_provider();
    let sdk = SdkSet::new(&provider);
    group.bench_function("sdk_instruments_two_attributes", |b| {
        b.iter(|| sdk.call(black_box(&BATCH)))
    });
    let bound = BoundSet::new(&provider);
    group.bench_function("sdk_bound_instruments", |b| {
        b.iter(|| bound.call(black_box(&BATCH)))
    });
    group.bench_function("slice_sdk_instruments_two_attributes", |b| {
        b.iter(|| sdk.call_slice(black_box(&SLICE)))
    });
    group.bench_function("slice_sdk_bound_instruments", |b| {
        b.iter(|| bound.call_slice(black_box(&SLICE)))
    });

    std::env::set_var("OTEL_METRIC_EXPORT_INTERVAL", "60000");
    let telemetry = pipetel::Config::new()
        .with_metric_exporter(InMemoryMetricExporter::default())
        .init();
    assert!(telemetry.is_enabled());
    group.bench_function("operator_on", |b| b.iter(|| operator(black_box(&BATCH))));
    group.bench_function("slice_operator_on", |b| {
        b.iter(|| operator_slice(black_box(&SLICE)))
    });
    // Nested in another operator: each call also counts a batch on their graph edge.
    let consumer = pipetel::Operator::new("consumer", "bench");
    group.bench_function("operator_on_nested", |b| {
        consumer.in_scope(|| b.iter(|| operator(black_box(&BATCH))))
    });
    group.bench_function("operator_on_one_thread", |b| {
        b.iter_custom(|iters| threaded(1, iters, operator))
    });
    group.bench_function("operator_on_two_threads", |b| {
        b.iter_custom(|iters| threaded(2, iters, operator))
    });
    group.bench_function("sdk_two_threads", |b| {
        b.iter_custom(|iters| threaded(2, iters, |batch| sdk.call(batch)))
    });
    group.bench_function("sdk_bound_two_threads", |b| {
        b.iter_custom(|iters| threaded(2, iters, |batch| bound.call(batch)))
    });
    group.finish();
    drop(telemetry);
}

criterion_group!(benches, overhead);
criterion_main!(benches);
