//! pipetel-datafusion against real DataFusion plans over generated data: every node's
//! rows out equal DataFusion's own `output_rows`, busy time adds up, work on spawned
//! tasks is filed where it belongs, one query's view holds only that query, and the
//! wrappers change nothing DataFusion sees.
//!
//! One test binary (DataFusion is a large link), tests run one at a time (they read
//! process-wide counters).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::metrics::{BaselineMetrics, MetricValue};
use datafusion::physical_plan::{collect, displayable, ExecutionPlan};
use datafusion::prelude::SessionContext;
use pipetel::engine::EngineValue;
use pipetel::snapshot::{EdgeVia, OperatorSnapshot, Snapshot};
use pipetel::Telemetry;
use pipetel_datafusion::{PipetelExec, Placement};

#[path = "../workload.rs"]
mod workload;

use workload::QUERIES;

const ORDERS: i64 = 400_000;
const PARTITIONS: usize = 4;

/// Telemetry for the whole binary, and the lock each test holds.
fn serial() -> MutexGuard<'static, ()> {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    static SERIAL: Mutex<()> = Mutex::new(());
    TELEMETRY.get_or_init(|| {
        let telemetry = pipetel::Config::new().collect_locally(true).init();
        assert!(telemetry.is_enabled());
        telemetry
    });
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn session(instrumented: bool) -> SessionContext {
    workload::session(instrumented, ORDERS, PARTITIONS)
}

async fn plan(ctx: &SessionContext, sql: &str) -> Arc<dyn ExecutionPlan> {
    ctx.sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap()
}

/// Every node of `plan`, top-down (the positions the rule numbers).
fn nodes(plan: &Arc<dyn ExecutionPlan>) -> Vec<Arc<dyn ExecutionPlan>> {
    let mut nodes = vec![plan.clone()];
    for child in plan.children() {
        nodes.extend(self::nodes(child));
    }
    nodes
}

/// One query run: its plan, its rows, and what pipetel counted of it.
struct Ran {
    plan: Arc<dyn ExecutionPlan>,
    rows: usize,
    counted: Snapshot,
    wall: Duration,
    cpu: Duration,
}

/// A query executed: its plan and rows, with the wall and process CPU time it took.
struct Executed {
    plan: Arc<dyn ExecutionPlan>,
    rows: usize,
    wall: Duration,
    cpu: Duration,
}

async fn execute(ctx: &SessionContext, sql: &str) -> Executed {
    let plan = plan(ctx, sql).await;
    let (cpu_before, started) = (process_cpu(), Instant::now());
    let batches = collect(plan.clone(), ctx.task_ctx()).await.unwrap();
    let (wall, cpu) = (started.elapsed(), process_cpu() - cpu_before);
    Executed {
        rows: batches.iter().map(RecordBatch::num_rows).sum(),
        plan,
        wall,
        cpu,
    }
}

/// Runs `query` on a runtime of its own and counts it once that runtime has shut down.
/// When a consumer stops early (a LIMIT, a TopK merge), DataFusion aborts the tasks it
/// spawned for the inputs; an aborted task's stream is dropped (its pipetel task counted
/// cancelled) later, on a worker. Shutting the runtime down drops every one of them, so
/// the counts read afterwards are final.
fn run(query: impl std::future::Future<Output = Executed>) -> Ran {
    let before = pipetel::snapshot();
    let executed = runtime().block_on(query);
    let counted = pipetel::snapshot().since(&before);
    Ran {
        plan: executed.plan,
        rows: executed.rows,
        counted,
        wall: executed.wall,
        cpu: executed.cpu,
    }
}

fn process_cpu() -> Duration {
    // SAFETY: getrusage writes into the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn operator<'a>(snapshot: &'a Snapshot, position: usize, name: &str) -> &'a OperatorSnapshot {
    snapshot
        .operators
        .iter()
        .find(|op| op.node_id == position.to_string() && op.node_type == name)
        .unwrap_or_else(|| panic!("no operator {name} {position} in {snapshot:#?}"))
}

