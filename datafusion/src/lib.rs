//! pipetel for [Apache DataFusion](https://datafusion.apache.org): one physical optimizer
//! rule counts every node of every plan as a pipetel operator.
//!
//! ```no_run
//! use datafusion::execution::SessionStateBuilder;
//! use datafusion::prelude::SessionContext;
//!
//! # async fn run() -> datafusion::error::Result<()> {
//! let _telemetry = pipetel::init(); // OTEL_* / PIPETEL_REPORT as for any pipetel program
//! let state = SessionStateBuilder::new()
//!     .with_default_features()
//!     .with_physical_optimizer_rule(pipetel_datafusion::rule()) // the one line
//!     .build();
//! let ctx = SessionContext::new_with_state(state);
//!
//! // A query's own report, exact while other queries run beside it:
//! let plan = ctx.sql("SELECT 1").await?.create_physical_plan().await?;
//! let query = pipetel_datafusion::query_of(&plan);
//! datafusion::physical_plan::collect(plan, ctx.task_ctx()).await?;
//! if let Some(report) = query.and_then(pipetel::Report::of_run) {
//!     println!("{report}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! What each node counts, as `node.type` = its name (`FilterExec`, `HashJoinExec`, …)
//! and `node.id` = its position in the plan (0 at the root, top-down; the same plan has
//! the same ids on every run):
//!
//! - a task per partition (`execute(partition)`): active while its stream lives,
//!   completed at the stream's end, cancelled when dropped early (a `LIMIT` above it),
//!   failed when the node raises an error — an `Err` batch its own work made; the nodes
//!   above it that only hand that error on are cancelled when DataFusion drops them, so
//!   the report's `failures` names the node at fault;
//! - busy time per `poll_next`, exclusive: a node that polls its child counts only its
//!   own share, so the nodes' times add up to the query's time in operators. A task a
//!   node spawns through DataFusion (`SortExec`'s sorts, `RepartitionExec`'s inputs) runs
//!   in that node's scope, on whichever thread runs it: the rule sets DataFusion's
//!   `JoinSetTracer` (one per process: if another was set first, such work counts for no
//!   node);
//! - rows out (each batch's `num_rows`) and rows in (what its children handed it); per
//!   partition too, for skew across partitions (`skew.across_partitions`, the score
//!   DataFusion's `output_rows_skew` gives);
//! - the plan's edges, stated by the rule ([`pipetel::Operator::feeds`]): each child to
//!   its parent, with the rows, bytes (each batch's `get_array_memory_size`) and batches
//!   it handed over, whichever task polled it — the snapshot's `edges`, the report's edge
//!   list, `Report::mermaid` / `dot`. A node's bytes out are its edge's, not bytes
//!   written (the report's WRITTEN column is for sinks: DataFusion's own write metrics
//!   are among the node's metrics);
//! - the node's own metrics (`ExecutionPlan::metrics()`: `output_rows`,
//!   `elapsed_compute`, spills, memory, pruning, …) under `engine_metrics` in the
//!   snapshot and under the node in the report.
//!
//! Each plan the rule sees is one query ([`pipetel::engine::Query`]): its nodes count
//! apart from every other query's, so [`query_of`] and
//! [`RunId::snapshot`](pipetel::RunId::snapshot) / [`Report::of_run`](pipetel::Report::of_run)
//! give that query's own figures while others of the same shape run at once; the report
//! lists its nodes in plan order. The process's totals and the exported metrics add up
//! nodes of the same name in the same position across queries. A query planned inside a
//! pipeline's run is part of that run's view, and its nodes are filed under the
//! `#[pipeline_step]` it was planned in, spawned tasks included. A query that stops early
//! (a `LIMIT`, an error) may still have tasks ending when its result is in — DataFusion
//! drops the aborted ones a little later, on its runtime: until
//! [`Snapshot::calls_running`](pipetel::snapshot::Snapshot::calls_running) is 0 the
//! figures grow, and the report says so (`RUNNING …`); the query has ended, and its view
//! is final, once its plan and its last stream are dropped.
//!
//! The wrappers are invisible to DataFusion: every method of `ExecutionPlan` answers as
//! the node does — name, display (`EXPLAIN`), properties, children, statistics
//! (`StatisticsContext`), metrics (`EXPLAIN ANALYZE`), downcasts (`plan.is::<FilterExec>()`,
//! through `ExecutionPlan::downcast_delegate`, which datafusion-proto follows too), and
//! the rewrites later rules or the engine make (new children or state — a recursive
//! query's work table —, fetch, filter, sort and projection pushdowns), whose results
//! come back wrapped. Add the rule last (it is appended after DataFusion's own rules),
//! once; a plan already wrapped is left alone.
//!
//! # Plans run in several processes
//!
//! An engine that ships stages of a plan to other processes (datafusion-distributed,
//! Ballista) loses the wrappers on the way (encoding sees through them). Read the stage's
//! [`Placement`] where it was planned and wrap the stage where it runs with it
//! ([`wrap_fragment`]): each node counts there under its `node.id` of the whole plan,
//! nodes the engine rebuilt or specialised take the id of the node they stand for, the
//! stage's root counts what it hands to the boundary reading it in another process and
//! the boundary what it took, and the processes' snapshots merge node by node into one
//! graph ([`Snapshot::merge`](pipetel::snapshot::Snapshot::merge)). Number the plan as it
//! is once the engine has split it (run the rule on the distributed plan): a node an
//! engine puts in place of a wrapped child (a boundary rebuilt when the stage is sent)
//! keeps that child's id.
//!
//! # Versions
//!
//! Built for DataFusion 55 (arrow 59, pipetel's `arrow` feature). The `ExecutionPlan`
//! trait changes between DataFusion majors: each major gets a release of this crate,
//! and the wrapper (`exec.rs`) is the one file to port — a test reads the trait from
//! DataFusion's source and names every method the wrapper does not delegate yet, and
//! `scripts/sqllogictest` runs DataFusion's own SQL logic tests without and with the
//! rule, record by record.

