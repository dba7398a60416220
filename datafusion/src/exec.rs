//! [`PipetelExec`]: the wrapper around one plan node. DataFusion sees the node itself —
//! every method of `ExecutionPlan` answers as the node does: its name, display,
//! properties, children, statistics, metrics, downcast identity, and the rewrites
//! (new children, state, fetch, pushdowns), which come back wrapped — and pipetel sees
//! each partition's stream as one task of the node's operator.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::Statistics;
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr_common::sort_expr::{OrderingRequirements, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{
    CardinalityEffect, InvariantLevel, ReplaceChildrenOptions,
};
use datafusion::physical_plan::filter_pushdown::{
    ChildPushdownResult, FilterDescription, FilterPushdownPhase, FilterPushdownPropagation,
};
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildStats, InputDistributionRequirements, SortOrderPushdownResult, StatisticsArgs,
};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use pipetel::engine::Query;
use pipetel::engine::{Counted, Feed, MetricsAttachment};
use pipetel::Operator;

use crate::failures::Failures;
use crate::plan_metrics::PlanMetrics;

/// One plan node, measured: each `execute(partition)` is a task of the node's
/// [`Operator`] (each `poll_next` busy time, less the time of the children it polls;
/// each batch its rows and memory size out), and the node's own metrics are attached to
/// the operator. Made by [`PipetelRule`](crate::PipetelRule); invisible to DataFusion.
pub struct PipetelExec {
    inner: Arc<dyn ExecutionPlan>,
    operator: Operator,
    /// Where the node sits in the plan: its position (its `node.id`) and its
    /// descendants' (see [`PipetelRule`](crate::PipetelRule)).
    place: Place,
    /// What this node's output feeds (its parent in the plan).
    output: Option<Output>,
    /// The plan's edge from this node to its parent: each batch this node hands out
    /// crosses it (and is the parent's rows in, when the parent runs here), whatever
    /// task polls it.
    feed: Option<Feed>,
    /// For the child of a fragment's root that the engine rebuilds where the fragment
    /// runs, unmeasured: that root's output, which is this node's, row for row.
    relay: Option<Relay>,
    /// Shared with the node's streams: DataFusion drops a plan as soon as it has its
    /// streams (`execute_stream`), and the node keeps counting into its metrics while
    /// they run, so the metrics stay attached until the last of them ends.
    metrics: Arc<MetricsAttachment>,
}

/// Where a node sits in its plan, and what it shares with the plan's other nodes.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    /// The node's position, counted top-down from 0 at the root.
    pub(crate) position: u64,
    /// Its descendants' positions (pre-order numbers them right after it).
    pub(crate) descendants: std::ops::Range<u64>,
    /// The errors raised in the plan, and by which node.
    pub(crate) failures: Arc<Failures>,
    /// The plan's query: its nodes count apart from other queries' (and the streams
    /// hold it, so the query ends when its last stream does).
    pub(crate) query: Query,
    /// Whether the node reads its input from another process: its children in the
    /// whole plan run there (a network boundary reading another stage).
    pub(crate) reads_elsewhere: bool,
}

/// The node a node's output goes to.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub(crate) operator: Operator,
    /// Its `node.type` and `node.id`, for a fragment sent to another process
    /// ([`Placement::output_to`](crate::Placement::output_to)).
    pub(crate) node_type: Arc<str>,
    pub(crate) position: u64,
    /// Whether it runs in another process, and counts its rows in there.
    pub(crate) elsewhere: bool,
}

/// A fragment root the engine rebuilds where the fragment runs, passing on each row it
/// takes once: its child counts the root's output for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Relay {
    /// The root's operator: the rows out.
    pub(crate) root: Operator,
    /// The root's edge to the node reading it in another process.
    pub(crate) feed: Feed,
}

impl PipetelExec {
    pub(crate) fn new(
        inner: Arc<dyn ExecutionPlan>,
        place: Place,
        output: Option<Output>,
        relay: Option<Relay>,
    ) -> Self {
        let operator = place.query.operator(inner.name(), &place.position);
        let metrics = operator.attach_metrics(Arc::new(PlanMetrics(Arc::clone(&inner))));
        let feed = output.as_ref().map(|output| match output.elsewhere {
            true => operator.feeds_elsewhere(&output.operator),
            false => operator.feeds(&output.operator),
        });
        PipetelExec {
            inner,
            operator,
            place,
            output,
            feed,
            relay,
            metrics: Arc::new(metrics),
        }
    }

    /// Whether the node reads its input from another process: said so where it was
    /// wrapped, or a node whose children in the whole plan are gone from it (a network
    /// boundary whose stage now runs elsewhere). Each row it hands on is one it took.
    pub(crate) fn reads_elsewhere(&self) -> bool {
        self.place.reads_elsewhere
            || (self.inner.children().is_empty() && !self.place.descendants.is_empty())
    }

    /// What the node's output feeds.
    pub(crate) fn output(&self) -> Option<&Output> {
        self.output.as_ref()
    }

    /// The node's `node.id`: its position in the plan the rule numbered.
    pub(crate) fn position(&self) -> u64 {
        self.place.position
    }

    /// The node this wrapper measures.
    pub fn inner(&self) -> &Arc<dyn ExecutionPlan> {
        &self.inner
    }

    /// The node's operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The query the node's plan is: its id gives the query's own view
    /// ([`RunId::snapshot`](pipetel::RunId::snapshot)).
    pub fn query(&self) -> &Query {
        &self.place.query
    }

