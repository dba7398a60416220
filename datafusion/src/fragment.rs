//! Plan fragments run in another process: [`Placement::of`] reads where a fragment sits
//! in the plan the rule wrapped (its nodes' ids, the boundaries reading other processes,
//! where its output goes), and [`wrap_fragment`] wraps the fragment — a stage as an
//! engine ships it to a worker, where the wrappers do not travel — so that each node
//! keeps its id of the whole plan, the edges between processes are counted on both
//! sides, and the processes' snapshots merge node by node into one graph.

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::physical_plan::ExecutionPlan;

use crate::exec::PipetelExec;
use crate::rule::{node_count, wrap_placed, FragmentOutput};

/// The `node.id` of each node of `plan`, in pre-order (a node, then its children's
/// subtrees in order), as the rule gave them; `None` for a node it did not wrap (one an
/// engine rebuilt or added after the rule ran): the [`Placement::ids`] of a fragment.
///
/// ```
/// # use std::sync::Arc;
/// # use datafusion::physical_optimizer::PhysicalOptimizerRule;
/// # use datafusion::physical_plan::{empty::EmptyExec, union::UnionExec, ExecutionPlan};
/// # use datafusion::arrow::datatypes::Schema;
/// let empty = || -> Arc<dyn ExecutionPlan> { Arc::new(EmptyExec::new(Arc::new(Schema::empty()))) };
/// let plan = UnionExec::try_new(vec![empty(), empty()]).unwrap();
/// let wrapped = pipetel_datafusion::rule().optimize(plan, &Default::default()).unwrap();
/// assert_eq!(pipetel_datafusion::node_ids(&wrapped), [Some(0), Some(1), Some(2)]);
/// ```
pub fn node_ids(plan: &Arc<dyn ExecutionPlan>) -> Vec<Option<u64>> {
    let mut ids = Vec::new();
    pre_order(plan, &mut |node, _| {
        ids.push(wrapper(node).map(PipetelExec::position));
    });
    ids
}

/// Where a fragment of a plan — a stage as an engine ships it to another process — sits
/// in the whole plan: read off the fragment where the plan was made
/// ([`Placement::of`]), sent with it, and applied where it runs ([`wrap_fragment`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Placement {
    /// Each node's `node.id`, in pre-order (a node, then its children's subtrees in
    /// order); `None` for a node the rule did not wrap (one an engine rebuilt or added
    /// after the rule ran).
    pub ids: Vec<Option<u64>>,
    /// The pre-order indices of the nodes that read their input from another process:
    /// nodes with children in the whole plan and none in the fragment (a network boundary
    /// reading another stage). Each row such a node hands on counts as one it took, so
    /// that its rows in, counted where it runs, meet what the other processes handed it.
    pub reading_elsewhere: Vec<usize>,
    /// The node the fragment's output goes to in the whole plan (`node.type`,
    /// `node.id`), which runs in another process: the root counts what it hands over on
    /// that edge, and that node what it took, where it runs.
    pub output_to: Option<(String, u64)>,
    /// The job the plan's query is a part of
    /// ([`Query::start_in_job`](pipetel::engine::Query::start_in_job)): the fragment's
    /// query where it runs is another part of it, so that each process writes its part
    /// of the job to the snapshot directory and the merge gives the job's report.
    pub job: Option<String>,
    /// Set where the fragment runs: the engine rebuilds the fragment's root when the task
    /// runs (the rule's wrapper around it is gone), over the same input, passing on each
    /// row it takes exactly once (datafusion-distributed's `RepartitionExec` producer
    /// head). The root's children then count its rows out and its edge to
    /// [`output_to`](Placement::output_to). Not sent: only the running side knows.
    pub root_rebuilt: bool,
}

