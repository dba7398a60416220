//! The operator graph as a snapshot shows it: nodes by their labels, edges with the flow
//! that crossed them, and pipetel channels.

use serde::{Deserialize, Serialize};

/// An operator, by its labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct NodeRef {
    /// The `node.type` label.
    pub node_type: String,
    /// The `node.id` label.
    pub node_id: String,
}

/// How an edge of the graph was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EdgeVia {
    /// The producer ran nested in the consumer: the consumer called it, or pulled from it
    /// (an iterator or stream over its input).
    Call,
    /// Batches crossed a pipetel channel ([`crate::channel`]).
    Channel,
    /// The engine stated it ([`Operator::feeds`](crate::Operator::feeds)).
    Plan,
}

/// One edge of the operator graph: `from` hands its output to `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EdgeSnapshot {
    /// The producer.
    pub from: NodeRef,
    /// The consumer.
    pub to: NodeRef,
    /// How pipetel knows.
    pub via: EdgeVia,
    /// Rows that crossed, as the producer handed them out.
    pub rows: u64,
    /// Bytes that crossed (what the producer counted as bytes written).
    pub bytes: u64,
    /// Batches (calls, items) that carried rows or bytes across.
    pub batches: u64,
    /// For a channel edge, the rows `to` took out of the channel (`rows` went in; the
    /// difference is in flight, or lost). `None` for the other edges, where what goes in
    /// is what comes out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_received: Option<u64>,
    /// The channel it runs through, for [`EdgeVia::Channel`] (see
    /// [`Snapshot::channels`](crate::snapshot::Snapshot::channels)). When a channel has several
    /// sending and several receiving operators, its edges' counts are apportioned: each
    /// receiver's share of each sender's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<u32>,
}

#[cfg(test)]
impl EdgeSnapshot {
    /// A call edge of one batch of `rows` from `from` to `to`, two operators of
    /// `node.id` `node_id`: the analyses' tests' graphs.
    pub(crate) fn of_call(from: &str, to: &str, node_id: &str, rows: u64) -> EdgeSnapshot {
        let node = |node_type: &str| NodeRef {
            node_type: node_type.to_owned(),
            node_id: node_id.to_owned(),
        };
        EdgeSnapshot {
            from: node(from),
            to: node(to),
            via: EdgeVia::Call,
            rows,
            bytes: 0,
            batches: 1,
            rows_received: None,
            channel: None,
        }
    }
}

/// What went through one pipetel channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct ChannelSnapshot {
    /// The channel's id (in order of creation, from 1).
    pub id: u32,
    /// The operators that sent into it.
    pub senders: Vec<NodeRef>,
    /// The operators that received from it.
    pub receivers: Vec<NodeRef>,
    /// Rows sent (by operators or not).
    pub rows_sent: u64,
    /// Batches sent.
    pub batches_sent: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Rows received.
    pub rows_received: u64,
    /// Batches received.
    pub batches_received: u64,
    /// Rows the channel still held when its receiver was dropped: lost.
    pub rows_lost: u64,
    /// Batches lost so.
    pub batches_lost: u64,
    /// Rows sent and not yet received or lost: in the channel now.
    pub rows_in_flight: u64,
}
