//! The live dashboard's memory lane: the heap bytes each operator held (tracking
//! allocator), sampled each time the server makes a view, for the page to draw as one
//! line per operator over time — which operator's memory climbs, and when it was given
//! back.
//!
//! The server keeps the samples (no global: one lane per dashboard; times on its own
//! monotonic clock, so a wall clock set back cannot disorder them), at most one per
//! [`SPACING`] however many pages poll, and the latest [`MEMORY_LANE_SAMPLES`] (ten
//! minutes at the page's one poll a second; older samples roll off). The view holds the
//! [`LINES`] operators that held the most in the window, each point a fraction of the
//! window's width and of its highest value, with their labels formatted here as the
//! report formats bytes.

// The lane is recorded by the live dashboard only (feature `dashboard`); the page, which
// draws it, is built with `html` alone too, for the one-file report, which has no lane.
#![cfg_attr(not(feature = "dashboard"), allow(dead_code))]

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::insight::figures::names::{display_name, display_names};
use crate::insight::figures::units::{bytes, duration};
use crate::insight::snapshot::{NodeRef, Snapshot};

/// The most samples the memory lane keeps (600): older ones roll off, and the lane shows
/// the latest.
pub const MEMORY_LANE_SAMPLES: usize = 600;

/// The least time between two samples: pages polling at once add one.
const SPACING: Duration = Duration::from_millis(250);

/// The most operators the lane draws: those that held the most.
const LINES: usize = 8;

/// One sample: when (on the dashboard's own monotonic clock), and what each operator
/// held.
struct Sample {
    at: Duration,
    live: Vec<(NodeRef, u64)>,
}

/// The samples of one dashboard, and each operator's name as the latest snapshot's
/// report gives it (a name can change as operators are added: the lines keep the
/// operator, and show its latest name).
pub(crate) struct MemoryLane {
    /// The lane's clock starts here.
    began: Instant,
    samples: VecDeque<Sample>,
    names: HashMap<NodeRef, String>,
}

impl MemoryLane {
    /// A lane with no samples, its clock starting now.
    pub(crate) fn new() -> MemoryLane {
        MemoryLane {
            began: Instant::now(),
            samples: VecDeque::new(),
            names: HashMap::new(),
        }
    }

    /// [`record`](Self::record) now.
    pub(crate) fn record_now(&mut self, snapshot: &Snapshot) {
        self.record(snapshot, self.began.elapsed());
    }

    /// Keeps what each operator of `snapshot` holds at `at` (time since the lane's clock
    /// began), unless a sample was kept less than [`SPACING`] before; nothing without
    /// the tracking allocator.
    pub(crate) fn record(&mut self, snapshot: &Snapshot, at: Duration) {
        if snapshot.unattributed_memory.is_none() {
            return;
        }
        if let Some(last) = self.samples.back() {
            if at.saturating_sub(last.at) < SPACING {
                return;
            }
        }
        let names = display_names(&snapshot.operators);
        self.names.clear();
        let mut live = Vec::new();
        for op in &snapshot.operators {
            let Some(memory) = op.memory else {
                continue;
            };
            let node = op.node();
            self.names.insert(
                node.clone(),
                display_name(&names, &op.node_type, &op.node_id),
            );
            live.push((node, memory.live));
        }
        if self.samples.len() == MEMORY_LANE_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample { at, live });
    }

    /// The lane to draw: `None` before two samples.
    pub(crate) fn view(&self) -> Option<MemoryLaneView> {
        let (first, last) = (self.samples.front()?, self.samples.back()?);
        if self.samples.len() < 2 {
            return None;
        }
        let span = last
            .at
            .saturating_sub(first.at)
            .max(Duration::from_millis(1));
        // Each operator, in order of its first sample; one point per sample, 0 where it
        // was not in the snapshot yet (it had not run: it held nothing).
        let mut order: Vec<&NodeRef> = Vec::new();
        let mut points: HashMap<&NodeRef, Vec<(Duration, u64)>> = HashMap::new();
        for (at, sample) in self.samples.iter().enumerate() {
            for (node, live) in &sample.live {
                let line = points.entry(node).or_insert_with(|| {
                    order.push(node);
                    self.samples
                        .iter()
                        .take(at)
                        .map(|earlier| (earlier.at, 0))
                        .collect()
                });
                line.push((sample.at, *live));
            }
        }
        let highest = |node: &NodeRef| points[node].iter().map(|&(_, live)| live).max();
        // The operators that held the most, most first (ties in order of appearance).
        let mut drawn = order.clone();
        drawn.sort_by_key(|&node| std::cmp::Reverse(highest(node)));
        let left_out = drawn.len().saturating_sub(LINES);
        drawn.truncate(LINES);
        let top = drawn
            .iter()
            .filter_map(|&node| highest(node))
            .max()
            .unwrap_or(0);
        let lines = drawn
            .iter()
            .map(|&node| {
                let line = &points[node];
                LaneLine {
                    name: self
                        .names
                        .get(node)
                        .cloned()
                        .unwrap_or_else(|| format!("{} {}", node.node_type, node.node_id)),
                    now: bytes(line.last().map_or(0, |&(_, live)| live)),
                    highest: bytes(highest(node).unwrap_or(0)),
                    points: line
                        .iter()
                        .map(|&(at, live)| {
                            (
                                at.saturating_sub(first.at).as_secs_f64() / span.as_secs_f64(),
                                if top == 0 {
                                    0.0
                                } else {
                                    live as f64 / top as f64
                                },
                            )
                        })
                        .collect(),
                }
            })
            .collect();
        Some(MemoryLaneView {
            top: bytes(top),
            span: duration(span),
            samples: self.samples.len(),
            lines,
            left_out,
        })
    }
}

