//! pipetel for [datafusion-distributed](https://github.com/datafusion-contrib/datafusion-distributed):
//! every node of every stage, on every worker, counted under its `node.id` of the whole
//! distributed plan, each query a job whose parts — the coordinator's and each worker's —
//! merge node by node into the query's report, with the graph stitched across the
//! network boundaries.
//!
//! - On the coordinating session, [`coordinator_session`] numbers each plan once the
//!   distributed planner has split it (the coordinator's nodes, then each stage below the
//!   boundary that reads it, in pre-order), as one job, and sends with each task's plan
//!   its [`Placement`] (ids, boundaries, job) in the [`NODE_IDS_HEADER`] request header
//!   ([`PipetelChannels`]).
//! - On each worker, [`worker_session`] wraps each stage it runs with that placement
//!   ([`pipetel_datafusion::wrap_fragment`]), as the worker's part of the job.
//!
//! ```no_run
//! use datafusion::execution::SessionStateBuilder;
//! use datafusion_distributed::{SessionStateBuilderExt, DistributedExt, Worker, WorkerQueryContext};
//! use pipetel_datafusion_distributed::{coordinator_session, worker_session};
//! # fn resolver() -> impl datafusion_distributed::WorkerResolver + Send + Sync + 'static {
//! #     struct R;
//! #     impl datafusion_distributed::WorkerResolver for R {
//! #         fn get_urls(&self) -> Result<Vec<url::Url>, datafusion::error::DataFusionError> { Ok(vec![]) }
//! #     }
//! #     R
//! # }
//!
//! // The coordinating session:
//! let builder = SessionStateBuilder::new()
//!     .with_default_features()
//!     .with_distributed_worker_resolver(resolver())
//!     .with_distributed_planner();
//! let state = coordinator_session(builder).build();
//!
//! // Each worker:
//! let worker = Worker::from_session_builder(|ctx: WorkerQueryContext| async move {
//!     Ok(worker_session(ctx).build())
//! });
//! ```
//!
//! With `PIPETEL_SNAPSHOT_DIR` set in every process, each writes its part of each query
//! there (`<instance>.job-<job>.json`), and `pipetel::snapshot::merge_files` (or
//! `pipetel report DIR`) gives one merged snapshot per query: two queries served at once
//! by the same workers come out as two reports. The query's job is
//! `pipetel_datafusion::Placement::of(&plan).job`.
//!
//! Across the boundaries: a stage's root counts, on the worker that runs it, the rows it
//! hands to the boundary reading it (`NetworkShuffleExec`, `NetworkCoalesceExec`), and the
//! boundary counts, where it runs, the rows it took: merged, that edge carries the first
//! and the conservation check compares it with the second. A stage's root
//! `RepartitionExec` is rebuilt by the worker when the task runs (datafusion-distributed's
//! producer head): its child counts its rows out for it, a repartition handing on each
//! row once. A root `BroadcastExec`, rebuilt too, hands each row to every consumer task:
//! its edge to the `NetworkBroadcastExec` is not counted (the boundary's rows in are).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::{SessionStateBuilder, TaskContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner as _};
use datafusion_distributed::grpc::DefaultChannelResolver;
use datafusion_distributed::{
    ChannelResolver, CoordinatorToWorkerMsg, DistributedExt, ExecuteTaskRequest,
    GetWorkerInfoRequest, GetWorkerInfoResponse, MaybeEncoded, SetPlanRequest, WorkerChannel,
    WorkerPlanRewriteEvent, WorkerPlanRewriteEventResponse, WorkerQueryContext,
    WorkerToCoordinatorMsg,
};
use futures::stream::BoxStream;
use http::{HeaderMap, HeaderValue};
use pipetel_datafusion::Placement;

/// The request header that carries a task's [`Placement`]: its nodes' ids in pre-order,
/// comma-separated (`-` for a node without one, `<` before the id of a node reading
/// another stage); after a `;`, the `node.type` and `node.id` of the boundary reading
/// the stage (`NetworkShuffleExec:4`, or nothing); after another `;`, the job the query
/// is a part of.
pub const NODE_IDS_HEADER: &str = "x-pipetel-node-ids";

