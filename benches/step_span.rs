//! The cost of a `#[pipeline_step]` span against a raw OpenTelemetry SDK span doing the
//! same (a span named after the step, a rows attribute, ended): `cargo bench -p pipetel-benches
//! --bench step_span`, then `python3 benches/table.py`.
//!
//! Both tracer providers have the same batch processor and an exporter that drops the
//! spans, so the numbers are what the calling thread pays.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SdkTracerProvider;

#[path = "common/peers.rs"]
#[allow(dead_code)]
mod peers;

use peers::{extract, Dropping};

fn step_span(c: &mut Criterion) {
    let mut group = c.benchmark_group("step_span");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));

    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Dropping)
        .build();
    let tracer = provider.tracer("bench");
    group.bench_function("sdk_span", |b| {
        b.iter(|| {
            tracer.in_span("extract", |context| {
                let rows = vec![black_box(7u64); 3];
                context
                    .span()
                    .set_attribute(KeyValue::new("extract.rows", rows.len() as i64));
                rows
            })
        })
    });

    let telemetry = pipetel::Config::new().with_span_exporter(Dropping).init();
    assert!(telemetry.traces_enabled());
    group.bench_function("pipeline_step", |b| b.iter(|| extract(black_box(7))));
    group.finish();
    drop(telemetry);
    let _ = provider.shutdown();
}

criterion_group!(benches, step_span);
criterion_main!(benches);
