//! The tests that start telemetry in their own process and read back what it counted, in
//! one test binary: each test runs alone in a child of it (`own_process!`), since
//! telemetry is one per process and the modules start it with configurations of their
//! own; the workspace links one binary for them instead of one each.

mod cardinality;
mod clock_through_quanta;
mod counting;
mod diagnoses;
mod distributions;
mod engine_shapes;
mod estimates;
mod graph;
mod logs;
mod off;
mod runs_apart;
mod shapes;
mod signatures;
mod steps;
mod steps_across_tasks;
mod timeline;
mod wait_states;

use pipetel::snapshot::OperatorSnapshot;

/// The operator whose `node.id` is `node_id`, in a snapshot taken now.
fn operator_named(node_id: &str) -> OperatorSnapshot {
    pipetel::snapshot()
        .operators
        .into_iter()
        .find(|op| op.node_id == node_id)
        .unwrap_or_else(|| panic!("no operator {node_id} in the snapshot"))
}

/// The operator labelled `node_type` and `node_id`, in a snapshot taken now.
fn operator_labelled(node_type: &str, node_id: &str) -> OperatorSnapshot {
    pipetel::snapshot()
        .operator(node_type, node_id)
        .cloned()
        .unwrap_or_else(|| panic!("no operator {node_type} {node_id} in the snapshot"))
}
