//! The CPU cost of one metrics collection and of one `snapshot()`, against the number of
//! series (10 … 10,000) and of threads that ever counted them (1 … 256).
//!
//! Every point runs in a child process of its own (the series and the threads' shards are
//! process-wide and never freed), which: starts telemetry with a metric exporter that
//! drops what it is given, counts one call of every series on each of T threads alive
//! throughout, then times, in process CPU time (`CLOCK_PROCESS_CPUTIME_ID`, which
//! includes the SDK's reader thread doing the collection), `ROUNDS` forced collections
//! and `ROUNDS` snapshots, each after one more call of every series on every thread,
//! untimed — the worst case, where every (series, thread) pair changed since the previous
//! read — and prints the medians. (The timed reads include the threads' waiting at their
//! barrier, which costs no CPU.) Run with `cargo bench --bench collection`
//! (`-- --quick` for the smaller grid); BENCHMARKS.md ("Collection") has the results.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use pipetel::Config;

const ROUNDS: usize = 7;

/// Drops every export (after looking at it, so that nothing is optimised away).
struct Dropping;

impl PushMetricExporter for Dropping {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        black_box(metrics.scope_metrics().count());
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// One call of plan node `node`: a run-time operator, made once per node and called on
/// every thread (no per-thread cache of ids, so that the memory measured per (series,
/// thread) is the counters').
fn counted(node: &pipetel::Operator) -> usize {
    node.call(|| black_box(vec![0u8; 2]).len())
}

/// Resident memory of this process, in bytes (`VmRSS` of `/proc/self/status`).
fn resident() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// Process CPU time so far.
fn cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write to.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The median CPU time of `ROUNDS` runs of `work`, each after an untimed `prepare`.
fn median_cpu_after(mut prepare: impl FnMut(), mut work: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            prepare();
            let before = cpu();
            work();
            cpu() - before
        })
        .collect();
    times.sort();
    times[ROUNDS / 2]
}

/// One point, in this (child) process: prints `series threads collect_us snapshot_us
/// pair_bytes series_export_bytes first_collect_us` — the resident memory the first round
/// of calls added per (series, thread) pair, what the first snapshot and collection added
/// per series, and the first collection's CPU time (it binds every series' instruments).
fn point(series: usize, threads: usize) {
    // SAFETY: set before any thread of this process starts.
    unsafe { std::env::set_var("OTEL_METRIC_EXPORT_INTERVAL", "3600000") };
    // No watcher's snapshot in the process's CPU time while a collection or a snapshot
    // is timed: the watcher takes one a second (at most 1 % of a core), and one landing in
    // a timed round added its whole time to that round.
    let mut thresholds = pipetel::diagnose::Thresholds::default();
    thresholds.check_every = Duration::from_secs(3600);
    let telemetry = Config::new()
        .max_node_ids_per_type(series)
        .process_metrics(false)
        .thresholds(thresholds)
        .with_metric_exporter(Dropping)
        .init();
    // Every thread calls every series once per round: the first round, then one before
    // each timed collection and each timed snapshot (untimed), so that each reads the
    // worst case: every (series, thread) pair changed since the previous read.
    let rounds = 1 + 2 * ROUNDS;
    let (go, done) = (
        Arc::new(Barrier::new(threads + 1)),
        Arc::new(Barrier::new(threads + 1)),
    );
    let nodes: Arc<Vec<pipetel::Operator>> = Arc::new(
        (0..series)
            .map(|id| pipetel::Operator::new("bench", &id.to_string()))
            .collect(),
    );
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (go, done, nodes) = (go.clone(), done.clone(), nodes.clone());
            // All alive throughout, so that each keeps a shard of its own.
            std::thread::spawn(move || {
                for _ in 0..rounds {
                    go.wait();
                    for node in nodes.iter() {
                        black_box(counted(node));
                    }
                    done.wait();
                }
            })
        })
        .collect();
    let every_thread_calls_every_series = || {
        go.wait();
        done.wait();
    };
    let before_calls = resident();
    every_thread_calls_every_series();
    let after_calls = resident();
    let first_started = cpu();
    telemetry.flush();
    let first_collect = cpu() - first_started;
    let after_export = resident();
    // Checked after the export state is measured: a snapshot is the caller's memory, not
    // the export's, and one kept alive (or freed, and its pages reused) would count there.
    let snapshot = pipetel::snapshot();
    assert_eq!(snapshot.operators.len(), series);
    assert!(snapshot
        .operators
        .iter()
        .all(|operator| operator.calls.completed == threads as u64));
    drop(snapshot);
    let pair_bytes = after_calls.saturating_sub(before_calls) / (series * threads) as u64;
    let series_export_bytes = after_export.saturating_sub(after_calls) / series as u64;
    let collect = median_cpu_after(every_thread_calls_every_series, || telemetry.flush());
    let snapshot = median_cpu_after(every_thread_calls_every_series, || {
        black_box(pipetel::snapshot());
    });
    for worker in workers {
        worker.join().expect("worker");
    }
    println!(
        "{series} {threads} {} {} {pair_bytes} {series_export_bytes} {}",
        collect.as_micros(),
        snapshot.as_micros(),
        first_collect.as_micros()
    );
}

/// Which points the SDK peer keeps per series.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PeerPoints {
    /// Ten `u64` counters.
    TenCounters,
    /// The points pipetel exports for an operator that ran on one thread: its ten operator
    /// metrics (eight `u64` counters, busy time as an `f64` counter, calls running as an
    /// up-down counter) and its two call histograms, with pipetel's buckets.
    Pipetels,
}

