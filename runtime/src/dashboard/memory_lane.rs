//! The live dashboard's memory lane: the heap bytes each operator held (tracking
//! allocator), sampled each time the server makes a view, for the page to draw as one
//! line per operator over time — which operator's memory climbs, and when it was given
//! back.
//!
//! The server keeps the samples (no global: one lane per dashboard), at most one per
//! [`SPACING`] however many pages poll, and the latest [`MEMORY_LANE_SAMPLES`] (ten
//! minutes at the page's one poll a second; older samples roll off). The view holds the
//! [`LINES`] operators that held the most in the window, each point a fraction of the
//! window's width and of its highest value, with their labels formatted here as the
//! report formats bytes.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde::Serialize;

use crate::insight::figures::names::{display_name, display_names};
use crate::insight::figures::units::{bytes, duration};
use crate::insight::snapshot::Snapshot;

/// The most samples the memory lane keeps (600): older ones roll off, and the lane shows
/// the latest.
pub const MEMORY_LANE_SAMPLES: usize = 600;

/// The least time between two samples: pages polling at once add one.
const SPACING: Duration = Duration::from_millis(250);

/// The most operators the lane draws: those that held the most.
const LINES: usize = 8;

/// One sample: when, in milliseconds since the Unix epoch, and what each operator held.
struct Sample {
    at_ms: u64,
    live: Vec<(String, u64)>,
}

/// The samples of one dashboard.
#[derive(Default)]
pub(crate) struct MemoryLane {
    samples: VecDeque<Sample>,
}

impl MemoryLane {
    /// Keeps what each operator of `snapshot` holds at `at_ms`, unless a sample was kept
    /// less than [`SPACING`] before; nothing without the tracking allocator.
    pub(crate) fn record(&mut self, snapshot: &Snapshot, at_ms: u64) {
        if snapshot.unattributed_memory.is_none() {
            return;
        }
        if let Some(last) = self.samples.back() {
            if at_ms.saturating_sub(last.at_ms) < SPACING.as_millis() as u64 {
                return;
            }
        }
        let names = display_names(&snapshot.operators);
        let live = snapshot
            .operators
            .iter()
            .filter_map(|op| {
                let memory = op.memory?;
                Some((
                    display_name(&names, &op.node_type, &op.node_id),
                    memory.live,
                ))
            })
            .collect();
        if self.samples.len() == MEMORY_LANE_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample { at_ms, live });
    }

    /// The lane to draw: `None` before two samples.
    pub(crate) fn view(&self) -> Option<MemoryLaneView> {
        let (first, last) = (self.samples.front()?, self.samples.back()?);
        if self.samples.len() < 2 {
            return None;
        }
        let span = last.at_ms.saturating_sub(first.at_ms).max(1);
        // Each operator, in order of its first sample; one point per sample, 0 where it
        // was not in the snapshot yet (it had not run: it held nothing).
        let mut order: Vec<&str> = Vec::new();
        let mut points: HashMap<&str, Vec<(u64, u64)>> = HashMap::new();
        for (at, sample) in self.samples.iter().enumerate() {
            for (name, live) in &sample.live {
                let line = points.entry(name).or_insert_with(|| {
                    order.push(name);
                    self.samples
                        .iter()
                        .take(at)
                        .map(|earlier| (earlier.at_ms, 0))
                        .collect()
                });
                line.push((sample.at_ms, *live));
            }
        }
        let highest = |name: &str| points[name].iter().map(|&(_, live)| live).max();
        // The operators that held the most, most first (ties in order of appearance).
        let mut drawn = order.clone();
        drawn.sort_by_key(|&name| std::cmp::Reverse(highest(name)));
        let left_out = drawn.len().saturating_sub(LINES);
        drawn.truncate(LINES);
        let top = drawn
            .iter()
            .filter_map(|&name| highest(name))
            .max()
            .unwrap_or(0);
        let lines = drawn
            .iter()
            .map(|&name| {
                let line = &points[name];
                LaneLine {
                    name: name.to_owned(),
                    now: bytes(line.last().map_or(0, |&(_, live)| live)),
                    highest: bytes(highest(name).unwrap_or(0)),
                    points: line
                        .iter()
                        .map(|&(at, live)| {
                            (
                                (at - first.at_ms) as f64 / span as f64,
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
            span: duration(Duration::from_millis(span)),
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

    fn holding(held: &[(&str, u64)]) -> Snapshot {
        Snapshot {
            operators: held
                .iter()
                .map(|&(node_type, live)| OperatorSnapshot {
                    node_type: node_type.into(),
                    node_id: "1".into(),
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
        let mut lane = MemoryLane::default();
        lane.record(&holding(&[("scan", 0), ("join", 100)]), 1_000);
        assert!(lane.view().is_none(), "one sample is no lane");
        // Too soon after the first: not kept.
        lane.record(&holding(&[("scan", 9), ("join", 9)]), 1_100);
        lane.record(&holding(&[("scan", 50), ("join", 400)]), 2_000);
        lane.record(&holding(&[("scan", 0), ("join", 0), ("sink", 200)]), 3_000);
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
    fn the_lane_keeps_the_latest_samples_and_the_operators_that_held_most() {
        let mut lane = MemoryLane::default();
        let many: Vec<(String, u64)> = (0..LINES as u64 + 3)
            .map(|n| (format!("op{n}"), n))
            .collect();
        let held: Vec<(&str, u64)> = many.iter().map(|(n, live)| (n.as_str(), *live)).collect();
        for at in 0..MEMORY_LANE_SAMPLES as u64 + 10 {
            lane.record(&holding(&held), at * 1_000);
        }
        let view = lane.view().expect("a lane");
        assert_eq!(view.samples, MEMORY_LANE_SAMPLES);
        assert_eq!((view.lines.len(), view.left_out), (LINES, 3));
        assert_eq!(view.lines[0].name, format!("op{} 1", LINES + 2));
        // Without the tracking allocator, nothing is kept.
        let mut none = MemoryLane::default();
        none.record(&Snapshot::default(), 0);
        none.record(&Snapshot::default(), 1_000);
        assert!(none.view().is_none());
    }
}
