//! The conservation check: the rows handed over on the graph's edges against the rows
//! their consumers took. Rows lost or duplicated between two operators become an
//! [`Imbalance`] in the snapshot, flagged by the report.

use std::collections::BTreeMap;

use crate::insight::snapshot::Imbalance;
use crate::insight::snapshot::OperatorSnapshot;
use crate::insight::snapshot::{ChannelSnapshot, EdgeSnapshot, NodeRef};

/// Every imbalance among `operators`, `edges` and `channels`:
/// - an operator that counts its own rows in (arguments with [`Rows`](crate::Rows),
///   `add_rows_in`, a [`Feed`](crate::engine::Feed)) and took a different number of rows than its
///   input edges carried;
/// - a channel whose receivers were dropped while it held rows.
pub(crate) fn check(
    operators: &[OperatorSnapshot],
    edges: &[EdgeSnapshot],
    channels: &[ChannelSnapshot],
) -> Vec<Imbalance> {
    let mut inputs: BTreeMap<(&str, &str), (u64, Vec<NodeRef>)> = BTreeMap::new();
    for edge in edges.iter().filter(|edge| edge.rows > 0) {
        let input = inputs
            .entry((edge.to.node_type.as_str(), edge.to.node_id.as_str()))
            .or_default();
        // Out of a channel, what the consumer took (the channel answers for the rest).
        input.0 += edge.rows_received.unwrap_or(edge.rows);
        if !input.1.contains(&edge.from) {
            input.1.push(edge.from.clone());
        }
    }
    let mut found = Vec::new();
    for op in operators.iter().filter(|op| op.rows.received > 0) {
        let Some((carried, from)) = inputs.remove(&(op.node_type.as_str(), op.node_id.as_str()))
        else {
            continue;
        };
        if carried != op.rows.received {
            let what = if op.rows.received < carried {
                "lost"
            } else {
                "duplicated"
            };
            found.push(Imbalance {
                from,
                to: vec![NodeRef {
                    node_type: op.node_type.clone(),
                    node_id: op.node_id.clone(),
                }],
                rows_sent: carried,
                rows_received: op.rows.received,
                reason: format!(
                    "{} rows {what} on the way in: its inputs handed over {carried}, it took {}",
                    carried.abs_diff(op.rows.received),
                    op.rows.received
                ),
            });
        }
    }
    for channel in channels.iter().filter(|channel| channel.rows_lost > 0) {
        found.push(Imbalance {
            from: channel.senders.clone(),
            to: channel.receivers.clone(),
            rows_sent: channel.rows_sent,
            rows_received: channel.rows_received,
            reason: format!(
                "{} rows lost in channel {}: its receiver was dropped while it held {} batches",
                channel.rows_lost, channel.id, channel.batches_lost
            ),
        });
    }
    found
}
