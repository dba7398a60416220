//! The bottleneck: the operator that limits the pipeline, found from the graph and the
//! wait states, with a one-line reason.
//!
//! An operator that limits the others is the one that works while they wait for it: its
//! upstreams are blocked (their output waits for it to take it) and its downstreams are
//! starved (they wait for its output). Put as one number, it is the operator busy for the
//! largest part of its own time (its utilisation, `busy / wall`): the station of a
//! queueing network that saturates first, and what Flink's back-pressure monitor reads
//! (`busyTimeMsPerSecond`). Operators whose time is too short to matter (under
//! [`MIN_WALL_SHARE`] of the longest) are left out; near-ties (within
//! [`UTILISATION_TIE`]) go to the operator with more busy time, so that where nothing
//! waits (every operator busy all of its time) the one with the highest busy share is
//! named.

use serde::{Deserialize, Serialize};

use crate::insight::graph::{EdgeSnapshot, NodeRef};
use crate::insight::report::percent;
use crate::insight::snapshot::OperatorSnapshot;

/// Operators whose wall time is under this share of the longest operator's are not
/// candidates.
pub(crate) const MIN_WALL_SHARE: f64 = 0.1;
/// Utilisations closer than this are a tie, broken by busy time.
pub(crate) const UTILISATION_TIE: f64 = 0.05;
/// A neighbour waits for the bottleneck when that state is at least this share of its
/// time (the reason names it).
const WAITS: f64 = 0.5;

/// The operator that limits the pipeline, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bottleneck {
    /// The operator.
    pub node: NodeRef,
    /// Its busy time over its wall time, 0 to 1.
    pub utilisation: f64,
    /// Its share of all operators' busy time, 0 to 1.
    pub busy_share: f64,
    /// One line: why this operator (its utilisation, and the neighbours that wait for it).
    pub reason: String,
}

/// The bottleneck among `operators` joined by `edges`, if any operator was busy.
pub(crate) fn find(operators: &[OperatorSnapshot], edges: &[EdgeSnapshot]) -> Option<Bottleneck> {
    let longest = operators.iter().map(|op| op.wall).max()?;
    let candidates = operators.iter().filter(|op| {
        !op.busy.is_zero() && op.wall.as_secs_f64() >= MIN_WALL_SHARE * longest.as_secs_f64()
    });
    let top = candidates.clone().map(utilisation).fold(0.0_f64, f64::max);
    let chosen = candidates
        .filter(|op| utilisation(op) >= top - UTILISATION_TIE)
        .max_by_key(|op| op.busy)?;
    Some(Bottleneck {
        node: node_of(chosen),
        utilisation: utilisation(chosen),
        busy_share: chosen.busy_share,
        reason: reason(chosen, operators, edges),
    })
}

/// Busy over wall time.
fn utilisation(op: &OperatorSnapshot) -> f64 {
    if op.wall.is_zero() {
        0.0
    } else {
        op.busy.as_secs_f64() / op.wall.as_secs_f64()
    }
}

fn node_of(op: &OperatorSnapshot) -> NodeRef {
    NodeRef {
        node_type: op.node_type.clone(),
        node_id: op.node_id.clone(),
    }
}

/// `busy 97% of its time; upstream transform blocked 95%; downstream sink starved 90%`.
fn reason(
    chosen: &OperatorSnapshot,
    operators: &[OperatorSnapshot],
    edges: &[EdgeSnapshot],
) -> String {
    let me = node_of(chosen);
    let find = |node: &NodeRef| {
        operators
            .iter()
            .find(|op| op.node_type == node.node_type && op.node_id == node.node_id)
    };
    let share = |op: &OperatorSnapshot, part: std::time::Duration| {
        if op.wall.is_zero() {
            0.0
        } else {
            part.as_secs_f64() / op.wall.as_secs_f64()
        }
    };
    let mut waiting = Vec::new();
    let mut named = Vec::new();
    for edge in edges {
        let (neighbour, upstream) = if edge.to == me {
            (&edge.from, true)
        } else if edge.from == me {
            (&edge.to, false)
        } else {
            continue;
        };
        let Some(op) = find(neighbour) else { continue };
        if named.contains(&neighbour) {
            continue;
        }
        named.push(neighbour);
        let (state, value) = if upstream {
            ("blocked", share(op, op.blocked))
        } else {
            ("starved", share(op, op.starved))
        };
        if value >= WAITS {
            waiting.push(format!(
                "{} {} {state} {}",
                if upstream { "upstream" } else { "downstream" },
                op.node_type,
                percent(value)
            ));
        }
    }
    let mut line = format!("busy {} of its time", percent(utilisation(chosen)));
    if waiting.is_empty() {
        line.push_str(&format!(
            ", {} of all operators' busy time",
            percent(chosen.busy_share)
        ));
    } else {
        for part in waiting {
            line.push_str("; ");
            line.push_str(&part);
        }
    }
    line
}
