//! The operator graph in the snapshot: [`EdgeSnapshot`]s (who feeds whom, with the rows,
//! bytes and batches that crossed) and [`ChannelSnapshot`]s (what went into and out of
//! each pipetel channel), read from the recorded links and their per-thread cells.

use std::collections::BTreeMap;

use crate::counters::cells::LinkTally;
use crate::counters::links::{Endpoint, Link, Via};
use crate::counters::registry::SeriesLabels;
use crate::insight::snapshot::{ChannelSnapshot, EdgeSnapshot, EdgeVia, NodeRef};

impl NodeRef {
    pub(crate) fn of(labels: &SeriesLabels) -> NodeRef {
        NodeRef {
            node_type: labels.node_type.to_owned(),
            node_id: labels.node_id.to_owned(),
        }
    }
}

/// One link's tallies.
type Tallies = [u64; LinkTally::COUNT];

/// Every edge and channel of `links` (series labels by id).
pub(crate) fn read(
    labels: &[SeriesLabels],
    links: &[(Link, Tallies)],
) -> (Vec<EdgeSnapshot>, Vec<ChannelSnapshot>) {
    let node = |series: u32| labels.get(series as usize).map(NodeRef::of);
    let mut edges = Vec::new();
    let mut channels: BTreeMap<u32, ChannelParts> = BTreeMap::new();
    for (link, counts) in links {
        match (link.from, link.to) {
            (Endpoint::Operator(from), Endpoint::Operator(to)) => {
                let (Some(from), Some(to)) = (node(from), node(to)) else {
                    continue;
                };
                edges.push(EdgeSnapshot {
                    from,
                    to,
                    via: match link.via {
                        Via::Plan => EdgeVia::Plan,
                        Via::Call | Via::Channel => EdgeVia::Call,
                    },
                    rows: counts[LinkTally::Rows as usize],
                    bytes: counts[LinkTally::Bytes as usize],
                    batches: counts[LinkTally::Batches as usize],
                    rows_received: None,
                    channel: None,
                });
            }
            (sender, Endpoint::Channel(channel)) => {
                let parts = channels.entry(channel).or_default();
                parts.sent.push((sender_node(sender, &node), *counts));
            }
            (Endpoint::Channel(channel), receiver) => {
                let parts = channels.entry(channel).or_default();
                match receiver {
                    Endpoint::Dropped => add(&mut parts.lost, counts),
                    Endpoint::Operator(series) => parts.received.push((node(series), *counts)),
                    _ => parts.received.push((None, *counts)),
                }
            }
            _ => {}
        }
    }
    let channels = channels
        .into_iter()
        .map(|(id, parts)| parts.into_snapshot(id, &mut edges))
        .collect();
    (edges, channels)
}

fn sender_node(sender: Endpoint, node: &impl Fn(u32) -> Option<NodeRef>) -> Option<NodeRef> {
    match sender {
        Endpoint::Operator(series) => node(series),
        _ => None,
    }
}

fn add(sum: &mut Tallies, counts: &Tallies) {
    for (sum, count) in sum.iter_mut().zip(counts) {
        *sum = sum.wrapping_add(*count);
    }
}

/// One channel's links, by side: `None` is outside any operator.
#[derive(Default)]
struct ChannelParts {
    sent: Vec<(Option<NodeRef>, Tallies)>,
    received: Vec<(Option<NodeRef>, Tallies)>,
    lost: Tallies,
}

impl ChannelParts {
    /// The channel's totals, and its edges (each sending operator to each receiving one)
    /// pushed onto `edges`.
    fn into_snapshot(self, id: u32, edges: &mut Vec<EdgeSnapshot>) -> ChannelSnapshot {
        let total = |side: &[(Option<NodeRef>, Tallies)]| {
            let mut sum = [0; LinkTally::COUNT];
            for (_, counts) in side {
                add(&mut sum, counts);
            }
            sum
        };
        let (sent, received) = (total(&self.sent), total(&self.received));
        let rows = LinkTally::Rows as usize;
        let batches = LinkTally::Batches as usize;
        let operators = |side: &[(Option<NodeRef>, Tallies)]| -> Vec<NodeRef> {
            let mut nodes: Vec<NodeRef> = side
                .iter()
                .filter(|(_, counts)| counts[batches] > 0)
                .filter_map(|(node, _)| node.clone())
                .collect();
            nodes.sort();
            nodes.dedup();
            nodes
        };
        let senders = operators(&self.sent);
        let receivers = operators(&self.received);
        for (from, sent_by) in self
            .sent
            .iter()
            .filter(|(n, c)| n.is_some() && c[batches] > 0)
        {
            for (to, received_by) in self
                .received
                .iter()
                .filter(|(n, c)| n.is_some() && c[batches] > 0)
            {
                let counts = apportion(sent_by, received_by, &received, self.received.len());
                let taken = apportion(received_by, sent_by, &sent, self.sent.len());
                edges.push(EdgeSnapshot {
                    from: from.clone().unwrap_or_default(),
                    to: to.clone().unwrap_or_default(),
                    via: EdgeVia::Channel,
                    rows: counts[rows],
                    bytes: counts[LinkTally::Bytes as usize],
                    batches: counts[batches],
                    rows_received: Some(taken[rows]),
                    channel: Some(id),
                });
            }
        }
        let lost_rows = self.lost[rows];
        ChannelSnapshot {
            id,
            senders,
            receivers,
            rows_sent: sent[rows],
            batches_sent: sent[batches],
            bytes_sent: sent[LinkTally::Bytes as usize],
            rows_received: received[rows],
            batches_received: received[batches],
            rows_lost: lost_rows,
            batches_lost: self.lost[batches],
            rows_in_flight: sent[rows]
                .saturating_sub(received[rows])
                .saturating_sub(lost_rows),
        }
    }
}

/// The counts of one side of a channel (`own`: one sender's, or one receiver's) that go
/// to one end on the other side (whose counts are `other`, of `others` in all): all of
/// them when the other side has one end, else that end's share.
fn apportion(own: &Tallies, other: &Tallies, other_total: &Tallies, others: usize) -> Tallies {
    if others <= 1 {
        return *own;
    }
    let mut counts = [0; LinkTally::COUNT];
    for (index, count) in counts.iter_mut().enumerate() {
        let share = match other_total[index] {
            0 => 0.0,
            total => other[index] as f64 / total as f64,
        };
        *count = (own[index] as f64 * share).round() as u64;
    }
    counts
}