/// The peer: the OpenTelemetry SDK alone collecting `points` for each of `series`
/// attribute sets (the same two attributes), every one changed since the previous
/// collection (the adds untimed). Prints `series sdk_collect_us series_bytes`: the last,
/// what the first adds and collection took per series.
fn sdk_point(series: usize, points: PeerPoints) {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::KeyValue;

    // The same cardinality limit as pipetel's instruments: without it the SDK would keep
    // 2,000 of the series and fold the rest into one point.
    let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_view(|_: &opentelemetry_sdk::metrics::Instrument| {
            opentelemetry_sdk::metrics::Stream::builder()
                .with_cardinality_limit(32_768)
                .build()
                .ok()
        })
        .with_reader(
            opentelemetry_sdk::metrics::PeriodicReader::builder(Dropping)
                .with_interval(Duration::from_secs(3600))
                .build(),
        )
        .build();
    let meter = provider.meter("peer");
    let counters = match points {
        PeerPoints::TenCounters => 10,
        PeerPoints::Pipetels => 8,
    };
    let counters: Vec<_> = (0..counters)
        .map(|index| meter.u64_counter(format!("counter.{index}")).build())
        .collect();
    let pipetels = points == PeerPoints::Pipetels;
    let seconds = pipetels.then(|| meter.f64_counter("duration").build());
    let active = pipetels.then(|| meter.i64_up_down_counter("active").build());
    let histograms = pipetels.then(|| {
        (
            meter
                .f64_histogram("call.duration")
                .with_boundaries(pipetel::names::CALL_DURATION_BUCKETS.to_vec())
                .build(),
            meter
                .u64_histogram("call.rows")
                .with_boundaries(pipetel::names::CALL_ROWS_BUCKETS.to_vec())
                .build(),
        )
    });
    let attributes: Vec<[KeyValue; 2]> = (0..series)
        .map(|id| {
            [
                KeyValue::new("node.id", &*Box::leak(id.to_string().into_boxed_str())),
                KeyValue::new("node.type", "bench"),
            ]
        })
        .collect();
    let add_all = || {
        for counter in &counters {
            for attributes in &attributes {
                counter.add(1, attributes);
            }
        }
        for attributes in &attributes {
            if let Some(seconds) = &seconds {
                seconds.add(1e-6, attributes);
            }
            if let Some(active) = &active {
                active.add(0, attributes);
            }
            if let Some((duration, rows)) = &histograms {
                duration.record(1e-6, attributes);
                rows.record(2, attributes);
            }
        }
    };
    let before = resident();
    add_all();
    provider.force_flush().expect("flush");
    let series_bytes = resident().saturating_sub(before) / series as u64;
    let collect = median_cpu_after(add_all, || {
        provider.force_flush().expect("flush");
    });
    println!("{series} {} {series_bytes}", collect.as_micros());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--point") {
        let number = |offset: usize| args[at + offset].parse().expect("a number");
        point(number(1), number(2));
        return;
    }
    if let Some(at) = args.iter().position(|arg| arg == "--sdk-point") {
        sdk_point(
            args[at + 1].parse().expect("a number"),
            PeerPoints::TenCounters,
        );
        return;
    }
    if let Some(at) = args.iter().position(|arg| arg == "--sdk-pipetels-points") {
        sdk_point(
            args[at + 1].parse().expect("a number"),
            PeerPoints::Pipetels,
        );
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` runs the smallest point only.
    let quick = args.iter().any(|arg| arg == "--quick");
    let benching = args.iter().any(|arg| arg == "--bench");
    let (series, threads): (&[usize], &[usize]) = if !benching {
        (&[10], &[1])
    } else if quick {
        (&[10, 10_000], &[1, 64])
    } else {
        (&[10, 100, 1_000, 10_000], &[1, 4, 16, 64, 256])
    };
    let program = std::env::current_exe().expect("this benchmark's path");
    let run_point = |args: &[String]| -> Vec<u128> {
        let output = std::process::Command::new(&program)
            .args(args)
            .output()
            .expect("run a point");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
            .split_whitespace()
            .map(|field| field.parse().expect("a number"))
            .collect()
    };
    let ms = |micros: u128| format!("{:.2} ms", micros as f64 / 1000.0);
    println!(
        "| series | threads | one collection (CPU) | the first | one snapshot (CPU) | the SDK alone collecting as many points | memory per (series, thread) | export state per series | the SDK alone, per series | the SDK alone keeping pipetel's points, per series |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &series_count in series {
        let peer = run_point(&["--sdk-point".to_owned(), series_count.to_string()]);
        let same = run_point(&["--sdk-pipetels-points".to_owned(), series_count.to_string()]);
        for &thread_count in threads {
            let fields = run_point(&[
                "--point".to_owned(),
                series_count.to_string(),
                thread_count.to_string(),
            ]);
            println!(
                "| {series_count} | {thread_count} | {} | {} | {} | {} | {} B | {:.1} KiB | {:.1} KiB | {:.1} KiB |",
                ms(fields[2]),
                ms(fields[6]),
                ms(fields[3]),
                ms(peer[1]),
                fields[4],
                fields[5] as f64 / 1024.0,
                peer[2] as f64 / 1024.0,
                same[2] as f64 / 1024.0
            );
        }
    }
}
