//! The cluster example's queries on datafusion-distributed with and without pipetel,
//! interleaved in one run: a coordinator and two workers serving over gRPC on 127.0.0.1
//! (in this process, on its runtime: the two cores are shared either way), 1 million
//! orders in CSV files (`-- --orders N` to change), telemetry on (collected locally).
//! With pipetel, the coordinator's session is `coordinator_session` and its workers'
//! `worker_session`; without it, the same session and workers bare.
//!
//! Timed in interleaved rounds (`benches/common/interleaved.rs`), as `pipetel-datafusion`'s
//! bench: the median of the per-round ratios, with the medians of both times beside it.
//! `cargo bench -p pipetel-datafusion-distributed --bench queries`.

#[path = "../../benches/common/arguments.rs"]
mod arguments;
#[path = "../../benches/common/interleaved.rs"]
mod interleaved;
#[path = "../workload.rs"]
mod workload;

use arguments::argument;

use std::time::{Duration, Instant};

use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use datafusion_distributed::{DistributedExt, SessionStateBuilderExt, Worker, WorkerQueryContext};
use interleaved::interleaved;
use pipetel_datafusion_distributed::{coordinator_session, worker_session};

const ROUNDS: usize = 15;
const WORKERS: usize = 2;

/// Serves a worker (with pipetel or bare) on a free loopback port, on the current
/// runtime, for as long as the process runs.
fn serve(instrumented: bool) -> u16 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let worker = Worker::from_session_builder(move |ctx: WorkerQueryContext| async move {
        Ok(match instrumented {
            true => worker_session(ctx).build(),
            false => ctx.builder.build(),
        })
    });
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(worker.into_worker_server())
            .serve(([127, 0, 0, 1], port).into()),
    );
    port
}

async fn session(ports: Vec<u16>, instrumented: bool, data: &std::path::Path) -> SessionContext {
    let builder = SessionStateBuilder::new()
        .with_default_features()
        .with_distributed_worker_resolver(workload::Ports(ports))
        .with_distributed_planner()
        .with_distributed_file_scan_config_bytes_per_partition(1)
        .expect("a setting");
    let builder = match instrumented {
        true => coordinator_session(builder),
        false => builder,
    };
    let ctx = SessionContext::from(builder.build());
    workload::register(&ctx, data).await.expect("the tables");
    ctx
}

fn main() {
    let orders: u64 = argument("--orders", 1_000_000);
    let _telemetry = pipetel::Config::new().collect_locally(true).init();
    let data = workload::generate(orders).expect("the tables");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (plain, measured) = runtime.block_on(async {
        let plain_ports = (0..WORKERS).map(|_| serve(false)).collect();
        let measured_ports = (0..WORKERS).map(|_| serve(true)).collect();
        (
            session(plain_ports, false, &data).await,
            session(measured_ports, true, &data).await,
        )
    });
    let time = |ctx: &SessionContext, sql: &str| -> Duration {
        runtime.block_on(async {
            let started = Instant::now();
            let batches = ctx
                .sql(sql)
                .await
                .expect("sql")
                .collect()
                .await
                .expect("results");
            std::hint::black_box(batches);
            started.elapsed()
        })
    };
    println!(
        "{orders} orders in {} CSV files, {WORKERS} workers, {ROUNDS} interleaved rounds",
        workload::FILES
    );
    println!(
        "{:<42} {:>12} {:>12} {:>8}",
        "query", "plain", "pipetel", "ratio"
    );
    for (shape, sql) in workload::QUERIES {
        let timed = interleaved(ROUNDS, || time(&plain, sql), || time(&measured, sql));
        println!(
            "{shape:<42} {:>12.2?} {:>12.2?} {:>8.3}",
            timed.plain, timed.measured, timed.ratio
        );
    }
    let _ = std::fs::remove_dir_all(&data);
}