impl Placement {
    /// The placement of `plan`, a fragment of a plan the rule wrapped, read where the
    /// plan was made.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use datafusion::physical_optimizer::PhysicalOptimizerRule;
    /// # use datafusion::physical_plan::{empty::EmptyExec, union::UnionExec, ExecutionPlan};
    /// # use datafusion::arrow::datatypes::Schema;
    /// let empty = || -> Arc<dyn ExecutionPlan> { Arc::new(EmptyExec::new(Arc::new(Schema::empty()))) };
    /// let plan = UnionExec::try_new(vec![empty(), empty()]).unwrap();
    /// let wrapped = pipetel_datafusion::rule().optimize(plan, &Default::default()).unwrap();
    /// // The second input, as a fragment of its own: node 2, its output to the union, 0.
    /// let fragment = Arc::clone(wrapped.children()[1]);
    /// let placement = pipetel_datafusion::Placement::of(&fragment);
    /// assert_eq!(placement.ids, [Some(2)]);
    /// assert_eq!(placement.output_to, Some(("UnionExec".to_owned(), 0)));
    /// ```
    pub fn of(plan: &Arc<dyn ExecutionPlan>) -> Placement {
        let mut placement = Placement {
            ids: Vec::new(),
            reading_elsewhere: Vec::new(),
            output_to: wrapper(plan)
                .and_then(PipetelExec::output)
                .map(|output| (output.node_type.to_string(), output.position)),
            job: wrapper(plan).and_then(|root| root.query().job().map(str::to_owned)),
            root_rebuilt: false,
        };
        pre_order(plan, &mut |node, _| {
            let wrapper = wrapper(node);
            if wrapper.is_some_and(PipetelExec::reads_elsewhere) {
                placement.reading_elsewhere.push(placement.ids.len());
            }
            placement.ids.push(wrapper.map(PipetelExec::position));
        });
        placement
    }
}

/// The wrapper `plan` is, if it is one.
fn wrapper(plan: &Arc<dyn ExecutionPlan>) -> Option<&PipetelExec> {
    (plan.as_ref() as &dyn std::any::Any).downcast_ref::<PipetelExec>()
}

/// `fragment` with every node wrapped as the rule wraps a plan (one query), node `i` in
/// pre-order taking `placement.ids[i]`: the ids [`Placement::of`] read off the fragment
/// in the process that planned it. A node without an id there (`None`, or past the end
/// of the ids) takes one from its neighbours, as the rule would have numbered it: its
/// parent's plus one for a first child, its first child's less one, or the end of its
/// previous sibling's subtree — so an engine's rebuilt stage root, or a leaf it
/// specialised for the task, gets the id of the node it stands for, under its own
/// `node.type`. With no id to go by at all, the fragment is numbered from 0, as a whole
/// plan. A fragment that arrives wrapped already (handed over within one process, never
/// encoded) is returned as it is.
pub fn wrap_fragment(
    fragment: Arc<dyn ExecutionPlan>,
    placement: &Placement,
) -> Result<Arc<dyn ExecutionPlan>> {
    if node_ids(&fragment).iter().any(Option::is_some) {
        return Ok(fragment);
    }
    let shape = shape(&fragment);
    let ids = complete(&shape, &placement.ids);
    let mut reads_elsewhere = vec![false; shape.len()];
    for &index in &placement.reading_elsewhere {
        if let Some(flag) = reads_elsewhere.get_mut(index) {
            *flag = true;
        }
    }
    let output = placement
        .output_to
        .as_ref()
        .map(|(node_type, node_id)| FragmentOutput {
            node_type,
            node_id: *node_id,
            root_rebuilt: placement.root_rebuilt,
        });
    wrap_placed(
        fragment,
        &ids,
        &reads_elsewhere,
        output,
        placement.job.as_deref(),
    )
}

/// Each node of a plan, in pre-order: its parent's index, and its subtree's size.
#[derive(Debug, Clone, Copy)]
struct Node {
    parent: Option<usize>,
    size: usize,
}

fn shape(plan: &Arc<dyn ExecutionPlan>) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut parents: Vec<usize> = Vec::new();
    pre_order(plan, &mut |node, depth| {
        parents.truncate(depth);
        nodes.push(Node {
            parent: parents.last().copied(),
            size: node_count(node),
        });
        parents.push(nodes.len() - 1);
    });
    nodes
}

