//! A distributed DataFusion job under pipetel, on one machine: a coordinator and three
//! worker processes on 127.0.0.1 (this program started again as `cluster worker`) run
//! four analytic queries with datafusion-distributed over generated CSV orders. Every
//! process writes its part of each query into one snapshot directory; the coordinator
//! prints each query's result and its merged report — every node of every stage, on
//! every worker, the skew across workers, the edges across the network.
//!
//! ```text
//! cargo run --release -p pipetel-datafusion-distributed --example cluster
//! cargo run --release -p pipetel-datafusion-distributed --example cluster -- --workers 4 --orders 2000000
//! ```
//!
//! No collector needed. With `PIPETEL_DASHBOARD_ADDR=127.0.0.1:9466` (and
//! `PIPETEL_DASHBOARD_LINGER=60000` to look after the end) the coordinator's dashboard
//! shows the whole cluster live: every worker's operators, which workers are live, done
//! or partial. `PIPETEL_SNAPSHOT_DIR` names the directory (a temporary one otherwise);
//! `pipetel report DIR` reads it again afterwards.

#[path = "../../benches/common/arguments.rs"]
mod arguments;
#[path = "../workload.rs"]
mod workload;

use arguments::argument;

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::collect;
use datafusion::prelude::SessionContext;
use datafusion_distributed::{DistributedExt, SessionStateBuilderExt, Worker, WorkerQueryContext};
use pipetel::snapshot::{merge_files, Snapshot};
use pipetel_datafusion::Placement;
use pipetel_datafusion_distributed::{coordinator_session, worker_session};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("worker") {
        return serve_as_worker();
    }
    let dir = match std::env::var_os("PIPETEL_SNAPSHOT_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let dir = std::env::temp_dir().join(format!("pipetel-cluster-{}", std::process::id()));
            // Before any thread starts: the coordinator writes its own part there too,
            // and its dashboard reads the workers' files from it.
            std::env::set_var("PIPETEL_SNAPSHOT_DIR", &dir);
            dir
        }
    };
    let workers: usize = argument("--workers", 3);
    let orders: u64 = argument("--orders", 1_000_000);
    let data = workload::generate(orders)?;
    println!(
        "{orders} orders in {} CSV files; {workers} workers; snapshots in {}\n",
        workload::FILES,
        dir.display()
    );
    let telemetry = pipetel::Config::new().collect_locally(true).init();

    let mut children = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..workers {
        let (child, port) = start_worker(&dir)?;
        children.push(child);
        ports.push(port);
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let outcome = runtime.block_on(run_queries(&data, &ports, &pids, &dir));

    // The workers stop when their standard input closes, writing their last snapshots.
    for child in &mut children {
        drop(child.stdin.take());
    }
    for mut child in children {
        child.wait()?;
    }
    drop(telemetry);
    outcome
}

/// Runs each query on the cluster (`workers` are the worker processes), and prints its
/// result and merged report.
async fn run_queries(
    data: &Path,
    ports: &[u16],
    workers: &[u32],
    dir: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let builder = SessionStateBuilder::new()
        .with_default_features()
        .with_distributed_worker_resolver(workload::Ports(ports.to_vec()))
        .with_distributed_planner()
        // As many tasks per stage as workers (the count is capped there), even for a
        // small table: every worker gets some of each scan.
        .with_distributed_file_scan_config_bytes_per_partition(1)?;
    let ctx = SessionContext::from(coordinator_session(builder).build());
    workload::register(&ctx, data).await?;
    for (shape, sql) in workload::QUERIES {
        let started = Instant::now();
        let plan = ctx.sql(sql).await?.create_physical_plan().await?;
        let job = Placement::of(&plan).job.expect("a distributed plan's job");
        let query = pipetel_datafusion::query_of(&plan).expect("the coordinator's part");
        let batches = collect(plan, ctx.task_ctx()).await?;
        let elapsed = started.elapsed();
        println!("== {shape} ({elapsed:.1?}, job {job})\n{sql}\n");
        println!("{}\n", pretty_format_batches(&batches)?);

        // The coordinator's part, then each worker's as written after the query ended.
        // (A worker keeps a task's plan, and so its part of the query open, until
        // datafusion-distributed's task cache lets it go: its part reads running until
        // then.)
        let own = wait_for(|| query.snapshot().filter(|view| view.calls_running() == 0))
            .ok_or("the coordinator's part of the query never ended")?;
        let ended = SystemTime::now();
        // The latest merge of the query, and whether every process's part is in it.
        let mut latest = None;
        let _complete = wait_for(|| {
            let jobs = merge_files([dir]).ok()?;
            // Every worker wrote its snapshot since (its parts of jobs are written before
            // it), and its part of this one has nothing running.
            let processes = jobs.iter().find(|snapshot| snapshot.job().is_none())?;
            let fresh = workers.iter().all(|pid| {
                processes
                    .sources
                    .iter()
                    .any(|source| source.pid == *pid && source.taken >= ended)
            });
            let part = jobs
                .into_iter()
                .find(|snapshot| snapshot.job() == Some(job.as_str()))?;
            if !fresh || part.calls_running() != 0 {
                return None;
            }
            // A worker whose task of the query was still being dropped when it wrote its
            // snapshot writes its part a moment later: until then its rows are missing
            // from the graph's edges. Wait for them, and print what is there if they
            // never come.
            let merged = Snapshot::merge([own.clone(), part]);
            let complete = merged.imbalances.is_empty();
            latest = Some(merged);
            complete.then_some(())
        });
        let merged = latest.ok_or("the workers' parts of the query were never written")?;
        println!("{}", pipetel::Report::of(merged));
    }
    Ok(())
}

/// `read()` once it gives something, polled for at most 30 s.
fn wait_for<T>(mut read: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(found) = read() {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts a worker (this program, as `cluster worker`) and reads its port.
fn start_worker(dir: &Path) -> Result<(Child, u16), Box<dyn std::error::Error>> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("worker")
        .env("PIPETEL_SNAPSHOT_DIR", dir)
        // The coordinator's dashboard shows the cluster; workers serve none.
        .env_remove("PIPETEL_DASHBOARD_ADDR")
        .env_remove("PIPETEL_REPORT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().expect("piped");
    let (found, port) = std::sync::mpsc::channel();
    // The worker's output read to its end (a worker whose output pipe closed would fail).
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line.strip_prefix("port ") {
                let _ = found.send(port.parse::<u16>());
            }
        }
    });
    let port = port.recv_timeout(Duration::from_secs(60))??;
    Ok((child, port))
}

/// A worker: serves datafusion-distributed's worker with pipetel on a free loopback port
/// (printed first), until its standard input closes.
fn serve_as_worker() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = pipetel::Config::new().collect_locally(true).init();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let worker = Worker::from_session_builder(|ctx: WorkerQueryContext| async move {
            Ok(worker_session(ctx).build())
        });
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        });
        let server = tonic::transport::Server::builder()
            .add_service(worker.into_worker_server())
            .serve_with_shutdown(([127, 0, 0, 1], port).into(), async {
                let _ = stdin_closed.await;
            });
        println!("port {port}");
        std::io::stdout().flush()?;
        server.await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    drop(telemetry);
    Ok(())
}
