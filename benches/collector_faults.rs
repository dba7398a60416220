//! The main example's run time with telemetry exporting to a collector that misbehaves,
//! against telemetry off, in one process: `cargo bench -p pipetel-benches --bench
//! collector_faults`. `PIPETEL_BENCH_FAULT` picks the collector: `stalled` (default:
//! accepts connections and never answers) or `refused` (a closed port). Metrics, traces
//! and logs are all exported every 100 ms (`OTEL_METRIC_EXPORT_INTERVAL`,
//! `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BLRP_SCHEDULE_DELAY`), so exports fail or hang all
//! through the measurement. `none` is the control: the second phase starts no telemetry
//! either, so it shows what running second costs by itself. After the timing it prints the process's resident memory
//! before and after the faulty phase, and how many runs that phase made.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use pipetel_examples::regional_totals::generated;

/// Resident memory of this process, in KiB (`VmRSS` of `/proc/self/status`).
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A loopback endpoint for the chosen fault; the listener (if any) must stay alive.
fn faulty_endpoint(fault: &str) -> (String, Option<TcpListener>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr");
    match fault {
        "refused" => (format!("http://{address}"), None),
        _ => {
            let holder = listener.try_clone().expect("listener");
            std::thread::spawn(move || {
                let mut held: Vec<TcpStream> = Vec::new();
                for stream in holder.incoming().flatten() {
                    held.push(stream);
                }
            });
            (format!("http://{address}"), Some(listener))
        }
    }
}

fn collector_faults(c: &mut Criterion) {
    let fault = std::env::var("PIPETEL_BENCH_FAULT").unwrap_or_else(|_| "stalled".into());
    let dir = std::env::temp_dir().join(format!("pipetel-faults-{}", std::process::id()));
    let pipeline = generated(&dir, 200_000).expect("orders");
    let runs = AtomicU64::new(0);
    let run = || {
        runs.fetch_add(1, Ordering::Relaxed);
        pipetel::Pipeline::run(&pipeline, |p| p.run_all()).expect("run")
    };

    let (endpoint, _listener) = faulty_endpoint(&fault);
    for (name, value) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "100"),
    ] {
        std::env::set_var(name, value);
    }
    // `none`: the control — the exporting phases start no telemetry either, which shows
    // what the order of the phases costs by itself.
    let start_telemetry = || {
        (fault != "none").then(|| {
            let telemetry = pipetel::Config::new()
                .shutdown_timeout(Duration::from_millis(200))
                .install_log_subscriber(false)
                .init();
            assert!(telemetry.is_exporting());
            telemetry
        })
    };

    // Phases in the order off, exporting, exporting, off, so that a drift of the
    // machine over the run (this VM slows down by several percent over a minute, with
    // or without telemetry) weighs on both sides alike.
    let mut group = c.benchmark_group(format!("collector_{fault}"));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(6));
    let totals = std::cell::RefCell::new([(Duration::ZERO, 0u64); 2]);
    let phase = |group: &mut criterion::BenchmarkGroup<'_, _>, name: &str, side: usize| {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    run();
                }
                let elapsed = started.elapsed();
                let mut totals = totals.borrow_mut();
                totals[side].0 += elapsed;
                totals[side].1 += iters;
                elapsed
            })
        });
    };
    phase(&mut group, "off_1", 0);
    let before = resident_kib();
    let runs_before = runs.load(Ordering::Relaxed);
    let telemetry = start_telemetry();
    phase(&mut group, "exporting_1", 1);
    let halfway = resident_kib();
    let halfway_runs = runs.load(Ordering::Relaxed) - runs_before;
    phase(&mut group, "exporting_2", 1);
    let after = resident_kib();
    let exporting_runs = runs.load(Ordering::Relaxed) - runs_before;
    drop(telemetry);
    phase(&mut group, "off_2", 0);
    group.finish();
    let per_run = |(total, runs): (Duration, u64)| total.as_secs_f64() * 1e3 / runs.max(1) as f64;
    let [off, exporting] = *totals.borrow();
    eprintln!(
        "collector {fault}: off {:.3} ms per run, exporting {:.3} ms per run, exporting / off {:.4}",
        per_run(off),
        per_run(exporting),
        per_run(exporting) / per_run(off)
    );
    eprintln!(
        "collector {fault}: resident memory {before} KiB before exporting, {halfway} KiB after \
         {halfway_runs} runs, {after} KiB after {exporting_runs} runs"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, collector_faults);
criterion_main!(benches);
