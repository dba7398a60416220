//! A small query pipeline with every operator annotated — scan CSV text → filter →
//! project → hash aggregate → write — run as a `Pipeline` with three steps (extract →
//! transform → load). Runs with no collector at all; point `OTEL_EXPORTER_OTLP_ENDPOINT`
//! at one to export the operator metrics, the run and step spans, and the logs.
//!
//! ```text
//! cargo run --release --example quickstart
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 cargo run --release --example quickstart
//! ```

use std::collections::HashMap;
use std::io::Write;

use pipetel::{current_operator, operator, pipeline_step, Pipeline, Rows};

/// A batch of orders in columns.
struct Orders {
    region: Vec<String>,
    amount: Vec<u64>,
}

impl Rows for Orders {
    fn rows(&self) -> u64 {
        self.amount.len() as u64
    }
}

/// Makes `rows` orders as CSV text, the way a file would hold them.
fn generate_csv(rows: usize) -> String {
    let regions = ["north", "south", "east", "west"];
    let mut csv = String::from("order_id,region,amount\n");
    for id in 0..rows {
        let amount = (id * 7919) % 1000;
        csv.push_str(&format!("{id},{},{amount}\n", regions[id % regions.len()]));
    }
    csv
}

/// Parses CSV lines into a batch, counting the bytes it reads.
#[operator(node_type = "scan", name = "orders.csv")]
fn scan(lines: &[&str]) -> Result<Orders, String> {
    let mut batch = Orders {
        region: Vec::with_capacity(lines.len()),
        amount: Vec::with_capacity(lines.len()),
    };
    for line in lines {
        current_operator().add_bytes_read(line.len() as u64 + 1);
        let mut fields = line.split(',');
        let (_id, region, amount) = match (fields.next(), fields.next(), fields.next()) {
            (Some(id), Some(region), Some(amount)) => (id, region, amount),
            _ => return Err(format!("malformed line {line:?}")),
        };
        batch.region.push(region.to_owned());
        batch
            .amount
            .push(amount.parse().map_err(|e| format!("{line:?}: {e}"))?);
    }
    Ok(batch)
}

/// Keeps the orders of at least `min_amount`.
#[operator(node_type = "filter")]
fn filter(batch: Orders, min_amount: u64) -> Orders {
    let keep: Vec<bool> = batch.amount.iter().map(|&a| a >= min_amount).collect();
    let mut kept = keep.iter();
    let region = batch
        .region
        .into_iter()
        .filter(|_| *kept.next().unwrap_or(&false))
        .collect();
    let amount = batch
        .amount
        .into_iter()
        .filter(|&a| a >= min_amount)
        .collect();
    Orders { region, amount }
}

/// Keeps the columns the aggregate needs.
#[operator(node_type = "project")]
fn project(batch: &Orders) -> Vec<(&str, u64)> {
    batch
        .region
        .iter()
        .map(String::as_str)
        .zip(batch.amount.iter().copied())
        .collect()
}

/// Sums amounts per region.
struct HashAggregate {
    id: u32,
    sums: HashMap<String, u64>,
}

impl HashAggregate {
    #[operator(node_type = "hash_aggregate", node_id = self.id, rows_out = |_| 0u64)]
    fn consume(&mut self, rows: Vec<(&str, u64)>) {
        for (region, amount) in rows {
            *self.sums.entry(region.to_owned()).or_default() += amount;
        }
    }

    #[operator(node_type = "hash_aggregate", node_id = self.id, rows_in = 0u64)]
    fn finish(self) -> Vec<(String, u64)> {
        let mut groups: Vec<_> = self.sums.into_iter().collect();
        groups.sort();
        groups
    }
}

/// Writes the result as CSV.
#[operator(node_type = "sink", bytes_written = |written: &std::io::Result<usize>| *written.as_ref().unwrap_or(&0))]
fn write_csv(groups: &[(String, u64)], out: &mut impl Write) -> std::io::Result<usize> {
    let mut text = String::from("region,total\n");
    for (region, total) in groups {
        text.push_str(&format!("{region},{total}\n"));
    }
    out.write_all(text.as_bytes())?;
    current_operator().add_rows_written(groups.len() as u64);
    Ok(text.len())
}

/// The pipeline: one root span per run, one child span per step.
#[derive(Pipeline)]
#[pipeline(name = "regional_totals")]
struct RegionalTotals {
    #[pipeline(attribute)]
    source: String,
    #[pipeline(attribute = "pipeline.batch_rows")]
    batch_rows: usize,
}

impl RegionalTotals {
    /// Reads the orders (generated here; a file or an API in real life).
    #[pipeline_step(rows = |csv: &Result<String, String>| csv.as_ref().map_or(0, |csv| csv.lines().count() - 1))]
    fn extract(&self) -> Result<String, String> {
        Ok(generate_csv(200_000))
    }

    /// Scans, filters, projects and aggregates the orders batch by batch.
    #[pipeline_step]
    fn transform(&self, csv: &str) -> Result<Vec<(String, u64)>, String> {
        let lines: Vec<&str> = csv.lines().skip(1).collect();
        let mut aggregate = HashAggregate {
            id: 4,
            sums: HashMap::new(),
        };
        for chunk in lines.chunks(self.batch_rows) {
            let batch = scan(chunk)?;
            let batch = filter(batch, 500);
            aggregate.consume(project(&batch));
        }
        Ok(aggregate.finish())
    }

    /// Writes the result.
    #[pipeline_step]
    fn load(&self, groups: &[(String, u64)]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        write_csv(groups, &mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }
}

fn main() -> Result<(), String> {
    let telemetry = pipetel::init();
    let pipeline = RegionalTotals {
        source: "generated orders".into(),
        batch_rows: 8192,
    };
    let out = pipeline.run(|p| {
        let csv = p.extract()?;
        let groups = p.transform(&csv)?;
        p.load(&groups)
    })?;

    print!("{}", String::from_utf8_lossy(&out));
    println!("{} bytes of result", out.len());
    if telemetry.is_enabled() {
        println!("operator metrics, spans and logs are being exported over OTLP");
    } else {
        println!(
            "telemetry is off (set OTEL_EXPORTER_OTLP_ENDPOINT to export metrics, spans and logs)"
        );
    }
    Ok(())
}
