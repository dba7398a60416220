//! The main example: a query pipeline over orders it generates — scan a CSV file →
//! filter → project → hash aggregate → write the result as CSV — every operator
//! annotated, run as a `Pipeline` with three steps (extract → transform → load).
//!
//! The operators form a graph pipetel sees without being told: the scan's batches go
//! through a pipetel channel; filter, project and the aggregate are iterators pulling
//! from each other (Volcano style), and the sink pulls the aggregate's groups.
//!
//! With no collector it prints pipetel's EXPLAIN ANALYZE-style report; with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set it exports the operator and pipeline metrics, the
//! run and step spans, and the logs.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use pipetel::channel::{Receiver, Sender};
use pipetel::{current_operator, operator, pipeline_step, Pipeline, Rows};
use tracing_subscriber::layer::SubscriberExt as _;

/// The four regions orders come from.
pub const REGIONS: [&str; 4] = ["east", "north", "south", "west"];

/// A batch of orders in columns.
#[derive(Debug, Default)]
pub struct Orders {
    /// The region of each order.
    pub region: Vec<&'static str>,
    /// The amount of each order.
    pub amount: Vec<u64>,
}

impl Rows for Orders {
    fn rows(&self) -> u64 {
        self.amount.len() as u64
    }
}

/// The amount of order `id` (0..999, spread evenly).
pub fn amount_of(id: usize) -> u64 {
    ((id * 7919) % 1000) as u64
}

/// Writes `rows` generated orders to `path` as CSV (`order_id,region,amount`).
pub fn generate_csv(path: &Path, rows: usize) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, "order_id,region,amount")?;
    for id in 0..rows {
        writeln!(
            out,
            "{id},{},{}",
            REGIONS[id % REGIONS.len()],
            amount_of(id)
        )?;
    }
    out.flush()
}

/// Parses one batch of CSV lines, counting the bytes it reads.
#[operator(node_type = "scan", name = "orders.csv")]
fn scan(lines: &[String]) -> Result<Orders, String> {
    let mut batch = Orders::default();
    let mut bytes = 0;
    for line in lines {
        bytes += line.len() as u64 + 1;
        let mut fields = line.split(',');
        let (Some(_id), Some(region), Some(amount)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(format!("malformed line {line:?}"));
        };
        let region = REGIONS
            .iter()
            .find(|known| **known == region)
            .ok_or_else(|| format!("unknown region {region:?}"))?;
        batch.region.push(region);
        batch
            .amount
            .push(amount.parse().map_err(|e| format!("{line:?}: {e}"))?);
    }
    current_operator().add_bytes_read(bytes);
    Ok(batch)
}

