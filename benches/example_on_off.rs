//! The main example's run time with telemetry on (every operator and step counted, as for
//! the report or an export) and off, in one process: `cargo bench -p pipetel-benches --bench
//! example_on_off`.
//! 200,000 orders in 8,192-row batches; the file is generated once, outside the timing.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use pipetel_examples::regional_totals::generated;

fn on_off(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("pipetel-bench-{}", std::process::id()));
    let pipeline = generated(&dir, 200_000).expect("orders");
    let run = || pipetel::Pipeline::run(&pipeline, |p| p.run_all()).expect("run");

    let mut group = c.benchmark_group("regional_totals_200k");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("telemetry_off", |b| b.iter(run));
    let telemetry = pipetel::Config::new().collect_locally(true).init();
    assert!(telemetry.is_enabled());
    group.bench_function("telemetry_on", |b| b.iter(run));
    group.finish();
    drop(telemetry);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, on_off);
criterion_main!(benches);
