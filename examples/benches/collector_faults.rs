//! The main example's run time with telemetry exporting to a collector that misbehaves,
//! against telemetry off, in one process: `cargo bench -p pipetel-examples --bench
//! collector_faults`. `PIPETEL_BENCH_FAULT` picks the collector: `stalled` (default:
//! accepts connections and never answers) or `refused` (a closed port). Metrics, traces
//! and logs are all exported every 100 ms (`OTEL_METRIC_EXPORT_INTERVAL`,
//! `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BLRP_SCHEDULE_DELAY`), so exports fail or hang all
//! through the measurement. After the timing it prints the process's resident memory
//! before and after the faulty phase, and how many runs that phase made.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use pipetel_examples::regional_totals::{generate_csv, RegionalTotals};

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
    std::fs::create_dir_all(&dir).expect("dir");
    let pipeline = RegionalTotals {
        source: dir.join("orders.csv"),
        destination: dir.join("totals.csv"),
        batch_rows: 8192,
        min_amount: 500,
    };
    generate_csv(&pipeline.source, 200_000).expect("orders");
    let runs = AtomicU64::new(0);
    let run = || {
        runs.fetch_add(1, Ordering::Relaxed);
        pipetel::Pipeline::run(&pipeline, |p| p.run_all()).expect("run")
    };

    let mut group = c.benchmark_group(format!("collector_{fault}"));
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("telemetry_off", |b| b.iter(run));

    let (endpoint, _listener) = faulty_endpoint(&fault);
    for (name, value) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "100"),
    ] {
        std::env::set_var(name, value);
    }
    let before = resident_kib();
    let runs_before = runs.load(Ordering::Relaxed);
    let telemetry = pipetel::Config::new()
        .shutdown_timeout(Duration::from_millis(200))
        .init();
    assert!(telemetry.is_exporting());
    group.bench_function("telemetry_exporting", |b| b.iter(run));
    group.finish();
    let after = resident_kib();
    eprintln!(
        "collector {fault}: {} runs exporting; resident memory {before} KiB before, {after} KiB after ({:+} KiB)",
        runs.load(Ordering::Relaxed) - runs_before,
        after as i64 - before as i64
    );
    drop(telemetry);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, collector_faults);
criterion_main!(benches);