    /// The node a rewrite of this one gave, measured in its place: a rewritten copy is
    /// the same operator, a node of another kind an operator of its name at the same
    /// position, and a node already measured (a rewrite that hands back a child) stays
    /// as it is.
    fn rewrap(&self, inner: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        if is_wrapped(&inner) {
            return inner;
        }
        Arc::new(PipetelExec::new(
            inner,
            self.place.clone(),
            self.output.clone(),
            self.relay,
        ))
    }
}

impl PipetelExec {
    /// `children`, each one that stands where a measured child was, with nothing measured
    /// in its subtree, measured in that child's place: an engine that puts a node of its
    /// own in place of a child (a network boundary rebuilt for the stage it reads) hands
    /// it to the parent's rewrite, and it counts under the id of the node it replaced. A
    /// node put in above a measured child is left unmeasured: the child's edge to this
    /// node stays the one counted.
    fn keep_places(&self, children: Vec<Arc<dyn ExecutionPlan>>) -> Vec<Arc<dyn ExecutionPlan>> {
        let old = self.inner.children();
        if old.len() != children.len() {
            return children;
        }
        children
            .into_iter()
            .zip(old)
            .map(
                |(new, old)| match (old.as_ref() as &dyn Any).downcast_ref::<PipetelExec>() {
                    Some(old) if !measures_any(&new) => old.rewrap(new),
                    _ => new,
                },
            )
            .collect()
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

    fn schema(&self) -> SchemaRef {
        self.inner.schema()
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
        let children = self.keep_places(children);
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
        let children = self.keep_places(children);
        let inner = Arc::clone(&self.inner).with_new_children(children)?;
        Ok(self.rewrap(inner))
    }

    #[allow(deprecated)]
    fn with_new_children_and_same_properties(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let children = self.keep_places(children);
        let inner = Arc::clone(&self.inner).with_new_children_and_same_properties(children)?;
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
        let relay = self.relay;
        let reads_elsewhere = self.reads_elsewhere().then_some(self.operator);
        let metrics = Arc::clone(&self.metrics);
        let place = self.place.clone();
        // Each partition's stream counts for its partition too: skew across partitions.
        let measured = self.operator.partition(partition).stream_counted(
            stream,
            move |batch: &Result<RecordBatch>| match batch {
                Ok(batch) => {
                    let _attached = &metrics;
                    let rows = batch.num_rows();
                    // The bytes a node hands on are its edge's (its parent's input), not
                    // bytes written to a destination.
                    let bytes = batch.get_array_memory_size() as u64;
                    if let Some(feed) = feed {
                        feed.hand_over(rows as u64, bytes);
                    }
                    if let Some(relay) = relay {
                        relay.root.add_rows_out(rows as u64);
                        relay.feed.hand_over(rows as u64, bytes);
                    }
                    if let Some(operator) = reads_elsewhere {
                        operator.add_rows_in(rows as u64);
                    }
                    Counted::rows(rows)
                }
                // A failure of this node's, or one of its inputs' that it hands on (its
                // task then ends cancelled, when DataFusion drops the stream).
                Err(error)
                    if place
                        .failures
                        .raised_by(error, place.position, &place.descendants) =>
                {
                    Counted::failure()
                }
                Err(_) => Counted::default(),
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

    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        self.inner.statistics_from_inputs(input_stats, args)
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        self.inner.child_stats_requests(partition)
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

    fn try_swapping_with_projection(
        &self,
        projection: &ProjectionExec,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        Ok(self
            .inner
            .try_swapping_with_projection(projection)?
            .map(|inner| self.rewrap(inner)))
    }

    fn gather_filters_for_pushdown(
        &self,
        phase: FilterPushdownPhase,
        parent_filters: Vec<Arc<dyn PhysicalExpr>>,
        config: &ConfigOptions,
    ) -> Result<FilterDescription> {
        self.inner
            .gather_filters_for_pushdown(phase, parent_filters, config)
    }

    fn handle_child_pushdown_result(
        &self,
        phase: FilterPushdownPhase,
        child_pushdown_result: ChildPushdownResult,
        config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn ExecutionPlan>>> {
        let mut propagation =
            self.inner
                .handle_child_pushdown_result(phase, child_pushdown_result, config)?;
        propagation.updated_node = propagation.updated_node.map(|inner| self.rewrap(inner));
        Ok(propagation)
    }

    fn with_new_state(&self, state: Arc<dyn Any + Send + Sync>) -> Option<Arc<dyn ExecutionPlan>> {
        // How a recursive query hands its work table to the node that reads it.
        self.inner
            .with_new_state(state)
            .map(|inner| self.rewrap(inner))
    }

    fn try_pushdown_sort(
        &self,
        order: &[PhysicalSortExpr],
    ) -> Result<SortOrderPushdownResult<Arc<dyn ExecutionPlan>>> {
        Ok(self
            .inner
            .try_pushdown_sort(order)?
            .map(|inner| self.rewrap(inner)))
    }

    fn with_preserve_order(&self, preserve_order: bool) -> Option<Arc<dyn ExecutionPlan>> {
        self.inner
            .with_preserve_order(preserve_order)
            .map(|inner| self.rewrap(inner))
    }
}

/// Whether `plan` is one of pipetel's wrappers (looking through DataFusion's
/// `downcast_delegate`, which would answer for the wrapped node).
pub(crate) fn is_wrapped(plan: &Arc<dyn ExecutionPlan>) -> bool {
    (plan.as_ref() as &dyn Any).is::<PipetelExec>()
}

/// Whether `plan` or a node below it is measured.
fn measures_any(plan: &Arc<dyn ExecutionPlan>) -> bool {
    is_wrapped(plan) || plan.children().into_iter().any(measures_any)
}