#[test]
fn every_node_counts_the_rows_datafusion_counts() {
    let _serial = serial();
    let ctx = session(true);
    let mut compared = 0;
    for (shape, sql) in QUERIES {
        let ran = run(execute(&ctx, sql));
        let nodes = nodes(&ran.plan);
        for (position, node) in nodes.iter().enumerate() {
            let op = operator(&ran.counted, position, node.name());
            let datafusion = node.metrics().and_then(|metrics| metrics.output_rows());
            if let Some(rows) = datafusion {
                assert_eq!(
                    op.rows.produced,
                    rows as u64,
                    "{shape}: {} {position} counted {} rows, DataFusion {rows}\n{}",
                    node.name(),
                    op.rows.produced,
                    displayable(ran.plan.as_ref()).indent(true)
                );
                // The node's own metrics came along, with the same figure.
                assert_eq!(
                    op.engine_metrics.get("output_rows"),
                    Some(&EngineValue::Count(rows as u64))
                );
                compared += 1;
            }
            // Each partition the node executed is one task, and all ended.
            assert_eq!(op.calls.active, 0, "{shape}: {} {position}", node.name());
            assert!(op.calls.completed + op.calls.cancelled > 0);
        }
        // The root's rows are the query's rows.
        assert_eq!(
            operator(&ran.counted, 0, nodes[0].name()).rows.produced,
            ran.rows as u64
        );
        // Rows in are what the children handed out.
        for (position, node) in nodes.iter().enumerate() {
            let children: u64 = node
                .children()
                .iter()
                .map(|child| {
                    let at = nodes.iter().position(|n| Arc::ptr_eq(n, child)).unwrap();
                    operator(&ran.counted, at, child.name()).rows.produced
                })
                .sum();
            assert_eq!(
                operator(&ran.counted, position, node.name()).rows.received,
                children
            );
        }
    }
    // Most nodes report output_rows; every one that does agrees.
    assert!(compared >= 12, "only {compared} nodes reported output_rows");
}

/// `plan` with pipetel's wrappers taken off, as a plan encoded for another process
/// arrives there.
fn unwrapped(plan: &Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
    let node = match (plan.as_ref() as &dyn std::any::Any).downcast_ref::<PipetelExec>() {
        Some(wrapper) => Arc::clone(wrapper.inner()),
        None => Arc::clone(plan),
    };
    let children: Vec<_> = node.children().into_iter().map(unwrapped).collect();
    if children.is_empty() {
        node
    } else {
        node.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep),
        )
        .unwrap()
    }
}

#[test]
fn a_fragment_run_elsewhere_keeps_the_ids_of_the_whole_plan_and_counts_its_rows() {
    let _serial = serial();
    let ctx = session(true);
    let rt = runtime();
    for (shape, sql) in QUERIES {
        let whole = rt.block_on(plan(&ctx, sql));
        let positions: Vec<Option<u64>> = (0..nodes(&whole).len() as u64).map(Some).collect();
        assert_eq!(pipetel_datafusion::node_ids(&whole), positions, "{shape}");
        // The root's first child's subtree: a stage, as the planning process reads its
        // ids and another process receives it, without wrappers, its root and its last
        // leaf rebuilt (no id; a stage of three nodes or more keeps one to go by).
        let Some(stage) = whole.children().first().map(|child| Arc::clone(child)) else {
            continue;
        };
        let ids = pipetel_datafusion::node_ids(&stage);
        let mut sent = Placement::of(&stage);
        assert_eq!(sent.ids, ids, "{shape}");
        assert_eq!(
            sent.output_to,
            Some((whole.name().to_owned(), 0)),
            "{shape}"
        );
        assert!(sent.reading_elsewhere.is_empty(), "{shape}");
        if sent.ids.len() >= 3 {
            sent.ids[0] = None;
            *sent.ids.last_mut().unwrap() = None;
        }
        let fragment = pipetel_datafusion::wrap_fragment(unwrapped(&stage), &sent).unwrap();
        assert_eq!(pipetel_datafusion::node_ids(&fragment), ids, "{shape}");
        // Handed over within the process, still wrapped: left as it is.
        let again = pipetel_datafusion::wrap_fragment(Arc::clone(&fragment), &Placement::default())
            .unwrap();
        assert!(Arc::ptr_eq(&again, &fragment), "{shape}: wrapped twice");

        // Run there: each node counted under its id of the whole plan, its rows
        // DataFusion's.
        let query = pipetel_datafusion::query_of(&fragment).expect("a query");
        rt.block_on(collect(Arc::clone(&fragment), ctx.task_ctx()))
            .unwrap();
        let view = wait_for_view(query);
        // Its output goes to the node it feeds in the whole plan, which runs elsewhere:
        // the edge carries the root's rows, the node's rows in are not counted here.
        let root = operator(&view, ids[0].unwrap() as usize, fragment.name());
        let out = view
            .edges
            .iter()
            .find(|edge| edge.to.node_type == whole.name() && edge.to.node_id == "0")
            .unwrap_or_else(|| panic!("{shape}: no edge to {}", whole.name()));
        assert_eq!(out.rows, root.rows.produced, "{shape}");
        assert!(view.operator(whole.name(), "0").is_none(), "{shape}");
        for (node, id) in nodes(&fragment).iter().zip(&ids) {
            let id = id.expect("every node of the planned stage is wrapped") as usize;
            let op = operator(&view, id, node.name());
            if let Some(rows) = node.metrics().and_then(|metrics| metrics.output_rows()) {
                assert_eq!(
                    op.rows.produced,
                    rows as u64,
                    "{shape}: {} {id}",
                    node.name()
                );
            }
        }
    }
}

