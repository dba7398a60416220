//! pipetel on datafusion-distributed, with real worker processes on 127.0.0.1 (the
//! `cluster` example's, as `cluster worker`): six queries (filters, aggregates, a join, a
//! sort with limit, a distinct count) over CSV files split into tasks across two workers.
//! Every node of every stage is counted under its id of the whole plan, so the
//! coordinator's own view merged with the workers' snapshot files has, node for node, the
//! rows DataFusion's metrics say each produced (datafusion-distributed's aggregated
//! `output_rows`), the merged graph's edges conserve their rows, and the results are
//! those of the same queries without pipetel.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::{CsvReadOptions, SessionContext};
use datafusion_distributed::{
    rewrite_distributed_plan_with_metrics, DistributedExt, DistributedMetricsFormat,
    SessionStateBuilderExt, WorkerResolver,
};
use pipetel::snapshot::{merge_files, Snapshot};
use pipetel::Telemetry;
use pipetel_datafusion::Placement;
use pipetel_datafusion_distributed::coordinator_session;

const ROWS: u64 = 20_000;
const FILES: u64 = 4;

const QUERIES: [&str; 6] = [
    "SELECT count(*) AS n FROM t WHERE v > 100",
    "SELECT k, count(*) AS n, sum(v) AS s FROM t GROUP BY k ORDER BY k",
    "SELECT u.name, sum(t.v) AS s FROM t JOIN u ON t.k = u.k GROUP BY u.name ORDER BY u.name",
    "SELECT id, v FROM t ORDER BY v DESC, id LIMIT 5",
    "SELECT k, max(v) - min(v) AS spread FROM t WHERE id % 2 = 0 GROUP BY k ORDER BY k",
    "SELECT count(DISTINCT v % 97) AS d FROM t",
];

/// Two workers, writing their snapshots into `dir` if given, and their ports.
fn workers(dir: Option<&Path>) -> (Vec<Child>, Vec<u16>) {
    let mut children = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..2 {
        let mut command = Command::new(common::cluster_binary());
        command.arg("worker");
        match dir {
            Some(dir) => command.env("PIPETEL_SNAPSHOT_DIR", dir),
            None => command.env_remove("PIPETEL_SNAPSHOT_DIR"),
        };
        let mut child = command
            .env_remove("PIPETEL_REPORT")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a worker");
        // Its output read to the end on a thread of its own (a worker whose output pipe
        // closed would fail), the port sent back as it comes.
        let stdout = child.stdout.take().expect("stdout");
        let (found, port) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line.strip_prefix("port ") {
                    let _ = found.send(port.parse::<u16>().expect("a port"));
                }
            }
        });
        let port = port
            .recv_timeout(Duration::from_secs(120))
            .expect("the worker's port");
        children.push(child);
        ports.push(port);
    }
    (children, ports)
}

/// Waits for `child` to exit successfully, at most `patience` (then kills it and fails).
fn exits_within(mut child: Child, patience: Duration) {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "a worker failed: {status}");
            return;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("a worker did not exit within {patience:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[derive(Clone)]
struct Ports(Vec<u16>);

impl WorkerResolver for Ports {
    fn get_urls(&self) -> Result<Vec<url::Url>, DataFusionError> {
        Ok(self
            .0
            .iter()
            .map(|port| url::Url::parse(&format!("http://127.0.0.1:{port}")).expect("a url"))
            .collect())
    }
}

/// The generated tables: `t` (id, k, v) in `FILES` CSV files, `u` (k, name).
fn data() -> &'static Path {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("pipetel-distributed-{}", std::process::id()));
        let t = dir.join("t");
        std::fs::create_dir_all(&t).expect("the data directory");
        for file in 0..FILES {
            let mut text = String::from("id,k,v\n");
            let per_file = ROWS / FILES;
            for id in file * per_file..(file + 1) * per_file {
                text.push_str(&format!("{id},{},{}\n", id % 10, id * 7919 % 1000));
            }
            std::fs::write(t.join(format!("part-{file}.csv")), text).expect("write");
        }
        let u = dir.join("u");
        std::fs::create_dir_all(&u).expect("the data directory");
        let names: String = (0..10).map(|k| format!("{k},name-{}\n", k % 3)).collect();
        std::fs::write(u.join("u.csv"), format!("k,name\n{names}")).expect("write");
        dir
    })
}

