//! [`PipetelRule`]: the physical optimizer rule that wraps every node of a plan in a
//! [`PipetelExec`], numbering the nodes top-down.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::ExecutionPlan;
use pipetel::engine::Query;

use crate::exec::{is_wrapped, Output, PipetelExec, Place, Relay};
use crate::failures::Failures;
use crate::spawned;

/// The rule: add it last, with
/// [`SessionStateBuilder::with_physical_optimizer_rule`](datafusion::execution::SessionStateBuilder::with_physical_optimizer_rule)
/// (see [`rule`](crate::rule)).
///
/// Every node becomes an operator with `node.type` = the node's name (`FilterExec`,
/// `HashJoinExec`, …) and `node.id` = its position in the plan, counted top-down from 0
/// at the root (pre-order: a node, then its first child's subtree, then the next
/// child's). The same plan gets the same ids on every run. A plan whose root is wrapped
/// is left as it is, so running the rule twice wraps nothing twice; a plan with wrappers
/// only below its root (an engine put nodes on top of a plan the rule wrapped, or
/// rearranged it, as a distributed planner does) is numbered afresh, as a whole.
#[derive(Debug, Default, Clone, Copy)]
pub struct PipetelRule;

impl PhysicalOptimizerRule for PipetelRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if is_wrapped(&plan) {
            return Ok(plan);
        }
        let ids: Vec<u64> = (0..node_count(&plan) as u64).collect();
        wrap_numbered(plan, &ids)
    }

    fn name(&self) -> &str {
        "pipetel"
    }

    fn schema_check(&self) -> bool {
        // Wrappers report their node's schema: the check holds.
        true
    }
}

/// What every node of a plan shares.
struct PlanWide<'a> {
    failures: Arc<Failures>,
    query: Query,
    /// Each node's id, by its pre-order index.
    ids: &'a [u64],
    /// By pre-order index, whether the node reads its input from another process.
    reads_elsewhere: &'a [bool],
}

/// Where a fragment's output goes in the whole plan: a node in another process.
pub(crate) struct FragmentOutput<'a> {
    pub(crate) node_type: &'a str,
    pub(crate) node_id: u64,
    /// Whether the fragment's root is rebuilt where it runs, passing on each row once.
    pub(crate) root_rebuilt: bool,
}

/// `plan` with each node wrapped as one query, node `i` in pre-order with id `ids[i]`.
pub(crate) fn wrap_numbered(
    plan: Arc<dyn ExecutionPlan>,
    ids: &[u64],
) -> Result<Arc<dyn ExecutionPlan>> {
    wrap_placed(plan, ids, &[], None, None)
}

/// [`wrap_numbered`] with the plan's whole numbering, as one query that is a part of
/// `job`.
pub(crate) fn wrap_in_job(
    plan: Arc<dyn ExecutionPlan>,
    job: &str,
) -> Result<Arc<dyn ExecutionPlan>> {
    let ids: Vec<u64> = (0..node_count(&plan) as u64).collect();
    wrap_placed(plan, &ids, &[], None, Some(job))
}

/// [`wrap_numbered`], for a fragment of a plan run in another process: node `i` reads
/// its input elsewhere if `reads_elsewhere[i]`, the root hands its output to `output`,
/// and the query is a part of `job`.
pub(crate) fn wrap_placed(
    plan: Arc<dyn ExecutionPlan>,
    ids: &[u64],
    reads_elsewhere: &[bool],
    output: Option<FragmentOutput>,
    job: Option<&str>,
) -> Result<Arc<dyn ExecutionPlan>> {
    spawned::install();
    let plan_wide = PlanWide {
        failures: Arc::new(Failures::default()),
        // One query per plan the rule sees: inside the pipeline run and step current
        // where the plan is made.
        query: match job {
            Some(job) => Query::start_in_job(job),
            None => Query::start(),
        },
        ids,
        reads_elsewhere,
    };
    let (output, relay) = match output {
        None => (None, false),
        Some(output) => (
            Some(Output {
                operator: plan_wide.query.operator(output.node_type, &output.node_id),
                node_type: output.node_type.into(),
                position: output.node_id,
                elsewhere: true,
            }),
            output.root_rebuilt,
        ),
    };
    wrap(plan, output, relay, None, &mut 0, &plan_wide)
}

/// How many nodes `plan` has.
pub(crate) fn node_count(plan: &Arc<dyn ExecutionPlan>) -> usize {
    1 + plan.children().into_iter().map(node_count).sum::<usize>()
}

/// `plan` with each node wrapped, children first so that each node is rebuilt once over
/// its wrapped children; `output` is what `plan` feeds, `next` the pre-order index of
/// `plan`. With `rebuilt`, `plan` is rebuilt where it runs, unmeasured, and its children
/// count its output (`relay`, for a child of such a node).
fn wrap(
    plan: Arc<dyn ExecutionPlan>,
    output: Option<Output>,
    rebuilt: bool,
    relay: Option<Relay>,
    next: &mut usize,
    plan_wide: &PlanWide,
) -> Result<Arc<dyn ExecutionPlan>> {
    // A node the rule wrapped before is numbered again, as the plan is now.
    let plan = match (plan.as_ref() as &dyn std::any::Any).downcast_ref::<PipetelExec>() {
        Some(wrapper) => Arc::clone(wrapper.inner()),
        None => plan,
    };
    let index = *next;
    *next += 1;
    let position = plan_wide.ids[index];
    let operator = plan_wide.query.operator(plan.name(), &position);
    let relay_below = match (&output, rebuilt) {
        (Some(output), true) => Some(Relay {
            root: operator,
            feed: operator.feeds_elsewhere(&output.operator),
        }),
        _ => None,
    };
    let children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
    let node = if children.is_empty() {
        plan
    } else {
        let to_this = Output {
            operator,
            node_type: plan.name().into(),
            position,
            elsewhere: false,
        };
        let wrapped = children
            .into_iter()
            .map(|child| {
                wrap(
                    child,
                    Some(to_this.clone()),
                    false,
                    relay_below,
                    next,
                    plan_wide,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        // The wrappers have their nodes' properties: nothing to recompute.
        plan.replace_children(
            wrapped,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep),
        )?
    };
    // The descendants' ids: those after it in pre-order, up to the end of its subtree
    // (a range: a whole plan's, and a fragment's from one plan, are numbered in a row).
    let descendants = &plan_wide.ids[index + 1..*next];
    let place = Place {
        position,
        descendants: match (descendants.iter().min(), descendants.iter().max()) {
            (Some(&first), Some(&last)) => first..last + 1,
            _ => position + 1..position + 1,
        },
        failures: Arc::clone(&plan_wide.failures),
        query: plan_wide.query.clone(),
        reads_elsewhere: plan_wide
            .reads_elsewhere
            .get(index)
            .copied()
            .unwrap_or(false),
    };
    Ok(Arc::new(PipetelExec::new(node, place, output, relay)))
}
