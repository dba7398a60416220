//! A three-step pipeline (extract → normalize → load) run as a child process by
//! `tests/tests/end_to_end/pipelines.rs`. Modes:
//!
//! - `pipeline` runs the pipeline once successfully, then once with a bad row, which
//!   fails in `normalize` through a `?`.
//! - `pipeline --driver` runs a pipeline `driver` whose step `dispatch` starts two worker
//!   processes with `pipetel::otel::trace_env()`; each worker (`pipeline --worker N`) runs the
//!   orders pipeline once.
//! - `pipeline --panic` runs a pipeline whose step panics (the panic is caught outside).
//! - `PRINT_DEBUG` prints the `Debug` output of the telemetry guard (with where each
//!   signal is exported) and of the configuration.
//! - `EXIT_CODE` is the exit status the program returns (after shutdown); the last line
//!   on stdout says how long the telemetry guard took to shut down.
//! - `SHUTDOWN_MS` sets `Config::shutdown_timeout`; `LINGER_MS` pauses between the
//!   two runs of the default mode, and `UNTIL_STDIN_CLOSES` waits there until standard
//!   input closes (the test has seen what it waited for).
//! - `SUBSCRIBER=own|preset` chooses how the `tracing` subscriber is set up
//!   (see `start_telemetry`).
//! - `pipeline --slow` runs a step `crawl` whose operator takes 1.5 s over 15 batches of
//!   100 rows, having said it expects 1,500 rows (for progress bars).

use std::error::Error;
use std::fmt;
use std::num::ParseIntError;
use std::process::Command;

use opentelemetry::trace::Tracer as _;
use pipetel::{operator, pipeline_step, Pipeline};

#[derive(Debug)]
enum EtlError {
    Parse(ParseIntError),
    Worker(String),
}

impl fmt::Display for EtlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtlError::Parse(_) => f.write_str("a row is not a number"),
            EtlError::Worker(why) => write!(f, "a worker failed: {why}"),
        }
    }
}

impl Error for EtlError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            EtlError::Parse(error) => Some(error),
            EtlError::Worker(_) => None,
        }
    }
}

impl From<ParseIntError> for EtlError {
    fn from(error: ParseIntError) -> Self {
        EtlError::Parse(error)
    }
}

#[derive(Pipeline)]
#[pipeline(name = "orders")]
struct Orders {
    #[pipeline(attribute)]
    destination: String,
    #[pipeline(attribute = "dataset.name")]
    dataset: String,
    rows: Vec<&'static str>,
}

impl Orders {
    #[pipeline_step]
    fn extract(&self) -> Result<Vec<String>, EtlError> {
        Ok(self.rows.iter().map(|row| row.to_string()).collect())
    }

    #[pipeline_step]
    fn normalize(&self, raw: Vec<String>) -> Result<Vec<u64>, EtlError> {
        tracing::info!(rows = raw.len(), "normalizing");
        let mut rows = Vec::new();
        for row in &raw {
            rows.push(parse_row(row)?);
        }
        Ok(rows)
    }

    #[pipeline_step(name = "load", rows = |written: &Result<usize, EtlError>| *written.as_ref().unwrap_or(&0))]
    async fn write(&self, rows: Vec<u64>) -> Result<usize, EtlError> {
        pipetel::otel::tracer("pipeline-bin").in_span("flush", |_| ());
        let loaded = pipetel::otel::meter("pipeline-bin")
            .u64_counter("orders.loaded")
            .with_unit("{row}")
            .build();
        loaded.add(
            rows.len() as u64,
            &[opentelemetry::KeyValue::new("table", "orders")],
        );
        Ok(rows.len())
    }
}

/// An operator inside a step: its log records carry both.
#[operator(node_type = "parse")]
fn parse_row(row: &str) -> Result<u64, ParseIntError> {
    row.parse::<u64>()
        .inspect_err(|_| tracing::warn!(row, "bad row"))
}