async fn session(ports: &[u16], instrumented: bool) -> SessionContext {
    let mut builder = SessionStateBuilder::new()
        .with_default_features()
        .with_distributed_worker_resolver(Ports(ports.to_vec()))
        .with_distributed_planner()
        .with_distributed_file_scan_config_bytes_per_partition(1)
        .expect("a setting");
    if instrumented {
        builder = coordinator_session(builder);
    }
    let ctx = SessionContext::from(builder.build());
    for table in ["t", "u"] {
        let path = data().join(table);
        ctx.register_csv(table, path.to_str().expect("utf-8"), CsvReadOptions::new())
            .await
            .expect("a table");
    }
    ctx
}

fn telemetry() {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(|| pipetel::Config::new().collect_locally(true).init());
}

/// Every node of `plan`, in pre-order.
fn pre_order(plan: &Arc<dyn ExecutionPlan>) -> Vec<Arc<dyn ExecutionPlan>> {
    let mut nodes = vec![Arc::clone(plan)];
    for child in plan.children() {
        nodes.extend(pre_order(child));
    }
    nodes
}

/// One query as the coordinator ran it: its plan (numbered, wrapped), DataFusion's
/// metrics of it, its results with and without pipetel, and its job.
struct Ran {
    sql: &'static str,
    plan: Arc<dyn ExecutionPlan>,
    rewritten: Arc<dyn ExecutionPlan>,
    results: String,
    plain_results: String,
    job: String,
}

/// Runs `sql` on `ctx` (with pipetel) and `plain` (without).
async fn run(sql: &'static str, ctx: &SessionContext, plain: &SessionContext) -> Ran {
    let plan = ctx
        .sql(sql)
        .await
        .expect("sql")
        .create_physical_plan()
        .await
        .expect("a plan");
    let job = Placement::of(&plan).job.expect("the plan's job");
    let batches = collect(Arc::clone(&plan), ctx.task_ctx())
        .await
        .expect("results");
    let rewritten = rewrite_distributed_plan_with_metrics(
        Arc::clone(&plan),
        DistributedMetricsFormat::Aggregated,
    )
    .await
    .expect("the metrics");
    let plain_batches = plain
        .sql(sql)
        .await
        .expect("sql")
        .collect()
        .await
        .expect("results");
    Ran {
        sql,
        plan,
        rewritten,
        results: pretty_format_batches(&batches).expect("text").to_string(),
        plain_results: pretty_format_batches(&plain_batches)
            .expect("text")
            .to_string(),
        job,
    }
}