/// Visits `plan`'s nodes in pre-order, with their depth.
fn pre_order(
    plan: &Arc<dyn ExecutionPlan>,
    visit: &mut impl FnMut(&Arc<dyn ExecutionPlan>, usize),
) {
    fn walk(
        node: &Arc<dyn ExecutionPlan>,
        depth: usize,
        visit: &mut impl FnMut(&Arc<dyn ExecutionPlan>, usize),
    ) {
        visit(node, depth);
        for child in node.children() {
            walk(child, depth + 1, visit);
        }
    }
    walk(plan, 0, visit);
}

/// `given` with every gap filled from a neighbour (see [`wrap_fragment`]), one pass after
/// another until none fills more; with no id given at all, `0..`.
fn complete(nodes: &[Node], given: &[Option<u64>]) -> Vec<u64> {
    let mut ids: Vec<Option<u64>> = (0..nodes.len())
        .map(|i| given.get(i).copied().flatten())
        .collect();
    if ids.iter().all(Option::is_none) {
        return (0..nodes.len() as u64).collect();
    }
    // The previous sibling of each node (the node before it with the same parent).
    let previous_sibling = |i: usize| {
        (0..i)
            .rev()
            .find(|&j| nodes[j].parent == nodes[i].parent)
            .filter(|_| nodes[i].parent.is_some())
    };
    loop {
        let mut filled = false;
        for i in 0..nodes.len() {
            if ids[i].is_some() {
                continue;
            }
            let first_child = i + 1 < nodes.len() && nodes[i + 1].parent == Some(i);
            let from_parent = match (nodes[i].parent, previous_sibling(i)) {
                (Some(parent), None) => ids[parent].map(|id| id + 1),
                _ => None,
            };
            let from_child = first_child
                .then(|| ids[i + 1])
                .flatten()
                .and_then(|id| id.checked_sub(1));
            let from_sibling = previous_sibling(i)
                .and_then(|sibling| ids[sibling].map(|id| id + nodes[sibling].size as u64));
            ids[i] = from_parent.or(from_child).or(from_sibling);
            filled |= ids[i].is_some();
        }
        if !filled {
            break;
        }
    }
    // What no neighbour tells (a node whose whole neighbourhood was rebuilt): after
    // every id known, in order.
    let mut next = ids.iter().flatten().max().map_or(0, |max| max + 1);
    ids.into_iter()
        .map(|id| {
            id.unwrap_or_else(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan's shape from (parent, size) pairs in pre-order.
    fn nodes(pairs: &[(Option<usize>, usize)]) -> Vec<Node> {
        pairs
            .iter()
            .map(|&(parent, size)| Node { parent, size })
            .collect()
    }

    #[test]
    fn gaps_take_the_ids_the_whole_plan_gave_the_nodes_they_stand_for() {
        // A chain of four, its root and leaf rebuilt: 4, 5, 6, 7 as in the whole plan.
        let chain = nodes(&[(None, 4), (Some(0), 3), (Some(1), 2), (Some(2), 1)]);
        assert_eq!(
            complete(&chain, &[None, Some(5), Some(6), None]),
            [4, 5, 6, 7]
        );
        // A node put in place of a subtree, as a last child: its parent's plus one.
        assert_eq!(complete(&chain, &[Some(1), Some(2), Some(3)]), [1, 2, 3, 4]);
        // A join: the second child's gap after its sibling's subtree.
        let join = nodes(&[(None, 4), (Some(0), 2), (Some(1), 1), (Some(0), 1)]);
        assert_eq!(
            complete(&join, &[Some(10), Some(11), Some(12), None]),
            [10, 11, 12, 13]
        );
        // Nothing known: numbered as a whole plan.
        assert_eq!(complete(&join, &[]), [0, 1, 2, 3]);
    }
}
