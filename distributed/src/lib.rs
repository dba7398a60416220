//! pipetel for [datafusion-distributed](https://github.com/datafusion-contrib/datafusion-distributed):
//! every node of every stage, on every worker, counted under its `node.id` of the whole
//! plan, so that the processes' snapshots merge node by node into the query's report.
//!
//! The coordinating session numbers the whole plan (pipetel-datafusion's rule runs
//! before the distributed planner splits it); each stage leaves for its worker without
//! pipetel's wrappers (the plan encoding sees through them). Two pieces put the numbers
//! back where the stage runs:
//!
//! - on the coordinating session, [`PipetelChannels`] around its channel resolver sends,
//!   with each task's plan, its nodes' ids ([`pipetel_datafusion::node_ids`]) in the
//!   [`NODE_IDS_HEADER`] request header;
//! - on each worker, [`worker_session`] adds a plan-rewrite handler that wraps the stage
//!   with those ids ([`pipetel_datafusion::wrap_fragment`]).
//!
//! ```no_run
//! use datafusion::execution::SessionStateBuilder;
//! use datafusion_distributed::{DistributedExt, SessionStateBuilderExt, Worker, WorkerQueryContext};
//! use pipetel_datafusion_distributed::{worker_session, PipetelChannels};
//! # fn resolver() -> impl datafusion_distributed::WorkerResolver + Send + Sync + 'static {
//! #     struct R;
//! #     impl datafusion_distributed::WorkerResolver for R {
//! #         fn get_urls(&self) -> Result<Vec<url::Url>, datafusion::error::DataFusionError> { Ok(vec![]) }
//! #     }
//! #     R
//! # }
//!
//! // The coordinating session:
//! let state = SessionStateBuilder::new()
//!     .with_default_features()
//!     .with_distributed_worker_resolver(resolver())
//!     .with_distributed_channel_resolver(PipetelChannels::default())
//!     .with_distributed_planner()
//!     .with_physical_optimizer_rule(pipetel_datafusion::rule())
//!     .build();
//!
//! // Each worker:
//! let worker = Worker::from_session_builder(|ctx: WorkerQueryContext| async move {
//!     Ok(worker_session(ctx).build())
//! });
//! ```
//!
//! Each process counts its own part; `PIPETEL_SNAPSHOT_DIR` and
//! `pipetel::snapshot::merge_files` (or the `pipetel` command) give the job's report.
//!
//! A stage's root `RepartitionExec` or `BroadcastExec` is rebuilt by the worker when the
//! task runs (datafusion-distributed's producer head), after the rewrite: that node counts
//! its rows in (the edge from its child) but not its own work; the boundary that reads the
//! stage (`NetworkShuffleExec`, with the same `node.id`) counts the rows it handed on.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SessionStateBuilder, TaskContext};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion_distributed::grpc::DefaultChannelResolver;
use datafusion_distributed::{
    ChannelResolver, CoordinatorToWorkerMsg, DistributedExt, ExecuteTaskRequest,
    GetWorkerInfoRequest, GetWorkerInfoResponse, MaybeEncoded, SetPlanRequest, WorkerChannel,
    WorkerPlanRewriteEvent, WorkerPlanRewriteEventResponse, WorkerQueryContext,
    WorkerToCoordinatorMsg,
};
use futures::stream::BoxStream;
use http::{HeaderMap, HeaderValue};

/// The request header that carries a task's node ids, in pre-order, comma-separated, `-`
/// for a node without one.
pub const NODE_IDS_HEADER: &str = "x-pipetel-node-ids";

/// A channel resolver that sends each task's node ids with its plan; the workers'
/// [`worker_session`] wraps the stage with them. Around datafusion-distributed's
/// `DefaultChannelResolver` ([`PipetelChannels::default`]), or any other
/// ([`PipetelChannels::new`]).
#[derive(Clone)]
pub struct PipetelChannels {
    inner: Arc<dyn ChannelResolver + Send + Sync>,
}

impl PipetelChannels {
    /// `inner`, sending node ids with each task's plan.
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
            let ids = pipetel_datafusion::node_ids(plan);
            if let Ok(value) = HeaderValue::from_str(&ids_header(&ids)) {
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

/// `ids` as the header carries them.
fn ids_header(ids: &[Option<u64>]) -> String {
    ids.iter()
        .map(|id| id.map_or_else(|| "-".to_owned(), |id| id.to_string()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The ids a header carries (`-` or anything not a number: no id).
fn ids_of(header: &str) -> Vec<Option<u64>> {
    header.split(',').map(|id| id.trim().parse().ok()).collect()
}

/// A worker's session builder with pipetel: each stage it runs is wrapped with the ids
/// its coordinator sent ([`NODE_IDS_HEADER`]; without them, numbered from 0 as a plan of
/// its own). Call `build()` on it, after adding what else the worker needs.
pub fn worker_session(ctx: WorkerQueryContext) -> SessionStateBuilder {
    let ids: Vec<Option<u64>> = ctx
        .headers
        .get(NODE_IDS_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(ids_of)
        .unwrap_or_default();
    ctx.builder.with_distributed_worker_plan_rewrite_handler(
        move |event: WorkerPlanRewriteEvent<'_>| {
            Ok(WorkerPlanRewriteEventResponse::new(
                pipetel_datafusion::wrap_fragment(event.plan, &ids)?,
            ))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_go_through_the_header_as_they_are() {
        let ids = [Some(4), None, Some(6), Some(7)];
        assert_eq!(ids_header(&ids), "4,-,6,7");
        assert_eq!(ids_of(&ids_header(&ids)), ids);
        assert_eq!(ids_of("x, 3"), [None, Some(3)]);
    }
}
