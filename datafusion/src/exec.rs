//! [`PipetelExec`]: the wrapper around one plan node. DataFusion sees the node itself —
//! its name, display, properties, children, metrics and downcast identity — and pipetel
//! sees each partition's stream as one task of the node's operator.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::Statistics;
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr_common::sort_expr::OrderingRequirements;
use datafusion::physical_plan::execution_plan::{
    CardinalityEffect, InvariantLevel, ReplaceChildrenOptions,
};
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::InputDistributionRequirements;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use pipetel::engine::{Counted, Feed, MetricsAttachment};
use pipetel::Operator;

use crate::plan_metrics::PlanMetrics;

/// One plan node, measured: each `execute(partition)` is a task of the node's
/// [`Operator`] (each `poll_next` busy time, less the time of the children it polls;
/// each batch its rows and memory size out), and the node's own metrics are attached to
/// the operator. Made by [`PipetelRule`](crate::PipetelRule); invisible to DataFusion.
pub struct PipetelExec {
    inner: Arc<dyn ExecutionPlan>,
    operator: Operator,
    /// The operator this node's output feeds (its parent in the plan).
    consumer: Option<Operator>,
    /// The plan's edge from this node to its parent: each batch this node hands out
    /// crosses it (and is the parent's rows in), whatever task polls it.
    feed: Option<Feed>,
    /// Shared with the node's streams: DataFusion drops a plan as soon as it has its
    /// streams (`execute_stream`), and the node keeps counting into its metrics while
    /// they run, so the metrics stay attached until the last of them ends.
    metrics: Arc<MetricsAttachment>,
}

impl PipetelExec {
    pub(crate) fn new(
        inner: Arc<dyn ExecutionPlan>,
        operator: Operator,
        consumer: Option<Operator>,
    ) -> Self {
        let metrics = operator.attach_metrics(Arc::new(PlanMetrics(Arc::clone(&inner))));
        PipetelExec {
            inner,
            operator,
            consumer,
            feed: consumer.map(|consumer| operator.feeds(&consumer)),
            metrics: Arc::new(metrics),
        }
    }

    /// The node this wrapper measures.
    pub fn inner(&self) -> &Arc<dyn ExecutionPlan> {
        &self.inner
    }

    /// The node's operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The same measurement around another node (a rewritten copy of this one).
    fn rewrap(&self, inner: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        Arc::new(PipetelExec::new(inner, self.operator, self.consumer))
    }
}

impl fmt::Debug for PipetelExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The node's own Debug: plans print as without pipetel.
        self.inner.fmt(f)
    }
}

impl DisplayAs for PipetelExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt_as(t, f)
    }
}

impl ExecutionPlan for PipetelExec {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn downcast_delegate(&self) -> Option<&dyn ExecutionPlan> {
        Some(self.inner.as_ref())
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn check_invariants(&self, check: InvariantLevel) -> Result<()> {
        self.inner.check_invariants(check)
    }

    fn dynamic_expressions_produced(&self) -> Vec<Arc<dyn PhysicalExpr>> {
        self.inner.dynamic_expressions_produced()
    }

    #[allow(deprecated)]
    fn required_input_distribution(&self) -> Vec<datafusion::physical_plan::Distribution> {
        self.inner.required_input_distribution()
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        self.inner.input_distribution_requirements()
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        self.inner.required_input_ordering()
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        self.inner.maintains_input_order()
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        self.inner.benefits_from_input_partitioning()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inner.children()
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let inner = Arc::clone(&self.inner).replace_children(children, options)?;
        Ok(self.rewrap(inner))
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.inner.apply_expressions(f)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let inner = Arc::clone(&self.inner).with_new_children(children)?;
        Ok(self.rewrap(inner))
    }

    fn reset_state(self: Arc<Self>) -> Result<Arc<dyn ExecutionPlan>> {
        let inner = Arc::clone(&self.inner).reset_state()?;
        Ok(self.rewrap(inner))
    }

    fn repartitioned(
        &self,
        target_partitions: usize,
        config: &ConfigOptions,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        Ok(self
            .inner
            .repartitioned(target_partitions, config)?
            .map(|inner| self.rewrap(inner)))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        // Building the stream is the node's work too (and runs its children's `execute`).
        let stream = self
            .operator
            .in_scope(|| self.inner.execute(partition, context))?;
        let schema = stream.schema();
        let feed = self.feed;
        let metrics = Arc::clone(&self.metrics);
        // Each partition's stream counts for its partition too: skew across partitions.
        let measured = self.operator.partition(partition).stream_counted(
            stream,
            move |batch: &Result<RecordBatch>| match batch {
                Ok(batch) => {
                    let _attached = &metrics;
                    let (rows, bytes) = (batch.num_rows(), batch.get_array_memory_size());
                    if let Some(feed) = feed {
                        feed.hand_over(rows as u64, bytes as u64);
                    }
                    Counted::rows(rows).with_bytes(bytes)
                }
                Err(_) => Counted::failure(),
            },
        );
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, measured)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        self.inner.metrics()
    }

    #[allow(deprecated)]
    fn partition_statistics(&self, partition: Option<usize>) -> Result<Arc<Statistics>> {
        self.inner.partition_statistics(partition)
    }

    fn supports_limit_pushdown(&self) -> bool {
        self.inner.supports_limit_pushdown()
    }

    fn with_fetch(&self, limit: Option<usize>) -> Option<Arc<dyn ExecutionPlan>> {
        self.inner.with_fetch(limit).map(|inner| self.rewrap(inner))
    }

    fn fetch(&self) -> Option<usize> {
        self.inner.fetch()
    }

    fn cardinality_effect(&self) -> CardinalityEffect {
        self.inner.cardinality_effect()
    }
}
