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

use crate::insight::figures::units::percent;
use crate::insight::snapshot::OperatorSnapshot;
use crate::insight::snapshot::{Bottleneck, Waiting};
use crate::insight::snapshot::{EdgeSnapshot, NodeRef};

/// Operators whose wall time is under this share of the longest operator's are not
/// candidates.
pub(crate) const MIN_WALL_SHARE: f64 = 0.1;
/// Utilisations closer than this are a tie, broken by busy time.
pub(crate) const UTILISATION_TIE: f64 = 0.05;
/// A neighbour waits for the bottleneck when that state is at least this share of its
/// time (the reason names it).
const WAITS: f64 = 0.5;

impl Waiting {
    /// `upstream scan blocked 93%`, naming the neighbour with `name`.
    pub(crate) fn describe(&self, name: &str) -> String {
        let (side, state) = if self.upstream {
            ("upstream", "blocked")
        } else {
            ("downstream", "starved")
        };
        format!("{side} {name} {state} {}", percent(self.share))
    }
}

/// `busy 97% of its time; upstream … blocked 95%`, naming each neighbour with `name`.
pub(crate) fn reason_line(bottleneck: &Bottleneck, name: impl Fn(&NodeRef) -> String) -> String {
    let mut line = format!("busy {} of its time", percent(bottleneck.utilisation));
    if bottleneck.waiting.is_empty() {
        line.push_str(&format!(
            ", {} of all operators' busy time",
            percent(bottleneck.busy_share)
        ));
    }
    for waiting in &bottleneck.waiting {
        line.push_str("; ");
        line.push_str(&waiting.describe(&name(&waiting.node)));
    }
    line
}

/// The bottleneck among `operators` joined by `edges`, if any operator was busy.
pub(crate) fn find(operators: &[OperatorSnapshot], edges: &[EdgeSnapshot]) -> Option<Bottleneck> {
    let longest = operators.iter().map(|op| op.time.wall).max()?;
    let candidates = operators.iter().filter(|op| {
        !op.time.busy.is_zero()
            && op.time.wall.as_secs_f64() >= MIN_WALL_SHARE * longest.as_secs_f64()
    });
    let top = candidates.clone().map(utilisation).fold(0.0_f64, f64::max);
    let chosen = candidates
        .filter(|op| utilisation(op) >= top - UTILISATION_TIE)
        .max_by_key(|op| op.time.busy)?;
    let mut bottleneck = Bottleneck {
        node: node_of(chosen),
        utilisation: utilisation(chosen),
        busy_share: chosen.time.busy_share,
        waiting: waiting(chosen, operators, edges),
        reason: String::new(),
    };
    bottleneck.reason = reason_line(&bottleneck, |node| {
        format!("{} {}", node.node_type, node.node_id)
    });
    Some(bottleneck)
}

/// Busy over wall time.
fn utilisation(op: &OperatorSnapshot) -> f64 {
    if op.time.wall.is_zero() {
        0.0
    } else {
        op.time.busy.as_secs_f64() / op.time.wall.as_secs_f64()
    }
}

fn node_of(op: &OperatorSnapshot) -> NodeRef {
    NodeRef {
        node_type: op.node_type.clone(),
        node_id: op.node_id.clone(),
    }
}

/// The neighbours of `chosen` that wait for it.
fn waiting(
    chosen: &OperatorSnapshot,
    operators: &[OperatorSnapshot],
    edges: &[EdgeSnapshot],
) -> Vec<Waiting> {
    let me = node_of(chosen);
    let mut waiting: Vec<Waiting> = Vec::new();
    for edge in edges {
        let (neighbour, upstream) = if edge.to == me {
            (&edge.from, true)
        } else if edge.from == me {
            (&edge.to, false)
        } else {
            continue;
        };
        if neighbour == &me || waiting.iter().any(|w| &w.node == neighbour) {
            continue;
        }
        let Some(op) = operators
            .iter()
            .find(|op| op.node_type == neighbour.node_type && op.node_id == neighbour.node_id)
        else {
            continue;
        };
        let state = if upstream {
            op.time.blocked
        } else {
            op.time.starved
        };
        let share = if op.time.wall.is_zero() {
            0.0
        } else {
            state.as_secs_f64() / op.time.wall.as_secs_f64()
        };
        if share >= WAITS {
            waiting.push(Waiting {
                node: neighbour.clone(),
                upstream,
                share,
            });
        }
    }
    waiting
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::find;
    use crate::insight::snapshot::{OperatorSnapshot, TimeSplit};

    fn op(node_type: &str, busy_ms: u64, wall_ms: u64, share: f64) -> OperatorSnapshot {
        OperatorSnapshot {
            node_type: node_type.to_owned(),
            node_id: "t".to_owned(),
            time: TimeSplit {
                busy: Duration::from_millis(busy_ms),
                starved: Duration::from_millis(wall_ms - busy_ms),
                wall: Duration::from_millis(wall_ms),
                busy_share: share,
                ..TimeSplit::default()
            },
            ..OperatorSnapshot::default()
        }
    }

    #[test]
    fn the_highest_utilisation_wins_over_more_busy_time() {
        // `slow` is busy all its time; `wide` has more busy time over many tasks, but
        // waits most of it.
        let operators = [op("slow", 900, 1_000, 0.3), op("wide", 2_000, 10_000, 0.7)];
        let found = find(&operators, &[]).expect("a bottleneck");
        assert_eq!(found.node.node_type, "slow");
        assert!((found.utilisation - 0.9).abs() < 1e-9);
    }

    #[test]
    fn a_short_operator_is_not_a_candidate_and_near_ties_go_to_the_busier() {
        // `blip` is busy all of its 5 ms, under a tenth of the longest wall time.
        let operators = [
            op("blip", 5, 5, 0.01),
            op("a", 970, 1_000, 0.4),
            op("b", 990, 1_000, 0.59),
        ];
        let found = find(&operators, &[]).expect("a bottleneck");
        assert_eq!(found.node.node_type, "b");
        let operators = [op("a", 960, 1_000, 0.6), op("b", 990, 1_000, 0.4)];
        // Within the tie, the one with more busy time: b (990 ms).
        assert_eq!(find(&operators, &[]).unwrap().node.node_type, "b");
    }

    #[test]
    fn nothing_busy_names_nothing() {
        assert_eq!(find(&[op("idle", 0, 100, 0.0)], &[]), None);
        assert_eq!(find(&[], &[]), None);
    }
}
