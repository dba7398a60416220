//! The per-call cost of `#[operator]` (telemetry on) in many short rounds, as
//! percentiles over the rounds: `cargo bench -p pipetel-benches --bench rounds`.
//!
//! On a shared VM, criterion's estimate (a slope through all its samples) moves with how
//! busy the neighbours are; the fastest rounds are what a call costs when they are not.
//! Each round times `CALLS` calls of the same operator as `overhead.rs` and then `CALLS`
//! TSC clock pairs, so the two are measured side by side all along. To compare two
//! commits, build this bench at each (`cargo bench --bench rounds --no-run`) and run the
//! two binaries alternately, several processes each (BENCHMARKS.md).

use std::hint::black_box;
use std::time::Instant;

use opentelemetry_sdk::metrics::InMemoryMetricExporter;

#[path = "common/peers.rs"]
#[allow(dead_code)]
mod peers;

use peers::{operator, BATCH};

/// Calls a round.
const CALLS: u32 = 2_000_000;
/// Rounds a run.
const ROUNDS: usize = 30;

/// The time per iteration of `iteration`, run `calls` times.
fn round(calls: u32, mut iteration: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..calls {
        iteration();
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(calls)
}

/// The value at `fraction` of the sorted `values`.
fn percentile(values: &[f64], fraction: f64) -> f64 {
    values[((values.len() - 1) as f64 * fraction).round() as usize]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then one short
    // round checks that the bench runs.
    let (rounds, calls) = if std::env::args().any(|arg| arg == "--bench") {
        (ROUNDS, CALLS)
    } else {
        (1, 1_000)
    };
    std::env::set_var("OTEL_METRIC_EXPORT_INTERVAL", "60000");
    let telemetry = pipetel::Config::new()
        .with_metric_exporter(InMemoryMetricExporter::default())
        .init();
    assert!(telemetry.is_enabled());
    let clock = quanta::Clock::new();
    let (mut per_call, mut pairs) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        per_call.push(round(calls, || {
            black_box(operator(black_box(&BATCH)));
        }));
        pairs.push(round(calls, || {
            let start = clock.raw();
            black_box(clock.raw().wrapping_sub(start));
        }));
    }
    per_call.sort_by(f64::total_cmp);
    pairs.sort_by(f64::total_cmp);
    println!("per call, telemetry on, {rounds} rounds of {calls} calls (ns):");
    for (name, values) in [("operator_on", &per_call), ("tsc_clock_pair", &pairs)] {
        println!(
            "{name:16} min {:.2}  p10 {:.2}  p25 {:.2}  median {:.2}",
            values[0],
            percentile(values, 0.1),
            percentile(values, 0.25),
            percentile(values, 0.5),
        );
    }
    drop(telemetry);
}