/// The memory lane as the page draws it.
#[derive(Debug, Serialize)]
pub(crate) struct MemoryLaneView {
    /// The highest value drawn: the top of the lane (`12.3 MiB`).
    pub(crate) top: String,
    /// The time the lane spans (`42.00 s`).
    pub(crate) span: String,
    /// How many samples it holds.
    pub(crate) samples: usize,
    /// One line per operator drawn, the one that held the most first.
    pub(crate) lines: Vec<LaneLine>,
    /// Operators that held memory but are not drawn (past the [`LINES`] that held most).
    pub(crate) left_out: usize,
}

/// One operator's line.
#[derive(Debug, Serialize)]
pub(crate) struct LaneLine {
    /// Its name, as in the report.
    pub(crate) name: String,
    /// What it holds in the latest sample.
    pub(crate) now: String,
    /// The most it held in a sample.
    pub(crate) highest: String,
    /// `(x, y)` for each sample: its time as a fraction of the lane's span, and what the
    /// operator held as a fraction of the lane's top (0 before it first ran); in time
    /// order.
    pub(crate) points: Vec<(f64, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::snapshot::{Memory, OperatorSnapshot};

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn holding(held: &[(&str, u64)]) -> Snapshot {
        let with_ids: Vec<(&str, &str, u64)> = held
            .iter()
            .map(|&(node_type, live)| (node_type, "1", live))
            .collect();
        holding_ids(&with_ids)
    }

    fn holding_ids(held: &[(&str, &str, u64)]) -> Snapshot {
        Snapshot {
            operators: held
                .iter()
                .map(|&(node_type, node_id, live)| OperatorSnapshot {
                    node_type: node_type.into(),
                    node_id: node_id.into(),
                    memory: Some(Memory {
                        live,
                        ..Memory::default()
                    }),
                    ..OperatorSnapshot::default()
                })
                .collect(),
            unattributed_memory: Some(Memory::default()),
            ..Snapshot::default()
        }
    }

    #[test]
    fn the_lane_draws_each_operator_over_time_scaled_to_the_most_held() {
        let mut lane = MemoryLane::new();
        lane.record(&holding(&[("scan", 0), ("join", 100)]), ms(1_000));
        assert!(lane.view().is_none(), "one sample is no lane");
        // Too soon after the first: not kept.
        lane.record(&holding(&[("scan", 9), ("join", 9)]), ms(1_100));
        lane.record(&holding(&[("scan", 50), ("join", 400)]), ms(2_000));
        lane.record(
            &holding(&[("scan", 0), ("join", 0), ("sink", 200)]),
            ms(3_000),
        );
        let view = lane.view().expect("three samples");
        assert_eq!((view.samples, view.top.as_str()), (3, "400 B"));
        assert_eq!(view.span, "2.00 s");
        let names: Vec<&str> = view.lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            ["join 1", "sink 1", "scan 1"],
            "the one that held most first"
        );
        assert_eq!(view.lines[0].points, [(0.0, 0.25), (0.5, 1.0), (1.0, 0.0)]);
        assert_eq!(
            (view.lines[0].now.as_str(), view.lines[0].highest.as_str()),
            ("0 B", "400 B")
        );
        assert_eq!(view.lines[2].points[1], (0.5, 0.125));
        // The sink ran last: it held nothing before.
        assert_eq!(view.lines[1].points, [(0.0, 0.0), (0.5, 0.0), (1.0, 0.5)]);
    }

    #[test]
    fn an_operator_keeps_its_line_when_its_name_grows_and_is_shown_by_its_latest() {
        let mut lane = MemoryLane::new();
        lane.record(&holding_ids(&[("scan", "app::a::orders", 10)]), ms(0));
        // A second scan whose module path ends the same: the first's short name no longer
        // tells them apart.
        let both = holding_ids(&[
            ("scan", "app::a::orders", 20),
            ("scan", "app::b::orders", 5),
        ]);
        lane.record(&both, ms(1_000));
        let view = lane.view().expect("two samples");
        let names = display_names(&both.operators);
        let first = display_name(&names, "scan", "app::a::orders");
        let lines: Vec<(&str, &[(f64, f64)])> = view
            .lines
            .iter()
            .map(|line| (line.name.as_str(), line.points.as_slice()))
            .collect();
        assert_eq!(lines[0], (first.as_str(), &[(0.0, 0.5), (1.0, 1.0)][..]));
        assert_eq!(lines.len(), 2, "{lines:?}");
        let alone = holding_ids(&[("scan", "app::a::orders", 10)]);
        let alone = display_name(&display_names(&alone.operators), "scan", "app::a::orders");
        assert_ne!(alone, first, "the name grew");
    }

    #[test]
    fn the_lane_keeps_the_latest_samples_and_the_operators_that_held_most() {
        let mut lane = MemoryLane::new();
        let many: Vec<(String, u64)> = (0..LINES as u64 + 3)
            .map(|n| (format!("op{n}"), n))
            .collect();
        let held: Vec<(&str, u64)> = many.iter().map(|(n, live)| (n.as_str(), *live)).collect();
        for at in 0..MEMORY_LANE_SAMPLES as u64 + 10 {
            lane.record(&holding(&held), ms(at * 1_000));
        }
        let view = lane.view().expect("a lane");
        assert_eq!(view.samples, MEMORY_LANE_SAMPLES);
        assert_eq!((view.lines.len(), view.left_out), (LINES, 3));
        assert_eq!(view.lines[0].name, format!("op{} 1", LINES + 2));
        // Without the tracking allocator, nothing is kept.
        let mut none = MemoryLane::new();
        none.record(&Snapshot::default(), ms(0));
        none.record(&Snapshot::default(), ms(1_000));
        assert!(none.view().is_none());
    }
}
