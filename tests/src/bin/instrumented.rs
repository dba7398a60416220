//! An instrumented program with a known workload, run by the end-to-end tests as a child
//! process with `OTEL_*` set. Every figure it produces is written down in
//! `tests/tests/end_to_end/export.rs` (`expected_points`).
//!
//! Arguments: `--namespace NS` (Config::namespace), `--until-stdin-closes` (stay alive
//! after the work until standard input closes, for periodic exports and scrapes: the
//! test decides when it has seen enough), `--service-name NAME` (Config::service_name),
//! `--duration-microseconds` (Config::duration_unit: Daft's `duration` in µs),
//! `--dashboard ADDR` (Config::dashboard).

use std::num::ParseIntError;
use std::time::Duration;

use pipetel::{current_operator, operator, Config};

/// 3 calls × 100 rows: rows.out 300, bytes.read 2400; it says so (progress gauges).
#[operator(node_type = "scan")]
fn scan(rows: u64) -> Vec<u64> {
    current_operator().set_expected_rows(300);
    current_operator().add_bytes_read(rows * 8);
    (0..rows).collect()
}

/// rows.in 300, rows.out 150 (the even numbers).
#[operator(node_type = "filter")]
fn keep_even(batch: Vec<u64>) -> Vec<u64> {
    batch.into_iter().filter(|n| n % 2 == 0).collect()
}

/// A custom counter: the batches a sink rejected (1 for sink 1).
static REJECTED: pipetel::engine::OperatorCounter = pipetel::engine::OperatorCounter::new(
    "instrumented.rejected",
    "{batch}",
    "Batches a sink rejected",
);

struct Sink {
    id: u32,
    written: usize,
}

impl Sink {
    /// Fails on an empty batch (an `Err` return) and returns early on a tiny one.
    #[operator(node_type = "sink", node_id = self.id)]
    fn write(&mut self, batch: &[u64]) -> Result<usize, String> {
        if batch.is_empty() {
            REJECTED.add(1);
            return Err("empty batch".into());
        }
        if batch.len() < 5 {
            return Ok(0);
        }
        self.written += batch.len();
        current_operator().add_rows_written(batch.len() as u64);
        current_operator().add_bytes_written(batch.len() as u64 * 8);
        Ok(batch.len())
    }
}

/// A `?` exit counts as failed.
#[operator(node_type = "parse")]
fn parse(text: &str) -> Result<u64, ParseIntError> {
    let value = text.parse::<u64>()?;
    Ok(value)
}

/// Panics on 3; the panic propagates and counts as failed.
#[operator(node_type = "udf", name = "explode")]
fn explode(x: u64) -> u64 {
    assert_ne!(x, 3, "three is not allowed");
    x * 2
}

/// Busy for 30 ms: duration ≥ 30 000 µs.
#[operator(node_type = "sleep")]
fn nap() {
    std::thread::sleep(Duration::from_millis(30));
}

/// Waits for the nap: its 30 ms are starved time (the nap, nested, is its input).
#[operator(node_type = "rest")]
fn rest() {
    nap();
}

/// Called 2 × 5000 times from two threads.
#[operator(node_type = "count")]
fn tick(batch: &[u8; 2]) -> [u8; 2] {
    *batch
}

fn argument(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == name)
        .and_then(|at| args.get(at + 1).cloned())
}

fn main() {
    let mut config = Config::new();
    if let Some(namespace) = argument("--namespace") {
        config = config.namespace(namespace);
    }
    if let Some(name) = argument("--service-name") {
        config = config.service_name(name);
    }
    if let Some(address) = argument("--dashboard") {
        config = config.dashboard(address);
    }
    if std::env::args().any(|arg| arg == "--duration-microseconds") {
        config = config.duration_unit(pipetel::names::DurationUnit::Microseconds);
    }
    let telemetry = config.init();
    println!("metrics enabled: {}", telemetry.metrics_enabled());
    println!("traces enabled: {}", telemetry.traces_enabled());

    let mut sinks = [Sink { id: 1, written: 0 }, Sink { id: 2, written: 0 }];
    for _ in 0..3 {
        let batch = keep_even(scan(100));
        for sink in &mut sinks {
            sink.write(&batch).expect("written");
        }
    }
    assert!(sinks[0].write(&[]).is_err());
    assert_eq!(sinks[1].write(&[1, 2]), Ok(0));

    assert_eq!(parse("42"), Ok(42));
    assert!(parse("forty-two").is_err());

    std::panic::set_hook(Box::new(|_| {}));
    for x in 1..=4 {
        let _ = std::panic::catch_unwind(|| explode(x));
    }
    let _ = std::panic::take_hook();

    rest();

    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..5000 {
                    std::hint::black_box(tick(std::hint::black_box(&[1, 2])));
                }
            });
        }
    });

    if std::env::args().any(|arg| arg == "--flush") {
        telemetry.flush();
    }
    if std::env::args().any(|arg| arg == "--until-stdin-closes") {
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
    }
    println!("done: {} rows written", sinks[0].written + sinks[1].written);
}