#[cfg(test)]
mod delegation;
mod exec;
mod failures;
mod fragment;
mod plan_metrics;
mod rule;
mod spawned;

use std::sync::Arc;

use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use pipetel::RunId;

pub use exec::PipetelExec;
pub use fragment::{node_ids, wrap_fragment, Placement};
pub use rule::PipetelRule;

/// The query a plan the rule wrapped is, for its own view — that of its first wrapped
/// node in pre-order, so also of a plan an engine put nodes on top of after the rule ran
/// (a distributed plan's coordinator node); `None` for a plan the rule did not wrap, or a
/// query that does not count apart (telemetry off, or
/// [`MAX_LANES`](pipetel::limits::MAX_LANES) queries and runs at once).
pub fn query_of(plan: &Arc<dyn ExecutionPlan>) -> Option<RunId> {
    match (plan.as_ref() as &dyn std::any::Any).downcast_ref::<PipetelExec>() {
        Some(wrapper) => wrapper.query().id(),
        None => plan.children().into_iter().find_map(query_of),
    }
}

/// `plan` numbered and wrapped as the rule does, as one query that is a part of `job`,
/// a job spread over processes
/// ([`Query::start_in_job`](pipetel::engine::Query::start_in_job)): for an engine that
/// makes a distributed plan and then numbers it as a whole. The fragments it sends carry
/// the job in their [`Placement`], and each process's part of it is written to the
/// snapshot directory apart from its other queries. Wrappers the rule put on the plan
/// before are taken off first.
pub fn wrap_in_job(
    plan: Arc<dyn ExecutionPlan>,
    job: &str,
) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
    spawned::install();
    rule::wrap_in_job(plan, job)
}

/// The rule, ready for
/// [`SessionStateBuilder::with_physical_optimizer_rule`](datafusion::execution::SessionStateBuilder::with_physical_optimizer_rule).
pub fn rule() -> Arc<dyn PhysicalOptimizerRule + Send + Sync> {
    spawned::install();
    Arc::new(PipetelRule)
}

/// The guide's DataFusion chapter's Rust examples (`docs/datafusion.md`), compiled and run
/// as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/datafusion.md")]
pub struct GuideDoctests;
