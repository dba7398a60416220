//! [`PipetelRule`]: the physical optimizer rule that wraps every node of a plan in a
//! [`PipetelExec`], numbering the nodes top-down.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::ExecutionPlan;
use pipetel::engine::Query;
use pipetel::Operator;

use crate::exec::{is_wrapped, PipetelExec, Place};
use crate::failures::Failures;
use crate::spawned;

/// The rule: add it last, with
/// [`SessionStateBuilder::with_physical_optimizer_rule`](datafusion::execution::SessionStateBuilder::with_physical_optimizer_rule)
/// (see [`rule`](crate::rule)).
///
/// Every node becomes an operator with `node.type` = the node's name (`FilterExec`,
/// `HashJoinExec`, …) and `node.id` = its position in the plan, counted top-down from 0
/// at the root (pre-order: a node, then its first child's subtree, then the next
/// child's). The same plan gets the same ids on every run. A plan that is already wrapped
/// is left as it is, so running the rule twice wraps nothing twice.
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
}

/// `plan` with each node wrapped as one query, node `i` in pre-order with id `ids[i]`.
pub(crate) fn wrap_numbered(
    plan: Arc<dyn ExecutionPlan>,
    ids: &[u64],
) -> Result<Arc<dyn ExecutionPlan>> {
    spawned::install();
    let plan_wide = PlanWide {
        failures: Arc::new(Failures::default()),
        // One query per plan the rule sees: inside the pipeline run and step current
        // where the plan is made.
        query: Query::start(),
        ids,
    };
    wrap(plan, None, &mut 0, &plan_wide)
}

/// How many nodes `plan` has.
pub(crate) fn node_count(plan: &Arc<dyn ExecutionPlan>) -> usize {
    1 + plan.children().into_iter().map(node_count).sum::<usize>()
}

/// `plan` with each node wrapped, children first so that each node is rebuilt once over
/// its wrapped children; `consumer` is the operator `plan` feeds, `next` the pre-order
/// index of `plan`.
fn wrap(
    plan: Arc<dyn ExecutionPlan>,
    consumer: Option<Operator>,
    next: &mut usize,
    plan_wide: &PlanWide,
) -> Result<Arc<dyn ExecutionPlan>> {
    let index = *next;
    *next += 1;
    let position = plan_wide.ids[index];
    let operator = plan_wide.query.operator(plan.name(), &position);
    let children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
    let node = if children.is_empty() {
        plan
    } else {
        let wrapped = children
            .into_iter()
            .map(|child| wrap(child, Some(operator), next, plan_wide))
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
    };
    Ok(Arc::new(PipetelExec::new(node, place, consumer)))
}
