//! pipetel-datafusion with the tracking allocator as the program's global allocator: each
//! plan node's memory measured by the allocator, beside what DataFusion's own accounting
//! reserved for it (`peak_mem_used`, `build_mem_used`), and the `untracked_memory`
//! diagnosis naming the node that held memory it never reserved — a custom node planted
//! in a real hash-join query, holding a 64 MiB buffer no `MemoryReservation` knows of.
//!
//! A binary of its own: the allocator is the whole program's.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::{
    collect, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
};
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::Stream;
use pipetel::diagnose::DiagnosisKind;
use pipetel::engine::EngineValue;

#[path = "../workload.rs"]
mod workload;

#[global_allocator]
static ALLOCATOR: pipetel::alloc::Tracking<std::alloc::System> =
    pipetel::alloc::Tracking::new(std::alloc::System);

/// The buffer the planted node holds without reserving it.
const HOARD: usize = 64 << 20;

/// A node that passes its input's batches on and, from its first batch to its end,
/// holds [`HOARD`] bytes that no `MemoryReservation` accounts for: a bug of the kind the
/// diagnosis is for.
#[derive(Debug)]
struct HoardExec {
    input: Arc<dyn ExecutionPlan>,
}

impl DisplayAs for HoardExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HoardExec")
    }
}

impl ExecutionPlan for HoardExec {
    fn name(&self) -> &str {
        "HoardExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(HoardExec {
            input: children.swap_remove(0),
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        Ok(Box::pin(Hoarding {
            input: self.input.execute(partition, context)?,
            hoard: Vec::new(),
        }))
    }
}

struct Hoarding {
    input: SendableRecordBatchStream,
    hoard: Vec<u8>,
}

impl Stream for Hoarding {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.input.as_mut().poll_next(cx);
        if matches!(next, Poll::Ready(Some(Ok(_)))) && self.hoard.is_empty() {
            // Written, so that the pages are the program's as a real buffer's are.
            self.hoard = vec![1; HOARD];
        }
        next
    }
}

impl RecordBatchStream for Hoarding {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}

/// Plants a [`HoardExec`] at the root of every plan (before pipetel's rule numbers it).
#[derive(Debug)]
struct PlantHoard;

impl PhysicalOptimizerRule for PlantHoard {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(HoardExec { input: plan }))
    }

    fn name(&self) -> &str {
        "plant_hoard"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[test]
fn the_node_that_holds_memory_it_never_reserved_is_the_untracked_one_and_no_other_is() {
    let telemetry = pipetel::Config::new().collect_locally(true).init();
    let (orders, customers) = workload::tables(100_000, 2);
    let state = SessionStateBuilder::new()
        .with_config(SessionConfig::new().with_target_partitions(2))
        .with_default_features()
        .with_physical_optimizer_rule(Arc::new(PlantHoard))
        .with_physical_optimizer_rule(pipetel_datafusion::rule())
        .build();
    let ctx = SessionContext::new_with_state(state);
    ctx.register_table("orders", Arc::new(orders)).unwrap();
    ctx.register_table("customers", Arc::new(customers))
        .unwrap();
    let (_, join) = workload::QUERIES[2];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let batches = runtime.block_on(async {
        let plan = ctx.sql(join).await?.create_physical_plan().await?;
        collect(plan, ctx.task_ctx()).await
    });
    let rows: usize = batches
        .expect("the join runs")
        .iter()
        .map(RecordBatch::num_rows)
        .sum();
    assert_eq!(rows, 3, "one row per segment");

    let snapshot = pipetel::snapshot();
    let node = |name: &str| {
        snapshot
            .operators
            .iter()
            .find(|op| op.node_type == name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", snapshot.operators))
    };
    // Every node's memory is measured; the hoard held its buffer at its peak.
    let hoard = node("HoardExec").memory.expect("measured");
    assert!(hoard.peak >= HOARD as u64, "{hoard:?}");
    assert!(hoard.allocated >= HOARD as u64, "{hoard:?}");
    // DataFusion's own accounting, carried as reservations: the join's build side.
    let join_node = node("HashJoinExec");
    assert!(
        matches!(
            join_node.engine_metrics.get("build_mem_used"),
            Some(EngineValue::Reserved(bytes)) if *bytes > 0
        ),
        "{:?}",
        join_node.engine_metrics
    );
    let untracked: Vec<&pipetel::diagnose::Diagnosis> = snapshot
        .diagnoses
        .iter()
        .filter(|found| found.kind == DiagnosisKind::UntrackedMemory)
        .collect();
    assert_eq!(untracked.len(), 1, "no other node flagged: {untracked:#?}");
    let found = untracked[0];
    assert_eq!(
        found.node.as_ref().map(|node| node.node_type.as_str()),
        Some("HoardExec")
    );
    assert!(
        found
            .message
            .starts_with("untracked memory: HoardExec 0 held 64.0 MiB at its peak, reserved 0 B"),
        "{}",
        found.message
    );
    let report = pipetel::Report::of(snapshot.clone()).to_string();
    assert!(
        report.contains("⚠ untracked memory: HoardExec 0"),
        "{report}"
    );
    drop(telemetry);
}