/// A channel resolver that sends each task's [`Placement`] with its plan; the workers'
/// [`worker_session`] wraps the stage with it. Set by [`coordinator_session`]. Around datafusion-distributed's
/// `DefaultChannelResolver` ([`PipetelChannels::default`]), or any other
/// ([`PipetelChannels::new`]).
#[derive(Clone)]
pub struct PipetelChannels {
    inner: Arc<dyn ChannelResolver + Send + Sync>,
}

impl PipetelChannels {
    /// `inner`, sending each task's placement with its plan.
    pub fn new(inner: impl ChannelResolver + Send + Sync + 'static) -> Self {
        PipetelChannels {
            inner: Arc::new(inner),
        }
    }
}

impl Default for PipetelChannels {
    /// Around datafusion-distributed's `DefaultChannelResolver`.
    fn default() -> Self {
        PipetelChannels::new(DefaultChannelResolver::default())
    }
}

#[async_trait]
impl ChannelResolver for PipetelChannels {
    async fn get_worker_client_for_url(
        &self,
        url: &url::Url,
    ) -> Result<Box<dyn WorkerChannel>, DataFusionError> {
        let inner = self.inner.get_worker_client_for_url(url).await?;
        Ok(Box::new(NodeIdsChannel(inner)))
    }
}

/// A worker channel whose plan requests carry the plan's node ids.
struct NodeIdsChannel(Box<dyn WorkerChannel>);

#[async_trait]
impl WorkerChannel for NodeIdsChannel {
    async fn coordinator_channel(
        &mut self,
        mut headers: HeaderMap,
        set_plan_request: SetPlanRequest,
        c2w_stream: BoxStream<'static, CoordinatorToWorkerMsg>,
        metrics: ExecutionPlanMetricsSet,
        task_ctx: &Arc<TaskContext>,
    ) -> Result<BoxStream<'static, Result<WorkerToCoordinatorMsg>>> {
        // A plan sent already encoded has lost its wrappers: no ids to send.
        if let MaybeEncoded::Decoded(plan) = &set_plan_request.plan {
            let placement = Placement::of(plan);
            if let Ok(value) = HeaderValue::from_str(&placement_header(&placement)) {
                headers.insert(NODE_IDS_HEADER, value);
            }
        }
        self.0
            .coordinator_channel(headers, set_plan_request, c2w_stream, metrics, task_ctx)
            .await
    }

    async fn execute_task(
        &mut self,
        headers: HeaderMap,
        request: ExecuteTaskRequest,
        metrics: ExecutionPlanMetricsSet,
        task_ctx: &Arc<TaskContext>,
    ) -> Result<Vec<BoxStream<'static, Result<RecordBatch>>>> {
        self.0
            .execute_task(headers, request, metrics, task_ctx)
            .await
    }

    async fn get_worker_info(
        &mut self,
        request: GetWorkerInfoRequest,
    ) -> Result<GetWorkerInfoResponse> {
        self.0.get_worker_info(request).await
    }
}

/// `placement` as the header carries it.
fn placement_header(placement: &Placement) -> String {
    let mut text = placement
        .ids
        .iter()
        .enumerate()
        .map(|(index, id)| {
            let mark = if placement.reading_elsewhere.contains(&index) {
                "<"
            } else {
                ""
            };
            id.map_or_else(|| "-".to_owned(), |id| format!("{mark}{id}"))
        })
        .collect::<Vec<_>>()
        .join(",");
    text.push(';');
    if let Some((node_type, node_id)) = &placement.output_to {
        text.push_str(&format!("{node_type}:{node_id}"));
    }
    text.push(';');
    text.push_str(placement.job.as_deref().unwrap_or_default());
    text
}

/// The placement a header carries (an id that is not a number: none; an output that
/// does not read as `type:id`: none).
fn placement_of(header: &str) -> Placement {
    let mut parts = header.splitn(3, ';');
    let ids = parts.next().unwrap_or_default();
    let output = parts.next().unwrap_or_default();
    let job = parts.next().unwrap_or_default().trim();
    let mut placement = Placement::default();
    for (index, id) in ids.split(',').map(str::trim).enumerate() {
        let id = match id.strip_prefix('<') {
            Some(id) => {
                placement.reading_elsewhere.push(index);
                id
            }
            None => id,
        };
        placement.ids.push(id.parse().ok());
    }
    placement.output_to = output.rsplit_once(':').and_then(|(node_type, node_id)| {
        Some((node_type.trim().to_owned(), node_id.trim().parse().ok()?))
    });
    placement.job = (!job.is_empty()).then(|| job.to_owned());
    placement
}