/// The view of `query` once nothing of it runs.
fn wait_for_view(query: pipetel::RunId) -> Snapshot {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(view) = query.snapshot().filter(|view| view.calls_running() == 0) {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "the fragment's tasks never ended"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_graph_is_the_plan_with_each_childs_rows_on_its_edge() {
    let _serial = serial();
    let ctx = session(true);
    for (shape, sql) in QUERIES {
        let ran = run(execute(&ctx, sql));
        let nodes = nodes(&ran.plan);
        let name = |position: usize| format!("{} {position}", nodes[position].name());
        let mut expected = BTreeSet::new();
        for (position, node) in nodes.iter().enumerate() {
            for child in node.children() {
                let at = nodes.iter().position(|n| Arc::ptr_eq(n, child)).unwrap();
                expected.insert((name(at), name(position)));
            }
        }
        let found: BTreeSet<(String, String)> = ran
            .counted
            .edges
            .iter()
            .map(|edge| {
                (
                    format!("{} {}", edge.from.node_type, edge.from.node_id),
                    format!("{} {}", edge.to.node_type, edge.to.node_id),
                )
            })
            .collect();
        assert_eq!(
            found,
            expected,
            "{shape}: every edge of the plan, and no other\n{}",
            displayable(ran.plan.as_ref()).indent(true)
        );
        for edge in &ran.counted.edges {
            assert_eq!(edge.via, EdgeVia::Plan, "{shape}: {edge:?}");
            let child: usize = edge.from.node_id.parse().unwrap();
            let producer = operator(&ran.counted, child, nodes[child].name());
            // What crossed is what the child produced: DataFusion's own output_rows.
            assert_eq!(edge.rows, producer.rows.produced, "{shape}: {edge:?}");
            if let Some(rows) = nodes[child].metrics().and_then(|m| m.output_rows()) {
                assert_eq!(edge.rows, rows as u64, "{shape}: {edge:?}");
            }
            // The bytes handed on are the edge's: the node wrote none to a destination.
            assert!(edge.rows == 0 || edge.bytes > 0, "{shape}: {edge:?}");
            assert_eq!(producer.bytes.written, 0, "{shape}: {edge:?}");
        }
        assert!(
            ran.counted.imbalances.is_empty(),
            "{shape}: {:#?}",
            ran.counted.imbalances
        );
        let dot = pipetel::Report::of(ran.counted.clone()).dot();
        assert_eq!(dot.matches(" -> ").count(), expected.len(), "{dot}");
    }
}

#[test]
fn skew_across_partitions_is_the_score_datafusion_gives() {
    let _serial = serial();
    let ctx = session(true);
    let (mut compared, mut skewed) = (0, 0);
    for (shape, sql) in QUERIES {
        let ran = run(execute(&ctx, sql));
        for (position, node) in nodes(&ran.plan).iter().enumerate() {
            let Some(metrics) = node.metrics() else {
                continue;
            };
            let Some(theirs) = BaselineMetrics::output_rows_skew_metric(&metrics) else {
                continue;
            };
            let MetricValue::Ratio { ratio_metrics, .. } = theirs.value() else {
                panic!("{theirs:?}");
            };
            let op = operator(&ran.counted, position, node.name());
            let partitions = node.properties().output_partitioning().partition_count();
            if partitions < 2 || ratio_metrics.total() == 0 {
                continue;
            }
            // The same partitions, with the same rows.
            let ours = op
                .skew
                .across_partitions
                .as_ref()
                .unwrap_or_else(|| panic!("{shape}: {} {position}: {op:#?}", node.name()));
            let score = ours.rows.skew.expect("rows");
            let theirs = ratio_metrics.part() as f64 / ratio_metrics.total() as f64;
            assert!(
                (score - theirs).abs() <= 0.5e-4,
                "{shape}: {} {position}: pipetel {score}, DataFusion {theirs}",
                node.name()
            );
            println!("{shape}: {} {position}: skew {score:.4}", node.name());
            compared += 1;
            skewed += usize::from(score > 0.01);
        }
    }
    assert!(compared >= 4, "only {compared} nodes compared");
    // Not only balanced nodes: some partitions differ (a filter keeps more of some).
    assert!(skewed >= 1, "every node compared was balanced");
}

#[test]
fn busy_time_adds_up_to_at_most_the_threads_time_and_covers_most_of_the_work() {
    let _serial = serial();
    let ctx = session(true);
    let ran = run(execute(&ctx, QUERIES[2].1));
    let busy: Duration = ran.counted.operators.iter().map(|op| op.time.busy).sum();
    // Two workers and the thread blocking on the query can poll operators; busy time is
    // exclusive (a parent's poll less its children's), so it never counts a moment twice.
    let threads = 3;
    assert!(
        busy <= ran.wall * threads,
        "busy {busy:?} > wall {:?} × {threads}",
        ran.wall
    );
    let coverage = busy.as_secs_f64() / ran.cpu.as_secs_f64();
    println!(
        "hash join: busy {busy:?}, process CPU {:?}, wall {:?}: operators cover {:.0}% of the CPU",
        ran.cpu,
        ran.wall,
        coverage * 100.0
    );
    assert!(
        coverage > 0.5,
        "operators cover {:.0}% of the CPU",
        coverage * 100.0
    );
}

#[test]
fn work_on_spawned_tasks_is_filed_under_the_nodes_and_the_step_that_asked_for_it() {
    let _serial = serial();
    let ctx = session(true);

    #[pipetel::pipeline_step]
    async fn aggregate(ctx: &SessionContext) -> Executed {
        execute(ctx, QUERIES[1].1).await
    }

    let ran = run(aggregate(&ctx));
    let nodes = nodes(&ran.plan);
    let repartitions: Vec<usize> = nodes
        .iter()
        .enumerate()
        .filter(|(_, node)| node.name() == "RepartitionExec")
        .map(|(position, _)| position)
        .collect();
    assert!(
        !repartitions.is_empty(),
        "{}",
        displayable(ran.plan.as_ref()).indent(true)
    );
    for &position in &repartitions {
        // Below a RepartitionExec, nodes run in tasks DataFusion spawns: they are still
        // counted, exactly, under their own names, and under the step.
        let child = &nodes[position].children()[0];
        let at = nodes.iter().position(|n| Arc::ptr_eq(n, child)).unwrap();
        let op = operator(&ran.counted, at, child.name());
        assert!(op.time.busy > Duration::ZERO);
        assert_eq!(
            op.rows.produced,
            child.metrics().and_then(|m| m.output_rows()).unwrap() as u64
        );
    }
    for op in &ran.counted.operators {
        assert_eq!(
            op.step.as_deref(),
            Some("aggregate"),
            "{} {} was filed outside the step",
            op.node_type,
            op.node_id
        );
    }
    // The same query again, outside any step: none of its nodes is filed under the step
    // that ran them before.
    let again = run(execute(&ctx, QUERIES[1].1));
    assert_eq!(again.rows, ran.rows);
    for op in &again.counted.operators {
        assert_eq!(
            (op.pipeline.as_deref(), op.step.as_deref()),
            (None, None),
            "{} {} ran outside any step",
            op.node_type,
            op.node_id
        );
    }
    let report = pipetel::Report::of(again.counted).to_string();
    assert!(report.contains("operators outside any step"), "{report}");
}

#[test]
fn one_querys_view_holds_only_that_query_in_plan_order() {
    let _serial = serial();
    let ctx = session(true);
    // Another query first, whose nodes share names and positions with this one's.
    run(execute(&ctx, QUERIES[0].1));
    let ran = run(execute(&ctx, QUERIES[3].1));
    assert_eq!(ran.rows, 10);
    let nodes = nodes(&ran.plan);
    assert_eq!(ran.counted.operators.len(), nodes.len());
    let positions: Vec<usize> = nodes
        .iter()
        .enumerate()
        .map(|(position, node)| {
            assert!(
                operator(&ran.counted, position, node.name())
                    .calls
                    .completed
                    > 0
            );
            position
        })
        .collect();
    // The report lists the plan top-down.
    let report = pipetel::Report::of(ran.counted.clone()).to_string();
    let mut at = 0;
    for position in positions {
        let line = format!("{} {position}", nodes[position].name());
        let found = report[at..]
            .find(&line)
            .unwrap_or_else(|| panic!("{line} not after offset {at} in\n{report}"));
        at += found + line.len();
    }
}

#[test]
fn datafusion_sees_the_same_plans_and_results() {
    let _serial = serial();
    let runtime = runtime();
    let (plain, instrumented) = (session(false), session(true));
    for (shape, sql) in QUERIES {
        let (plain_plan, measured_plan) =
            runtime.block_on(async { (plan(&plain, sql).await, plan(&instrumented, sql).await) });
        // EXPLAIN shows the same plan, and a downcast finds the node, not the wrapper.
        assert_eq!(
            displayable(plain_plan.as_ref()).indent(true).to_string(),
            displayable(measured_plan.as_ref()).indent(true).to_string(),
            "{shape}"
        );
        for (plain_node, node) in nodes(&plain_plan).iter().zip(nodes(&measured_plan)) {
            assert_eq!(plain_node.name(), node.name());
            assert!((node.as_ref() as &dyn std::any::Any).is::<pipetel_datafusion::PipetelExec>());
            assert!(node.downcast_delegate().is_some());
        }
        let results = |ctx: &SessionContext, plan: Arc<dyn ExecutionPlan>| {
            let batches = runtime.block_on(collect(plan, ctx.task_ctx())).unwrap();
            let mut rows: Vec<String> =
                datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                    .unwrap()
                    .to_string()
                    .lines()
                    .map(str::to_owned)
                    .collect();
            rows.sort();
            rows
        };
        assert_eq!(
            results(&plain, plain_plan),
            results(&instrumented, measured_plan),
            "{shape}"
        );
    }
    // The rule twice wraps nothing twice.
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_physical_optimizer_rule(pipetel_datafusion::rule())
        .with_physical_optimizer_rule(pipetel_datafusion::rule())
        .build();
    let twice = SessionContext::new_with_state(state);
    let plan = runtime.block_on(plan(&twice, "SELECT 1 AS one"));
    for node in nodes(&plan) {
        let wrapper = (node.as_ref() as &dyn std::any::Any)
            .downcast_ref::<pipetel_datafusion::PipetelExec>()
            .expect("wrapped");
        assert!(!(wrapper.inner().as_ref() as &dyn std::any::Any)
            .is::<pipetel_datafusion::PipetelExec>());
    }
}

#[test]
fn explain_analyze_still_shows_datafusions_metrics() {
    let _serial = serial();
    let ctx = session(true);
    let batches = runtime()
        .block_on(async {
            ctx.sql(&format!("EXPLAIN ANALYZE {}", QUERIES[0].1))
                .await?
                .collect()
                .await
        })
        .unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert!(text.contains("output_rows="), "{text}");
}

#[test]
fn a_dataframe_query_keeps_its_nodes_metrics_after_datafusion_drops_the_plan() {
    let _serial = serial();
    let ctx = session(true);
    // DataFrame::collect drops the plan as soon as the streams exist; the nodes go on
    // counting into their metrics while the streams run.
    let runtime = runtime();
    for (shape, sql) in QUERIES {
        let before = pipetel::snapshot();
        let rows: usize = runtime
            .block_on(async { ctx.sql(sql).await?.collect().await })
            .unwrap()
            .iter()
            .map(RecordBatch::num_rows)
            .sum();
        let counted = pipetel::snapshot().since(&before);
        let mut compared = 0;
        for op in &counted.operators {
            if let Some(EngineValue::Count(rows)) = op.engine_metrics.get("output_rows") {
                assert_eq!(
                    op.rows.produced, *rows,
                    "{shape}: {} {}",
                    op.node_type, op.node_id
                );
                compared += 1;
            }
        }
        assert!(compared >= 1, "{shape}: no node with output_rows");
        assert_eq!(
            operator_named_root(&counted).rows.produced,
            rows as u64,
            "{shape}"
        );
    }
}

fn operator_named_root(snapshot: &Snapshot) -> &OperatorSnapshot {
    snapshot
        .operators
        .iter()
        .find(|op| op.node_id == "0")
        .expect("the root")
}

/// `sql`'s rows as printed, sorted (the order a query without `ORDER BY` gives is not
/// fixed), or its error's message.
fn rows_or_error(ctx: &SessionContext, sql: &str) -> Result<Vec<String>, String> {
    let batches = runtime()
        .block_on(async { ctx.sql(sql).await?.collect().await })
        .map_err(|error| error.to_string())?;
    let mut rows: Vec<String> = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string()
        .lines()
        .map(str::to_owned)
        .collect();
    rows.sort();
    Ok(rows)
}

#[test]
fn a_recursive_query_runs_as_without_the_rule_and_is_counted() {
    let _serial = serial();
    // The recursive term's work table reaches its WorkTableExec through the plan tree
    // (`with_new_state`), through the wrapper around it.
    let sql = "WITH RECURSIVE numbers(n) AS \
               (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < 5) \
               SELECT n FROM numbers";
    let plain = rows_or_error(&session(false), sql);
    assert_eq!(plain.as_ref().map(Vec::len), Ok(9), "{plain:?}"); // 5 rows and the frame
    let ctx = session(true);
    let before = pipetel::snapshot();
    assert_eq!(rows_or_error(&ctx, sql), plain);
    let counted = pipetel::snapshot().since(&before);
    let work_table = counted
        .operators
        .iter()
        .find(|op| op.node_type == "WorkTableExec")
        .unwrap_or_else(|| panic!("the work table counted: {counted:#?}"));
    // One row handed to each of the five iterations of the recursive term.
    assert_eq!(work_table.rows.produced, 5);
    assert_eq!(operator_named_root(&counted).rows.produced, 5);
    assert!(counted.operators.iter().all(|op| op.calls.failed == 0));
}

#[test]
fn every_node_gives_datafusions_statistics_as_without_the_rule() {
    use datafusion::physical_plan::{StatisticsArgs, StatisticsContext};
    let _serial = serial();
    let runtime = runtime();
    let (plain, instrumented) = (session(false), session(true));
    for (shape, sql) in QUERIES {
        let (plain_plan, measured_plan) =
            runtime.block_on(async { (plan(&plain, sql).await, plan(&instrumented, sql).await) });
        let (plain_nodes, measured_nodes) = (nodes(&plain_plan), nodes(&measured_plan));
        assert_eq!(plain_nodes.len(), measured_nodes.len(), "{shape}");
        let mut exact = 0;
        for (plain_node, node) in plain_nodes.iter().zip(&measured_nodes) {
            let partitions = plain_node.properties().partitioning.partition_count();
            for partition in std::iter::once(None).chain((0..partitions).map(Some)) {
                let args = StatisticsArgs::new().with_partition(partition);
                let expected = StatisticsContext::new()
                    .compute(plain_node.as_ref(), &args)
                    .unwrap();
                let given = StatisticsContext::new()
                    .compute(node.as_ref(), &args)
                    .unwrap();
                assert_eq!(
                    given,
                    expected,
                    "{shape}: {} partition {partition:?}",
                    node.name()
                );
                exact += usize::from(expected.num_rows.get_value().is_some());
            }
        }
        // The statistics compared are not all unknown: the scans know their rows.
        assert!(exact > 0, "{shape}: no node knows its rows");
    }
}

#[test]
fn an_error_fails_the_node_that_raised_it_and_cancels_the_nodes_it_passes() {
    let _serial = serial();
    let ctx = session(true);
    // The projection's cast fails at run time; the sort above it only hands the error on.
    let sql = "SELECT CAST(region AS INT) AS r FROM orders ORDER BY r";
    let before = pipetel::snapshot();
    let error = rows_or_error(&ctx, sql).expect_err("the cast fails");
    assert!(error.contains("Cannot cast string"), "{error}");
    let counted = pipetel::snapshot().since(&before);
    let failed: Vec<(&str, u64)> = counted
        .operators
        .iter()
        .filter(|op| op.calls.failed > 0)
        .map(|op| (op.node_type.as_str(), op.calls.failed))
        .collect();
    assert!(
        !failed.is_empty() && failed.iter().all(|(node, _)| *node == "ProjectionExec"),
        "only the projection failed: {failed:?} in {counted:#?}"
    );
    let sort = counted
        .operators
        .iter()
        .find(|op| op.node_type == "SortExec")
        .expect("the sort");
    assert_eq!(sort.calls.failed, 0);
    assert!(sort.calls.cancelled > 0, "{:?}", sort.calls);
    let failures: Vec<&str> = counted
        .diagnoses
        .iter()
        .filter(|found| found.kind == pipetel::diagnose::DiagnosisKind::Failures)
        .map(|found| found.message.as_str())
        .collect();
    assert!(
        failures.len() == 1 && failures[0].contains("ProjectionExec"),
        "{failures:?}"
    );
    // The query's runtime has shut down: every task has ended, and the view is a tree
    // although the projection handed nothing to the sort.
    assert_eq!(counted.calls_running(), 0);
    let sort = sort.node();
    let into_sort: Vec<_> = counted.edges_into(&sort).collect();
    assert!(
        into_sort.len() == 1 && into_sort[0].from.node_type == "ProjectionExec",
        "{:?}",
        counted.edges
    );
}

#[test]
fn rules_that_run_after_the_wrappers_rewrite_the_nodes_as_without_them() {
    use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
    let _serial = serial();
    let runtime = runtime();
    let plain = session(false);
    // The rule first, then every rule of DataFusion's: each pushdown (filters, sorts,
    // limits, projections), the statistics rules and the plan rewrites reach the nodes
    // through their wrappers, and the plan comes out as DataFusion makes it alone.
    let mut rules = vec![pipetel_datafusion::rule()];
    rules.extend(PhysicalOptimizer::new().rules);
    let (orders, customers) = workload::tables(ORDERS, PARTITIONS);
    let wrapped_first = SessionContext::new_with_state(
        SessionStateBuilder::new()
            .with_config(plain.copied_config())
            .with_default_features()
            .with_physical_optimizer_rules(rules)
            .build(),
    );
    wrapped_first
        .register_table("orders", Arc::new(orders))
        .unwrap();
    wrapped_first
        .register_table("customers", Arc::new(customers))
        .unwrap();
    let shapes = QUERIES.iter().copied().chain([
        (
            "filter above a join",
            "SELECT o.id, c.segment FROM orders o JOIN customers c ON o.customer = c.id \
             WHERE o.amount > 990.0 AND c.segment = 'online'",
        ),
        (
            "projection over a sorted limit",
            "SELECT id + 1 AS next FROM (SELECT id FROM orders ORDER BY id LIMIT 5)",
        ),
    ]);
    for (shape, sql) in shapes {
        let (plain_plan, wrapped_plan) =
            runtime.block_on(async { (plan(&plain, sql).await, plan(&wrapped_first, sql).await) });
        assert_eq!(
            displayable(wrapped_plan.as_ref()).indent(true).to_string(),
            displayable(plain_plan.as_ref()).indent(true).to_string(),
            "{shape}"
        );
    }
}

/// The hash join query over the orders above `amount`: one plan shape whatever the
/// amount, so two of them share every node's name and position.
fn join_over(amount: f64) -> String {
    format!(
        "SELECT c.segment, COUNT(*) AS n, SUM(o.amount) AS total FROM orders o \
         JOIN customers c ON o.customer = c.id WHERE o.amount > {amount:.1} \
         GROUP BY c.segment ORDER BY c.segment"
    )
}

/// A query planned, then run once the other query has been planned too.
struct Concurrent {
    plan: Arc<dyn ExecutionPlan>,
    query: pipetel::RunId,
    rows: usize,
    /// When its execution started and ended.
    started: Instant,
    ended: Instant,
}

impl pipetel::Rows for Concurrent {
    fn rows(&self) -> u64 {
        self.rows as u64
    }
}

async fn planned_then_run(
    ctx: &SessionContext,
    sql: &str,
    meet: &tokio::sync::Barrier,
) -> Result<Concurrent, String> {
    let plan = plan(ctx, sql).await;
    let query = pipetel_datafusion::query_of(&plan).ok_or("the query counts apart")?;
    meet.wait().await;
    let started = Instant::now();
    let batches = collect(plan.clone(), ctx.task_ctx())
        .await
        .map_err(|error| error.to_string())?;
    Ok(Concurrent {
        plan,
        query,
        rows: batches.iter().map(RecordBatch::num_rows).sum(),
        started,
        ended: Instant::now(),
    })
}

#[derive(pipetel::Pipeline)]
struct Reports;

impl Reports {
    #[pipetel::pipeline_step]
    async fn big_spenders(
        &self,
        ctx: &SessionContext,
        meet: &tokio::sync::Barrier,
    ) -> Result<Concurrent, String> {
        planned_then_run(ctx, &join_over(900.0), meet).await
    }

    #[pipetel::pipeline_step]
    async fn everyone(
        &self,
        ctx: &SessionContext,
        meet: &tokio::sync::Barrier,
    ) -> Result<Concurrent, String> {
        planned_then_run(ctx, &join_over(0.0), meet).await
    }
}

#[test]
fn two_queries_at_once_in_two_steps_each_have_datafusions_own_figures() {
    use pipetel::Pipeline as _;

    let _serial = serial();
    let ctx = session(true);
    let meet = tokio::sync::Barrier::new(2);
    let before = pipetel::snapshot();
    let runtime = runtime();
    let (big, all) = runtime.block_on(async {
        tokio::join!(
            Reports.run_async(Reports.big_spenders(&ctx, &meet)),
            Reports.run_async(Reports.everyone(&ctx, &meet)),
        )
    });
    // Aborted tasks end when the runtime shuts down.
    drop(runtime);
    let (big, all) = (big.unwrap(), all.unwrap());
    assert!(
        big.started < all.ended && all.started < big.ended,
        "they overlapped"
    );
    assert!(big.rows > 0 && all.rows > 0);
    let (big_nodes, all_nodes) = (nodes(&big.plan), nodes(&all.plan));
    let names = |nodes: &[Arc<dyn ExecutionPlan>]| -> Vec<String> {
        nodes.iter().map(|node| node.name().to_owned()).collect()
    };
    assert_eq!(names(&big_nodes), names(&all_nodes), "one plan shape");

    let totals = pipetel::snapshot().since(&before);
    let mut compared = 0;
    for (ran, nodes, step) in [
        (&big, &big_nodes, "big_spenders"),
        (&all, &all_nodes, "everyone"),
    ] {
        let view = ran.query.snapshot().expect("the query's view");
        assert_eq!(view.operators.len(), nodes.len());
        assert_eq!(view.calls_running(), 0);
        for (position, node) in nodes.iter().enumerate() {
            let op = operator(&view, position, node.name());
            // Filed under the step that ran this query, not the other's.
            assert_eq!(
                (op.pipeline.as_deref(), op.step.as_deref()),
                (Some("reports"), Some(step)),
                "{} {position}",
                node.name()
            );
            if let Some(rows) = node.metrics().and_then(|metrics| metrics.output_rows()) {
                assert_eq!(
                    op.rows.produced,
                    rows as u64,
                    "{step}: {} {position}",
                    node.name()
                );
                assert_eq!(
                    op.engine_metrics.get("output_rows"),
                    Some(&EngineValue::Count(rows as u64))
                );
                compared += 1;
            }
            let children: u64 = node
                .children()
                .iter()
                .map(|child| {
                    let at = nodes.iter().position(|n| Arc::ptr_eq(n, child)).unwrap();
                    operator(&view, at, child.name()).rows.produced
                })
                .sum();
            assert_eq!(op.rows.received, children, "{step}: {}", node.name());
        }
        assert_eq!(
            operator(&view, 0, nodes[0].name()).rows.produced,
            ran.rows as u64
        );
    }
    assert!(compared >= 12, "only {compared} nodes compared");
    // The process's totals hold both queries, node by node.
    for (position, node) in big_nodes.iter().enumerate() {
        let (one, other) = (big.query.snapshot().unwrap(), all.query.snapshot().unwrap());
        assert_eq!(
            operator(&totals, position, node.name()).rows.produced,
            operator(&one, position, node.name()).rows.produced
                + operator(&other, position, node.name()).rows.produced
        );
    }
    // Each query's report is its own.
    let report = pipetel::Report::of_run(big.query).unwrap().to_string();
    assert!(
        report.contains("big_spenders") && !report.contains("everyone"),
        "{report}"
    );
}

#[test]
fn work_a_node_spawns_itself_is_counted_as_that_nodes() {
    let _serial = serial();
    let ctx = session(true);
    // A sort on two keys of more than a megabyte per partition: DataFusion sorts each
    // batch in a task of its own (`spawn_buffered`), outside the node's `poll_next`,
    // then merges them.
    let sql = "SELECT id, amount, region FROM orders ORDER BY region, amount DESC, id";
    let ran = run(execute(&ctx, sql));
    let nodes = nodes(&ran.plan);
    let sorts: Vec<usize> = nodes
        .iter()
        .enumerate()
        .filter(|(_, node)| node.name() == "SortExec")
        .map(|(position, _)| position)
        .collect();
    assert!(
        !sorts.is_empty(),
        "{}",
        displayable(ran.plan.as_ref()).indent(true)
    );
    let busy: Duration = ran.counted.operators.iter().map(|op| op.time.busy).sum();
    let sort_busy: Duration = sorts
        .iter()
        .map(|&at| operator(&ran.counted, at, "SortExec").time.busy)
        .sum();
    let coverage = busy.as_secs_f64() / ran.cpu.as_secs_f64();
    println!(
        "sort: SortExec busy {sort_busy:?} of {busy:?} busy in all, process CPU {:?}: \
         operators cover {:.0}% of the CPU",
        ran.cpu,
        coverage * 100.0
    );
    // Sorting is most of this query's work, and it is the sort node's (counted only
    // where the node polls, the spawned sorts left out, it was half of the busy time,
    // and the operators covered a third of the CPU).
    let sort_share = sort_busy.as_secs_f64() / busy.as_secs_f64();
    assert!(
        sort_share > 0.7,
        "SortExec {sort_busy:?} of {busy:?} ({:.0}%)",
        sort_share * 100.0
    );
    assert!(
        coverage > 0.5,
        "operators cover {:.0}% of the CPU",
        coverage * 100.0
    );
}

/// Two leaves under a union, wrapped by the rule: ids 0, 1, 2.
fn wrapped_union() -> Arc<dyn ExecutionPlan> {
    let empty = || -> Arc<dyn ExecutionPlan> {
        Arc::new(datafusion::physical_plan::empty::EmptyExec::new(Arc::new(
            datafusion::arrow::datatypes::Schema::empty(),
        )))
    };
    let plan = datafusion::physical_plan::union::UnionExec::try_new(vec![empty(), empty()])
        .expect("a union");
    pipetel_datafusion::rule()
        .optimize(plan, &Default::default())
        .expect("wrapped")
}

fn with_children(
    plan: &Arc<dyn ExecutionPlan>,
    children: Vec<Arc<dyn ExecutionPlan>>,
) -> Arc<dyn ExecutionPlan> {
    Arc::clone(plan)
        .replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
        .expect("new children")
}

#[test]
fn a_node_an_engine_puts_in_place_of_a_measured_child_keeps_its_id() {
    let wrapped = wrapped_union();
    let first = Arc::clone(wrapped.children()[0]);
    // A leaf of the engine's own in place of the second child (a network boundary
    // rebuilt when its stage is sent): measured as node 2, under its own name.
    let leaf: Arc<dyn ExecutionPlan> = Arc::new(
        datafusion::physical_plan::placeholder_row::PlaceholderRowExec::new(Arc::new(
            datafusion::arrow::datatypes::Schema::empty(),
        )),
    );
    let replaced = with_children(&wrapped, vec![Arc::clone(&first), leaf]);
    assert_eq!(
        pipetel_datafusion::node_ids(&replaced),
        [Some(0), Some(1), Some(2)]
    );
    assert_eq!(replaced.children()[1].name(), "PlaceholderRowExec");
    // A node put in above a measured child stays unmeasured: the child keeps its id.
    let above: Arc<dyn ExecutionPlan> = Arc::new(
        datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec::new(Arc::clone(
            wrapped.children()[1],
        )),
    );
    let inserted = with_children(&wrapped, vec![first, above]);
    assert_eq!(
        pipetel_datafusion::node_ids(&inserted),
        [Some(0), Some(1), None, Some(2)]
    );
}

#[test]
fn a_plan_wrapped_below_an_engines_new_root_is_numbered_afresh() {
    let on_top: Arc<dyn ExecutionPlan> = Arc::new(
        datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec::new(wrapped_union()),
    );
    let again = pipetel_datafusion::rule()
        .optimize(on_top, &Default::default())
        .expect("wrapped");
    assert_eq!(
        pipetel_datafusion::node_ids(&again),
        [Some(0), Some(1), Some(2), Some(3)]
    );
    // Each node wrapped once: the earlier wrappers taken off.
    for node in nodes(&again) {
        let wrapper = (node.as_ref() as &dyn std::any::Any)
            .downcast_ref::<PipetelExec>()
            .expect("wrapped");
        assert!(
            !(wrapper.inner().as_ref() as &dyn std::any::Any).is::<PipetelExec>(),
            "{} wrapped twice",
            node.name()
        );
    }
    // A plan whose root is wrapped is left as it is.
    let same = pipetel_datafusion::rule()
        .optimize(Arc::clone(&again), &Default::default())
        .expect("wrapped");
    assert!(Arc::ptr_eq(&same, &again));
}
