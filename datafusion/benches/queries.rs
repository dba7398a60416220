//! Each query of the shared workload with and without pipetel's rule, interleaved in one
//! run: 1 million orders (`-- --orders N` to change), 4 partitions, telemetry on
//! (collected locally, as with an exporter: the per-call work is the same).
//!
//! Timed in interleaved rounds (`benches/common/interleaved.rs`, not criterion, which
//! would let drift land in the ratio): the median of the per-round ratios, with the
//! medians of both times beside it. `cargo bench -p pipetel-datafusion --bench queries`.

#[path = "../../benches/common/arguments.rs"]
mod arguments;
#[path = "../../benches/common/interleaved.rs"]
mod interleaved;
#[path = "../workload.rs"]
mod workload;

use arguments::argument;

use std::sync::Arc;
use std::time::Instant;

use interleaved::interleaved;

use datafusion::prelude::SessionContext;

const PARTITIONS: usize = 4;
const ROUNDS: usize = 21;

fn main() {
    let orders: i64 = argument("--orders", 1_000_000);
    let _telemetry = pipetel::Config::new().collect_locally(true).init();
    let (table, customers) = workload::tables(orders, PARTITIONS);
    let (table, customers) = (Arc::new(table), Arc::new(customers));
    let plain = workload::session_over(false, PARTITIONS, table.clone(), customers.clone());
    let measured = workload::session_over(true, PARTITIONS, table, customers);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let time = |ctx: &SessionContext, sql: &str| {
        runtime.block_on(async {
            let started = Instant::now();
            let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
            std::hint::black_box(batches);
            started.elapsed()
        })
    };
    println!("{orders} orders, {PARTITIONS} partitions, {ROUNDS} interleaved rounds");
    println!(
        "{:<20} {:>12} {:>12} {:>10}",
        "query", "plain", "pipetel", "ratio"
    );
    for (shape, sql) in workload::QUERIES {
        let timed = interleaved(ROUNDS, || time(&plain, sql), || time(&measured, sql));
        println!(
            "{shape:<20} {:>12.2?} {:>12.2?} {:>10.3}",
            timed.plain, timed.measured, timed.ratio
        );
    }
}