/// The coordinating session's builder with pipetel: each plan its distributed planner
/// makes is numbered as the whole distributed plan reads (the coordinator's nodes, then
/// every stage below the boundary that reads it, in pre-order), as one job (its id:
/// `Placement::of(&plan).job`), and each task's plan leaves with its [`Placement`]
/// ([`PipetelChannels`] around datafusion-distributed's `DefaultChannelResolver`). Call it after `with_distributed_planner()`; with a channel
/// resolver of your own, set `PipetelChannels::new(yours)` after it. The plain
/// `pipetel_datafusion::rule()` is not needed here: a plan it wrapped before the
/// distributed planner ran is numbered again.
pub fn coordinator_session(mut builder: SessionStateBuilder) -> SessionStateBuilder {
    let inner = std::mem::take(builder.query_planner());
    builder
        .with_query_planner(Arc::new(NumberedPlanner { inner }))
        .with_distributed_channel_resolver(PipetelChannels::default())
}

/// A query planner numbering the plans `inner` (DataFusion's own planner if `None`) makes
/// as they are when it is done.
#[derive(Debug)]
struct NumberedPlanner {
    inner: Option<Arc<dyn QueryPlanner + Send + Sync>>,
}

#[async_trait]
impl QueryPlanner for NumberedPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = match &self.inner {
            Some(inner) => inner.create_physical_plan(logical_plan, session).await?,
            None => {
                DefaultPhysicalPlanner::default()
                    .create_physical_plan(logical_plan, session)
                    .await?
            }
        };
        // One job per plan, its workers' parts joined to it by the placement's job.
        pipetel_datafusion::wrap_in_job(plan, &uuid::Uuid::new_v4().simple().to_string())
    }
}

/// A worker's session builder with pipetel: each stage it runs is wrapped with the ids
/// its coordinator sent ([`NODE_IDS_HEADER`]; without them, numbered from 0 as a plan of
/// its own). Call `build()` on it, after adding what else the worker needs.
pub fn worker_session(ctx: WorkerQueryContext) -> SessionStateBuilder {
    let placement = ctx
        .headers
        .get(NODE_IDS_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(placement_of)
        .unwrap_or_default();
    ctx.builder.with_distributed_worker_plan_rewrite_handler(
        move |event: WorkerPlanRewriteEvent<'_>| {
            // A stage's root `RepartitionExec` is rebuilt for the consumers' task count
            // when the task runs (datafusion-distributed's producer head), and hands on
            // each row it takes once. A root `BroadcastExec`, rebuilt too, hands each row
            // to every consumer task: its edge to the boundary is not counted.
            let placement = Placement {
                root_rebuilt: event.plan.name() == "RepartitionExec",
                ..placement.clone()
            };
            Ok(WorkerPlanRewriteEventResponse::new(
                pipetel_datafusion::wrap_fragment(event.plan, &placement)?,
            ))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_go_through_the_header_as_they_are() {
        let placement = Placement {
            ids: vec![Some(4), None, Some(6), Some(7)],
            reading_elsewhere: vec![2],
            output_to: Some(("NetworkShuffleExec".to_owned(), 3)),
            job: Some("a1b2".to_owned()),
            root_rebuilt: false,
        };
        let header = placement_header(&placement);
        assert_eq!(header, "4,-,<6,7;NetworkShuffleExec:3;a1b2");
        assert_eq!(placement_of(&header), placement);
        let bare = Placement {
            ids: vec![Some(0)],
            ..Placement::default()
        };
        assert_eq!(placement_of(&placement_header(&bare)), bare);
        assert_eq!(placement_of("x, 3").ids, [None, Some(3)]);
        assert_eq!(placement_of("1;nonsense").output_to, None);
    }
}
