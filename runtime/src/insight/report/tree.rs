//! The report's operators nested by the graph: each consumer, then the producers that
//! feed it one level deeper (as EXPLAIN prints a plan, the root first), each operator
//! once — a producer feeding two consumers is shown under the first, and the edge list
//! has every edge.

use std::collections::{HashMap, HashSet};

use crate::insight::snapshot::EdgeSnapshot;
use crate::insight::snapshot::OperatorSnapshot;

/// `group` (in the order given) laid out by `edges`: (depth below the group, operator).
/// Producers outside the group are left out; operators the walk cannot reach from a
/// consumer (a cycle) follow at depth 0.
pub(crate) fn nested<'a>(
    group: &[&'a OperatorSnapshot],
    edges: &[EdgeSnapshot],
) -> Vec<(usize, &'a OperatorSnapshot)> {
    let key = |op: &OperatorSnapshot| (op.node_type.clone(), op.node_id.clone());
    let position: HashMap<(String, String), usize> = group
        .iter()
        .enumerate()
        .map(|(index, op)| (key(op), index))
        .collect();
    let mut inputs: Vec<Vec<usize>> = vec![Vec::new(); group.len()];
    let mut has_consumer = vec![false; group.len()];
    for edge in edges {
        let from = position.get(&(edge.from.node_type.clone(), edge.from.node_id.clone()));
        let to = position.get(&(edge.to.node_type.clone(), edge.to.node_id.clone()));
        if let (Some(&from), Some(&to)) = (from, to) {
            if from != to && !inputs[to].contains(&from) {
                inputs[to].push(from);
                has_consumer[from] = true;
            }
        }
    }
    for producers in &mut inputs {
        producers.sort_unstable();
    }
    let mut laid_out = Vec::with_capacity(group.len());
    let mut shown = HashSet::new();
    let roots = (0..group.len()).filter(|&index| !has_consumer[index]);
    for start in roots.chain(0..group.len()) {
        // Depth first, producers in order; a stack rather than recursion, so that a
        // long chain of operators cannot overflow a thread's stack.
        let mut stack = vec![(start, 0)];
        while let Some((index, depth)) = stack.pop() {
            if !shown.insert(index) {
                continue;
            }
            laid_out.push((depth, group[index]));
            stack.extend(
                inputs[index]
                    .iter()
                    .rev()
                    .map(|&producer| (producer, depth + 1)),
            );
        }
    }
    laid_out
}