#[test]
fn every_node_of_every_stage_counts_the_rows_datafusion_counts() {
    telemetry();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = std::env::temp_dir().join(format!("pipetel-distributed-{}-jobs", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Long-lived workers serving every query, two at a time: each query a job of its own.
    let (mut children, ports) = workers(Some(&dir));
    // The same queries without pipetel on the coordinator, on workers of their own.
    let (mut plain_children, plain_ports) = workers(None);
    let ran: Vec<Ran> = runtime.block_on(async {
        let ctx = session(&ports, true).await;
        let plain = session(&plain_ports, false).await;
        let mut ran = Vec::new();
        for pair in QUERIES.chunks(2) {
            let both = futures::future::join_all(pair.iter().map(|sql| run(sql, &ctx, &plain)));
            ran.extend(both.await);
        }
        ran
    });
    // The workers stop; their last snapshots, and their parts of each job, are in the
    // directory.
    for child in children.iter_mut().chain(&mut plain_children) {
        drop(child.stdin.take());
    }
    for child in children.into_iter().chain(plain_children) {
        exits_within(child, Duration::from_secs(120));
    }
    let jobs = merge_files([&dir]).expect("the workers' snapshots");
    assert_eq!(
        jobs.iter().filter(|job| job.job().is_some()).count(),
        QUERIES.len(),
        "one merged snapshot per query"
    );

    let mut compared = 0;
    let mut stitched = 0;
    for Ran {
        sql,
        plan,
        rewritten,
        results,
        plain_results,
        job,
    } in ran
    {
        assert_eq!(results, plain_results, "{sql}");
        let query = pipetel_datafusion::query_of(&plan).expect("a query");
        let deadline = Instant::now() + Duration::from_secs(60);
        let coordinator = loop {
            if let Some(view) = query.snapshot().filter(|view| view.calls_running() == 0) {
                break view;
            }
            assert!(
                Instant::now() < deadline,
                "{sql}: the query's tasks never ended"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(coordinator.job(), Some(job.as_str()), "{sql}");
        let workers = jobs
            .iter()
            .find(|snapshot| snapshot.job() == Some(job.as_str()))
            .unwrap_or_else(|| panic!("{sql}: no worker wrote a part of job {job}"));
        let merged = Snapshot::merge([coordinator, workers.clone()]);
        if std::env::var_os("SHOW").is_some() {
            eprintln!("== {sql}\n{}", pipetel::Report::of(merged.clone()));
        }
        let ids = pipetel_datafusion::node_ids(&plan);
        let nodes = pre_order(&plan);
        let measured = pre_order(&rewritten);
        assert_eq!(
            nodes.len(),
            measured.len(),
            "{sql}: the rewrite kept the plan's shape"
        );
        for (at, (node, id)) in nodes.iter().zip(&ids).enumerate() {
            let id = id.unwrap_or_else(|| panic!("{sql}: {} has no id", node.name()));
            // Each node of a stage counts where its task ran, under its id; a node the
            // worker specialised for its task (a leaf scan) under the name it has there.
            let counted: u64 = merged
                .operators
                .iter()
                .filter(|op| op.node_id == id.to_string())
                .map(|op| op.rows.produced)
                .sum();
            if let Some(rows) = measured[at]
                .metrics()
                .and_then(|metrics| metrics.output_rows())
            {
                assert_eq!(
                    counted,
                    rows as u64,
                    "{sql}: {} {id} counted {counted} rows, DataFusion {rows}\n{}",
                    node.name(),
                    pipetel::Report::of(merged.clone())
                );
                compared += 1;
            }
            // Stitched: a boundary's edge from the stage it reads, run in other
            // processes, carries what that stage handed over.
            if node.name().starts_with("Network") && node.name() != "NetworkBroadcastExec" {
                let stage = &node.children()[0];
                let edge = merged
                    .edges
                    .iter()
                    .find(|edge| {
                        edge.to.node_id == id.to_string()
                            && edge.from.node_id == (id + 1).to_string()
                    })
                    .unwrap_or_else(|| {
                        panic!(
                            "{sql}: no edge from {} {} to {} {id}",
                            stage.name(),
                            id + 1,
                            node.name()
                        )
                    });
                assert_eq!(edge.from.node_type, stage.name(), "{sql}");
                assert_eq!(edge.rows, counted, "{sql}: {} {id}", node.name());
                stitched += 1;
            }
        }
        // Every edge of the merged graph conserves its rows, the boundaries' included:
        // what each stage handed over, in the processes that ran it, is what the
        // boundaries reading it took, in theirs.
        assert!(
            merged.imbalances.is_empty(),
            "{sql}: {:?}",
            merged.imbalances
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(compared >= 40, "only {compared} nodes compared");
    assert!(stitched >= 8, "only {stitched} boundaries stitched");
}