/// Keeps the orders of at least `min_amount`, batch by batch as they are pulled; each
/// batch taking `slowdown` times as long as its work (a spin after it for the rest):
/// above 1, a slower filter for `pipetel diff` to find.
#[operator(node_type = "filter")]
fn filter(
    batches: impl Iterator<Item = Orders>,
    min_amount: u64,
    slowdown: u32,
) -> impl Iterator<Item = Orders> {
    batches.map(move |batch| {
        let started = Instant::now();
        let kept = keep(&batch, min_amount);
        if slowdown > 1 {
            let until = Instant::now() + started.elapsed() * (slowdown - 1);
            while Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        kept
    })
}

/// The orders of `batch` of at least `min_amount`.
fn keep(batch: &Orders, min_amount: u64) -> Orders {
    // Room for every row up front: the columns are never grown (and copied) as they fill.
    let mut kept = Orders {
        region: Vec::with_capacity(batch.amount.len()),
        amount: Vec::with_capacity(batch.amount.len()),
    };
    for (region, amount) in batch.region.iter().zip(&batch.amount) {
        if *amount >= min_amount {
            kept.region.push(*region);
            kept.amount.push(*amount);
        }
    }
    kept
}

/// Keeps the columns the aggregate needs.
#[operator(node_type = "project")]
fn project(
    batches: impl Iterator<Item = Orders>,
) -> impl Iterator<Item = Vec<(&'static str, u64)>> {
    batches.map(|batch| batch.region.into_iter().zip(batch.amount).collect())
}

/// Sums amounts per region.
pub struct HashAggregate {
    id: u32,
    sums: HashMap<&'static str, u64>,
}

impl HashAggregate {
    /// Pulls every batch of its input and adds it up.
    #[operator(node_type = "hash_aggregate", node_id = self.id, rows_out = |_| 0u64)]
    fn consume(&mut self, input: impl Iterator<Item = Vec<(&'static str, u64)>>) {
        for rows in input {
            for (region, amount) in rows {
                *self.sums.entry(region).or_default() += amount;
            }
        }
    }

    /// The totals, in one batch, for whoever pulls them.
    #[operator(node_type = "hash_aggregate", node_id = self.id)]
    fn finish(self) -> impl Iterator<Item = Vec<(&'static str, u64)>> {
        let mut groups: Vec<_> = self.sums.into_iter().collect();
        groups.sort();
        std::iter::once(groups)
    }
}

/// Writes the groups it pulls as CSV; returns them.
#[operator(node_type = "sink", name = "totals.csv", rows_out = |_| 0u64)]
fn write_csv(
    input: impl Iterator<Item = Vec<(&'static str, u64)>>,
    path: &Path,
) -> std::io::Result<Vec<(&'static str, u64)>> {
    let groups: Vec<(&'static str, u64)> = input.flatten().collect();
    let mut text = String::from("region,total\n");
    for (region, total) in &groups {
        text.push_str(&format!("{region},{total}\n"));
    }
    std::fs::write(path, &text)?;
    // A line of the sink's log: in the report and the dashboard, and exported with the
    // sink's labels.
    tracing::info!(path = %path.display(), groups = groups.len(), "wrote the totals");
    current_operator().add_rows_written(groups.len() as u64);
    current_operator().add_bytes_written(text.len() as u64);
    Ok(groups)
}

/// The pipeline: one root span per run, one child span per step.
#[derive(Pipeline)]
#[pipeline(name = "regional_totals")]
pub struct RegionalTotals {
    /// The CSV file of orders.
    #[pipeline(attribute)]
    pub source: PathBuf,
    /// Where the totals go.
    #[pipeline(attribute)]
    pub destination: PathBuf,
    /// Rows per batch.
    #[pipeline(attribute = "pipeline.batch_rows")]
    pub batch_rows: usize,
    /// The smallest amount kept.
    pub min_amount: u64,
    /// How many times as long the filter takes over each batch as its work: 1, unless
    /// `FILTER_SLOWDOWN` says more (a slower run to compare with `pipetel diff`).
    pub filter_slowdown: u32,
    /// A pause before each batch is read, as a slow disk would make (zero unless
    /// `SCAN_PAUSE_MS` says): time to watch a run on the dashboard.
    pub pause: std::time::Duration,
}

impl RegionalTotals {
    /// Reads the orders file in batches, each scanned and handed to `transform` through
    /// a pipetel channel; returns the rows read.
    #[pipeline_step(rows = |rows: &Result<u64, String>| *rows.as_ref().unwrap_or(&0))]
    fn extract(&self, to_transform: Sender<Orders>) -> Result<u64, String> {
        let file =
            File::open(&self.source).map_err(|e| format!("{}: {e}", self.source.display()))?;
        let size = file.metadata().map_err(|e| e.to_string())?.len();
        let mut lines = BufReader::new(file).lines();
        let header = lines.next().transpose().map_err(|e| e.to_string())?;
        // For progress: the scan will read the rest of the file; its rows, and those of
        // every operator downstream, follow from the rows per byte it reads.
        let header_bytes = header.map_or(0, |header| header.len() as u64 + 1);
        pipetel::Operator::new("scan", "orders.csv").set_expected_bytes(size - header_bytes);
        let (mut batches, mut rows) = (0, 0);
        loop {
            std::thread::sleep(self.pause);
            let chunk: Vec<String> = lines
                .by_ref()
                .take(self.batch_rows)
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            if chunk.is_empty() {
                break;
            }
            let batch = scan(&chunk)?;
            (batches, rows) = (batches + 1, rows + batch.rows());
            // Sent by `scan`, the operator that made the batch.
            to_transform
                .send(batch)
                .map_err(|_| "transform stopped".to_owned())?;
        }
        tracing::info!(batches, "extracted");
        Ok(rows)
    }

    /// Filters, projects and aggregates the batches `extract` sent: the aggregate pulls
    /// from `project`, which pulls from `filter`, which receives from the channel.
    #[pipeline_step(rows = |aggregate: &HashAggregate| aggregate.sums.len())]
    fn transform(&self, from_extract: Receiver<Orders>) -> HashAggregate {
        let mut aggregate = HashAggregate {
            id: 4,
            sums: HashMap::new(),
        };
        aggregate.consume(project(filter(
            from_extract.into_iter(),
            self.min_amount,
            self.filter_slowdown,
        )));
        aggregate
    }

    /// Writes the totals the sink pulls from the aggregate.
    #[pipeline_step(rows = |groups: &Result<Vec<(&'static str, u64)>, String>| groups.as_ref().map_or(0, Vec::len))]
    fn load(&self, aggregate: HashAggregate) -> Result<Vec<(&'static str, u64)>, String> {
        write_csv(aggregate.finish(), &self.destination).map_err(|e| e.to_string())
    }
}

impl RegionalTotals {
    /// The three steps, in order: what one run does.
    pub fn run_all(&self) -> Result<Vec<(&'static str, u64)>, String> {
        let (to_transform, from_extract) = pipetel::channel::channel();
        self.extract(to_transform)?;
        let aggregate = self.transform(from_extract);
        self.load(aggregate)
    }
}

/// The example's pipeline over `rows` generated orders, written to `dir/orders.csv`
/// (totals go to `dir/totals.csv`), in 8,192-row batches.
pub fn generated(dir: &Path, rows: usize) -> Result<RegionalTotals, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let pipeline = RegionalTotals {
        source: dir.join("orders.csv"),
        destination: dir.join("totals.csv"),
        batch_rows: 8192,
        min_amount: 500,
        filter_slowdown: 1,
        pause: std::time::Duration::ZERO,
    };
    generate_csv(&pipeline.source, rows).map_err(|e| e.to_string())?;
    Ok(pipeline)
}

/// The example's `main`: counts locally, runs `ORDERS` orders (500,000 unless it says)
/// through the pipeline — a pause of `SCAN_PAUSE_MS` before each batch, each of the
/// filter's batches taking `FILTER_SLOWDOWN` times its work — prints the totals, and
/// prints the report when nothing is exported.
pub fn main() -> Result<(), String> {
    let telemetry = pipetel::Config::new()
        .collect_locally(true)
        .install_log_subscriber(false)
        .init();
    // The operators' log lines: counted and kept per operator for the report, and
    // exported as log records with their operator's labels when logs are exported.
    let subscriber = tracing_subscriber::registry().with(telemetry.log_layer());
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        eprintln!("a tracing subscriber is already set: the operators' log lines are not counted");
    }
    let rows = std::env::var("ORDERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500_000);
    let pause = std::env::var("SCAN_PAUSE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(std::time::Duration::ZERO, std::time::Duration::from_millis);
    let filter_slowdown = std::env::var("FILTER_SLOWDOWN")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let dir = std::env::temp_dir().join(format!("pipetel-example-{}", std::process::id()));
    let mut pipeline = generated(&dir, rows)?;
    pipeline.pause = pause;
    pipeline.filter_slowdown = filter_slowdown;
    let groups = pipeline.run(RegionalTotals::run_all)?;
    for (region, total) in &groups {
        println!("{region}: {total}");
    }
    if telemetry.is_exporting() {
        println!("metrics, spans and logs are being exported over OTLP");
    } else {
        println!("\n{}", pipetel::report());
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
