//! Operators by their labels: where each operator of a snapshot sits in its `operators`,
//! so that an edge's or a neighbour's [`NodeRef`] finds its operator without a search.

use std::collections::HashMap;

use crate::insight::snapshot::NodeRef;
use crate::insight::snapshot::OperatorSnapshot;

/// The index in `operators` of each operator, by `(node.type, node.id)`.
pub(crate) struct NodeIndex<'a>(HashMap<(&'a str, &'a str), usize>);

impl<'a> NodeIndex<'a> {
    pub(crate) fn of(operators: &'a [OperatorSnapshot]) -> NodeIndex<'a> {
        NodeIndex(
            operators
                .iter()
                .enumerate()
                .map(|(at, op)| ((op.node_type.as_str(), op.node_id.as_str()), at))
                .collect(),
        )
    }

    /// Where `node` sits, if it is among the operators.
    pub(crate) fn get(&self, node: &NodeRef) -> Option<usize> {
        self.at(&node.node_type, &node.node_id)
    }

    /// Where the operator labelled `node_type`, `node_id` sits, if it is among them.
    pub(crate) fn at(&self, node_type: &str, node_id: &str) -> Option<usize> {
        self.0.get(&(node_type, node_id)).copied()
    }
}
