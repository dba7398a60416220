//! With pipetel's `enabled` feature off, an annotated function is the plain function:
//! `cargo bench --manifest-path tests/feature-off/Cargo.toml` measures both, and an async
//! and a streaming operator against their plain twins, in one run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

type Batch = [u64; 4];

#[inline(never)]
fn plain(batch: &Batch) -> u64 {
    batch.iter().sum()
}

#[pipetel::operator(node_type = "filter")]
#[inline(never)]
fn operator(batch: &Batch) -> u64 {
    batch.iter().sum()
}

fn plain_iterator(items: u64) -> impl Iterator<Item = [u64; 4]> {
    (0..items).map(|i| [i, i + 1, i + 2, i + 3])
}

#[pipetel::operator(node_type = "scan")]
fn operator_iterator(items: u64) -> impl Iterator<Item = [u64; 4]> {
    (0..items).map(|i| [i, i + 1, i + 2, i + 3])
}

fn feature_off(c: &mut Criterion) {
    // Asked for, and ignored: the feature is off.
    let _telemetry = pipetel::Config::new().collect_locally(true).init();
    let mut group = c.benchmark_group("feature_off_per_call");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("plain", |b| b.iter(|| plain(black_box(&[1, 2, 3, 4]))));
    group.bench_function("operator", |b| {
        b.iter(|| operator(black_box(&[1, 2, 3, 4])))
    });
    group.finish();

    let mut group = c.benchmark_group("feature_off_iterator_1024_items");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    let sum = |iterator: &mut dyn Iterator<Item = [u64; 4]>| -> u64 {
        iterator
            .map(|item| black_box(item).iter().sum::<u64>())
            .sum()
    };
    group.bench_function("plain", |b| {
        b.iter(|| sum(&mut plain_iterator(black_box(1024))))
    });
    group.bench_function("operator", |b| {
        b.iter(|| sum(&mut operator_iterator(black_box(1024))))
    });
    group.finish();
}

criterion_group!(benches, feature_off);
criterion_main!(benches);
