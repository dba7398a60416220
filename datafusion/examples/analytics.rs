//! A real engine under pipetel: DataFusion runs four analytic queries (scan + filter,
//! group-by aggregate, hash join, sort + limit) over 4 million generated orders in 8
//! partitions, with pipetel's rule added in one line, and prints each query's result next
//! to pipetel's report of that query (its own view: `query_of`, `Report::of_run`).
//!
//! `cargo run --release --example analytics` — no collector needed (the report is
//! collected locally); with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the same figures are
//! exported too.

#[path = "../workload.rs"]
mod workload;

use std::time::Instant;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::error::Result;
use datafusion::physical_plan::collect;

const ORDERS: i64 = 4_000_000;
const PARTITIONS: usize = 8;

#[tokio::main]
async fn main() -> Result<()> {
    let _telemetry = pipetel::Config::new().collect_locally(true).init();
    let ctx = workload::session(true, ORDERS, PARTITIONS);
    println!("{ORDERS} orders in {PARTITIONS} partitions\n");
    for (shape, sql) in workload::QUERIES {
        let started = Instant::now();
        let plan = ctx.sql(sql).await?.create_physical_plan().await?;
        // The query's own view: exact even while other queries run beside it.
        let query = pipetel_datafusion::query_of(&plan);
        let batches = collect(plan, ctx.task_ctx()).await?;
        let elapsed = started.elapsed();
        let report = query.and_then(pipetel::Report::of_run);
        let rows: usize = batches.iter().map(|batch| batch.num_rows()).sum();
        println!("== {shape} ({rows} rows in {elapsed:.1?})\n{sql}\n");
        // The first rows only: the filter's result is large.
        let shown: Vec<_> = batches.into_iter().take(1).collect();
        let table = pretty_format_batches(&shown)?.to_string();
        for line in table.lines().take(14) {
            println!("{line}");
        }
        if let Some(report) = report {
            println!("\n{report}");
        }
    }
    Ok(())
}
