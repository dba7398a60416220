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
        spawned::install();
        let mut next_position = 0;
        let plan_wide = PlanWide {
            failures: Arc::new(Failures::default()),
            // One query per plan the rule sees: inside the pipeline run and step current
            // where the plan is made.
            query: Query::start(),
        };
        wrap(plan, None, &mut next_position, &plan_wide)
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
struct PlanWide {
    failures: Arc<Failures>,
    query: Query,
}

/// `plan` with each node wrapped, children first so that each node is rebuilt once over
/// its wrapped children; `consumer` is the operator `plan` feeds.
fn wrap(
    plan: Arc<dyn ExecutionPlan>,
    consumer: Option<Operator>,
    next_position: &mut u64,
    plan_wide: &PlanWide,
) -> Result<Arc<dyn ExecutionPlan>> {
    let position = *next_position;
    *next_position += 1;
    let operator = plan_wide.query.operator(plan.name(), &position);
    let children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
    let node = if children.is_empty() {
        plan
    } else {
        let wrapped = children
            .into_iter()
            .map(|child| wrap(child, Some(operator), next_position, plan_wide))
            .collect::<Result<Vec<_>>>()?;
        // The wrappers have their nodes' properties: nothing to recompute.
        plan.replace_children(
            wrapped,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep),
        )?
    };
    let place = Place {
        position,
        descendants: position + 1..*next_position,
        failures: Arc::clone(&plan_wide.failures),
        query: plan_wide.query.clone(),
    };
    Ok(Arc::new(PipetelExec::new(node, place, consumer)))
}