fn run_orders(rows: Vec<&'static str>) -> Result<usize, EtlError> {
    let orders = Orders {
        destination: "warehouse".into(),
        dataset: "sales".into(),
        rows,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    orders.run(|p| {
        let raw = p.extract()?;
        let rows = p.normalize(raw)?;
        runtime.block_on(p.write(rows))
    })
}

#[derive(Pipeline)]
struct Driver;

impl Driver {
    #[pipeline_step]
    fn dispatch(&self) -> Result<Vec<u32>, EtlError> {
        let program = std::env::current_exe().map_err(|e| EtlError::Worker(e.to_string()))?;
        let mut done = Vec::new();
        for worker in 1..=2u32 {
            let status = Command::new(&program)
                .args(["--worker", &worker.to_string()])
                .envs(pipetel::otel::trace_env())
                .status()
                .map_err(|e| EtlError::Worker(e.to_string()))?;
            if !status.success() {
                return Err(EtlError::Worker(format!("worker {worker}: {status}")));
            }
            done.push(worker);
        }
        Ok(done)
    }
}

#[derive(Pipeline)]
#[pipeline(name = "fragile")]
struct Fragile;

impl Fragile {
    #[pipeline_step]
    fn explode(&self) -> Result<(), EtlError> {
        panic!("the step blew up");
    }
}

#[operator(node_type = "crawl")]
fn crawl_batch(batch: &[u64], first: bool) -> usize {
    if first {
        pipetel::current_operator().set_expected_rows(1_500);
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    batch.len()
}

#[pipeline_step]
fn crawl() -> usize {
    (0..15)
        .map(|index| crawl_batch(&[0; 100], index == 0))
        .sum()
}

/// Telemetry as the `SUBSCRIBER` variable asks: `own` — the program builds its own
/// subscriber with `Telemetry::log_layer()`; `preset` — a global subscriber is set before
/// `init` (pipetel then warns and exports no logs); otherwise pipetel installs its own.
/// The configuration: `SHUTDOWN_MS` sets how long shutdown waits for the final exports.
fn config() -> pipetel::Config {
    let config = pipetel::Config::new();
    match std::env::var("SHUTDOWN_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
    {
        Some(ms) => config.shutdown_timeout(std::time::Duration::from_millis(ms)),
        None => config,
    }
}

fn start_telemetry() -> pipetel::Telemetry {
    use tracing_subscriber::layer::SubscriberExt as _;
    match std::env::var("SUBSCRIBER").as_deref() {
        Ok("own") => {
            let telemetry = config().install_log_subscriber(false).init();
            let subscriber = tracing_subscriber::registry().with(telemetry.log_layer());
            tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
            telemetry
        }
        Ok("preset") => {
            tracing::subscriber::set_global_default(tracing_subscriber::registry())
                .expect("the only subscriber");
            config().init()
        }
        _ => config().init(),
    }
}

fn main() -> std::process::ExitCode {
    let telemetry = start_telemetry();
    if std::env::var_os("PRINT_DEBUG").is_some() {
        println!("telemetry: {telemetry:?}");
        println!("config: {:?}", config());
    }
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--driver") => {
            let dispatched = Driver.run(|driver| driver.dispatch());
            println!("dispatched: {dispatched:?}");
        }
        Some("--worker") => {
            let loaded = run_orders(vec!["10", "20"]);
            println!("worker {} loaded: {loaded:?}", args[2]);
        }
        Some("--slow") => println!("crawled: {}", crawl()),
        Some("--panic") => {
            std::panic::set_hook(Box::new(|_| {}));
            let caught = std::panic::catch_unwind(|| Fragile.run(|p| p.explode()));
            println!("panicked: {}", caught.is_err());
        }
        _ => {
            println!("first run: {:?}", run_orders(vec!["1", "2", "3"]));
            if let Some(ms) = std::env::var("LINGER_MS")
                .ok()
                .and_then(|ms| ms.parse().ok())
            {
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            if std::env::var_os("UNTIL_STDIN_CLOSES").is_some() {
                let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
            }
            println!(
                "second run: {:?}",
                run_orders(vec!["1", "x", "3"]).map_err(|e| e.to_string())
            );
        }
    }
    // The time the guard takes to flush and stop, for the tests of slow collectors.
    let shutdown = std::time::Instant::now();
    drop(telemetry);
    println!("shutdown took {} ms", shutdown.elapsed().as_millis());
    // The status the program chose, returned after the telemetry guard is dropped.
    let code = std::env::var("EXIT_CODE")
        .ok()
        .and_then(|code| code.parse().ok());
    std::process::ExitCode::from(code.unwrap_or(0))
}
