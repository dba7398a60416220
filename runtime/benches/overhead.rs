//! The per-call cost of `#[operator]`, measured in one run against the plain function
//! and against peers: `cargo bench -p pipetel --bench overhead`, then
//! `python3 runtime/benches/table.py` prints the table kept in BENCHMARKS.md.
//!
//! Every variant runs the same small operator body (sum four numbers). "on" collects
//! into the SDK's in-memory exporter with a 60 s interval, so no export runs while
//! measuring; the counters are what a real exporter would read.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

type Batch = [u64; 4];
const BATCH: Batch = [1, 2, 3, 4];

#[inline(never)]
fn plain(batch: &Batch) -> u64 {
    batch.iter().sum()
}

#[pipetel::operator(node_type = "filter")]
#[inline(never)]
fn operator(batch: &Batch) -> u64 {
    batch.iter().sum()
}

#[tracing::instrument(skip_all)]
#[inline(never)]
fn traced(batch: &Batch) -> u64 {
    batch.iter().sum()
}

/// The same metric set `#[operator]` keeps, recorded by hand through SDK instruments
/// with the two attributes `node.id` and `node.type` (pre-built, reused every call).
struct SdkSet {
    rows_in: opentelemetry::metrics::Counter<u64>,
    rows_out: opentelemetry::metrics::Counter<u64>,
    duration: opentelemetry::metrics::Counter<u64>,
    active: opentelemetry::metrics::UpDownCounter<i64>,
    completed: opentelemetry::metrics::Counter<u64>,
    attributes: [KeyValue; 2],
}

impl SdkSet {
    fn new(provider: &SdkMeterProvider) -> Self {
        let meter = provider.meter("bench");
        SdkSet {
            rows_in: meter.u64_counter("rows.in").build(),
            rows_out: meter.u64_counter("rows.out").build(),
            duration: meter.u64_counter("duration").build(),
            active: meter.i64_up_down_counter("task.active").build(),
            completed: meter.u64_counter("task.completed").build(),
            attributes: [
                KeyValue::new("node.id", "bench::sdk"),
                KeyValue::new("node.type", "filter"),
            ],
        }
    }

    #[inline(never)]
    fn call(&self, batch: &Batch) -> u64 {
        let attributes = &self.attributes;
        self.rows_in.add(batch.len() as u64, attributes);
        self.active.add(1, attributes);
        let start = Instant::now();
        let out = batch.iter().sum();
        self.duration
            .add(start.elapsed().as_micros() as u64, attributes);
        self.rows_out.add(1, attributes);
        self.completed.add(1, attributes);
        self.active.add(-1, attributes);
        out
    }
}

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
    group.bench_function("tsc_clock_pair", |b| {
        b.iter(|| {
            let start = clock.raw();
            black_box(clock.raw().wrapping_sub(start))
        })
    });

    let provider = SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(InMemoryMetricExporter::default())
                .with_interval(Duration::from_secs(60))
                .build(),
        )
        .build();
    let sdk = SdkSet::new(&provider);
    group.bench_function("sdk_instruments_two_attributes", |b| {
        b.iter(|| sdk.call(black_box(&BATCH)))
    });

    std::env::set_var("OTEL_METRIC_EXPORT_INTERVAL", "60000");
    let telemetry = pipetel::Config::new()
        .with_metric_exporter(InMemoryMetricExporter::default())
        .init();
    assert!(telemetry.is_enabled());
    group.bench_function("operator_on", |b| b.iter(|| operator(black_box(&BATCH))));
    group.bench_function("operator_on_one_thread", |b| {
        b.iter_custom(|iters| threaded(1, iters, operator))
    });
    group.bench_function("operator_on_two_threads", |b| {
        b.iter_custom(|iters| threaded(2, iters, operator))
    });
    group.bench_function("sdk_two_threads", |b| {
        b.iter_custom(|iters| threaded(2, iters, |batch| sdk.call(batch)))
    });
    group.finish();
    drop(telemetry);
}

criterion_group!(benches, overhead);
criterion_main!(benches);
