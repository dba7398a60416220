//! The cost of the async and streaming shapes of `#[operator]`, in one run against the
//! plain function: `cargo bench -p pipetel-benches --bench shapes`, then
//! `python3 benches/table.py` prints the tables kept in BENCHMARKS.md.
//!
//! - `async_per_poll`: an async operator that is pending 15 times before it finishes
//!   (16 polls), each poll summing four numbers; the figure is per poll.
//! - `iterator_per_item`: an operator returning `impl Iterator` over 1,024 items of four
//!   numbers, consumed by a sum; the figure is per item.
//! - `nested_per_call`: an operator calling another operator (exclusive time kept for
//!   both), against the two plain functions.
//!
//! "On" collects into the SDK's in-memory exporter with a 60 s interval (no export runs
//! while measuring); peers: tracing's `Instrument` on the same future, no subscriber.

use std::future::Future;
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use tracing::Instrument as _;

const POLLS: u32 = 16;
const ITEMS: u64 = 1024;

/// Pending once (waking itself), then ready: one more poll of the awaiting operator.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

async fn plain_async(batch: [u64; 4]) -> u64 {
    let mut total = 0;
    for step in 0..POLLS {
        total += black_box(batch).iter().sum::<u64>();
        if step + 1 < POLLS {
            YieldOnce(false).await;
        }
    }
    total
}

#[pipetel::operator(node_type = "async_bench")]
async fn operator_async(batch: [u64; 4]) -> u64 {
    let mut total = 0;
    for step in 0..POLLS {
        total += black_box(batch).iter().sum::<u64>();
        if step + 1 < POLLS {
            YieldOnce(false).await;
        }
    }
    total
}

/// Polls `future` to completion on this thread; returns its output.
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn plain_iterator(items: u64) -> impl Iterator<Item = [u64; 4]> {
    (0..items).map(|i| [i, i + 1, i + 2, i + 3])
}

#[pipetel::operator(node_type = "iterator_bench")]
fn operator_iterator(items: u64) -> impl Iterator<Item = [u64; 4]> {
    (0..items).map(|i| [i, i + 1, i + 2, i + 3])
}

#[inline(never)]
fn plain_inner(batch: &[u64; 4]) -> u64 {
    batch.iter().sum()
}

#[inline(never)]
fn plain_outer(batch: &[u64; 4]) -> u64 {
    plain_inner(batch) + 1
}

#[pipetel::operator(node_type = "nested_bench")]
#[inline(never)]
fn operator_inner(batch: &[u64; 4]) -> u64 {
    batch.iter().sum()
}

#[pipetel::operator(node_type = "nested_bench")]
#[inline(never)]
fn operator_outer(batch: &[u64; 4]) -> u64 {
    operator_inner(batch) + 1
}

fn sum_items(iterator: impl Iterator<Item = [u64; 4]>) -> u64 {
    iterator
        .map(|item| black_box(item).iter().sum::<u64>())
        .sum()
}

fn shapes(c: &mut Criterion) {
    let batch = [1u64, 2, 3, 4];
    let bench = |c: &mut Criterion, suffix: &str| {
        let mut group = c.benchmark_group("async_per_poll");
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        group.throughput(criterion::Throughput::Elements(u64::from(POLLS)));
        if suffix == "off" {
            group.bench_function("plain", |b| b.iter(|| run(plain_async(black_box(batch)))));
            group.bench_function("tracing_instrument_no_subscriber", |b| {
                b.iter(|| run(plain_async(black_box(batch)).instrument(tracing::info_span!("op"))))
            });
        }
        group.bench_function(format!("operator_{suffix}"), |b| {
            b.iter(|| run(operator_async(black_box(batch))))
        });
        group.finish();

        let mut group = c.benchmark_group("iterator_per_item");
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        group.throughput(criterion::Throughput::Elements(ITEMS));
        if suffix == "off" {
            group.bench_function("plain", |b| {
                b.iter(|| sum_items(plain_iterator(black_box(ITEMS))))
            });
        }
        group.bench_function(format!("operator_{suffix}"), |b| {
            b.iter(|| sum_items(operator_iterator(black_box(ITEMS))))
        });
        group.finish();

        let mut group = c.benchmark_group("nested_per_call");
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        if suffix == "off" {
            group.bench_function("plain", |b| b.iter(|| plain_outer(black_box(&batch))));
        }
        group.bench_function(format!("operator_{suffix}"), |b| {
            b.iter(|| operator_outer(black_box(&batch)))
        });
        group.finish();
    };
    bench(c, "off");
    std::env::set_var("OTEL_METRIC_EXPORT_INTERVAL", "60000");
    let telemetry = pipetel::Config::new()
        .with_metric_exporter(InMemoryMetricExporter::default())
        .init();
    assert!(telemetry.is_enabled());
    bench(c, "on");
    drop(telemetry);
}

criterion_group!(benches, shapes);
criterion_main!(benches);
