//! What the Mermaid and Graphviz renderings share: the nodes (one per operator, grouped
//! by step), their labels (time and share, rows in and out, selectivity or
//! amplification, memory held now and at its peak when measured), the edges' labels (rows, bytes, batches) and which of them the
//! conservation check flags.

use std::fmt::Write as _;

use crate::insight::node_index::NodeIndex;
use crate::insight::snapshot::{EdgeVia, NodeRef};

use crate::insight::figures::names::display_names;
use crate::insight::figures::units::{batches, bytes, count, duration, ratio};
use crate::insight::snapshot::{OperatorSnapshot, Snapshot};

/// The graph of a snapshot, ready to print in any syntax.
pub(crate) struct Diagram {
    /// Groups of nodes: the step (`Some("pipeline / step")`) or none, and the nodes'
    /// indices in `nodes`.
    pub(crate) groups: Vec<(Option<String>, Vec<usize>)>,
    pub(crate) nodes: Vec<DiagramNode>,
    pub(crate) edges: Vec<DiagramEdge>,
}

pub(crate) struct DiagramNode {
    /// Label lines.
    pub(crate) lines: Vec<String>,
    /// Rows were lost or duplicated on the way into it.
    pub(crate) flagged: bool,
}

pub(crate) struct DiagramEdge {
    pub(crate) from: usize,
    pub(crate) to: usize,
    /// Label lines.
    pub(crate) lines: Vec<String>,
    /// Into a flagged consumer, or through a channel that lost rows.
    pub(crate) flagged: bool,
}

impl Diagram {
    pub(crate) fn of(snapshot: &Snapshot) -> Diagram {
        let names = display_names(&snapshot.operators);
        let index = NodeIndex::of(&snapshot.operators);
        let find = |node: &NodeRef| index.get(node);
        let flagged_nodes: Vec<usize> = snapshot
            .imbalances
            .iter()
            .flat_map(|imbalance| &imbalance.to)
            .filter_map(find)
            .collect();
        let lossy_channels: Vec<u32> = snapshot
            .channels
            .iter()
            .filter(|channel| channel.rows_lost > 0)
            .map(|channel| channel.id)
            .collect();
        let nodes = snapshot
            .operators
            .iter()
            .enumerate()
            .map(|(i, op)| DiagramNode {
                lines: node_lines(&names[&(op.node_type.clone(), op.node_id.clone())], op),
                flagged: flagged_nodes.contains(&i),
            })
            .collect();
        let edges = merged_edges(snapshot, &index)
            .into_iter()
            .map(|edge| DiagramEdge {
                from: edge.from,
                to: edge.to,
                lines: edge_lines(&edge),
                flagged: flagged_nodes.contains(&edge.to)
                    || edge.channels.iter().any(|id| lossy_channels.contains(id)),
            })
            .collect();
        let mut groups: Vec<(Option<String>, Vec<usize>)> = Vec::new();
        for (i, op) in snapshot.operators.iter().enumerate() {
            let group = op.step.as_ref().map(|step| match &op.pipeline {
                Some(pipeline) => format!("{pipeline} / {step}"),
                None => step.clone(),
            });
            match groups.iter_mut().find(|(name, _)| *name == group) {
                Some((_, members)) => members.push(i),
                None => groups.push((group, vec![i])),
            }
        }
        Diagram {
            groups,
            nodes,
            edges,
        }
    }
}

fn node_lines(name: &str, op: &OperatorSnapshot) -> Vec<String> {
    let mut lines = vec![
        name.to_owned(),
        format!(
            "{} busy, {:.1}%",
            duration(op.time.busy),
            op.time.busy_share * 100.0
        ),
    ];
    let mut rows = format!(
        "rows {} → {}",
        count(op.rows.input),
        count(op.rows.produced)
    );
    if let Some(selectivity) = op.rows.selectivity {
        rows.push_str(&format!(" (×{})", ratio(selectivity)));
    }
    lines.push(rows);
    if let Some(memory) = op.memory.filter(|memory| memory.allocations > 0) {
        lines.push(format!(
            "memory {} (peak {})",
            bytes(memory.live),
            bytes(memory.peak)
        ));
    }
    if op.calls.failed > 0 {
        lines.push(format!("{} failed", op.calls.failed));
    }
    lines
}

fn edge_lines(edge: &MergedEdge) -> Vec<String> {
    let mut first = format!("{} rows", count(edge.rows));
    if edge.bytes > 0 {
        first.push_str(&format!(", {}", bytes(edge.bytes)));
    }
    let mut lines = vec![first, batches(edge.batches)];
    lines.extend(edge_via(edge));
    lines
}

/// The edges between two operators the same way, added up: a pipeline run again makes a
/// new channel each run, and one arrow (one line) per channel would drown the graph.
/// The snapshot keeps each channel's edge.
pub(crate) struct MergedEdge {
    /// The producer's index in the snapshot's operators.
    pub(crate) from: usize,
    /// The consumer's index.
    pub(crate) to: usize,
    pub(crate) via: EdgeVia,
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
    pub(crate) batches: u64,
    /// Rows taken out of the channels, when they differ from those put in anywhere.
    pub(crate) rows_received: Option<u64>,
    /// The channels it runs through, in the order first seen.
    pub(crate) channels: Vec<u32>,
}

/// The snapshot's edges between known operators, those of one (producer, consumer, way)
/// added up, upstream first (by the producer's place, then the consumer's).
pub(crate) fn merged_edges(snapshot: &Snapshot, index: &NodeIndex) -> Vec<MergedEdge> {
    let mut merged: Vec<MergedEdge> = Vec::new();
    for edge in &snapshot.edges {
        let (Some(from), Some(to)) = (index.get(&edge.from), index.get(&edge.to)) else {
            continue;
        };
        let received = edge.rows_received.unwrap_or(edge.rows);
        match merged
            .iter_mut()
            .find(|m| (m.from, m.to, m.via) == (from, to, edge.via))
        {
            Some(m) => {
                m.rows += edge.rows;
                m.bytes += edge.bytes;
                m.batches += edge.batches;
                m.rows_received = m.rows_received.map(|r| r + received);
                m.channels.extend(edge.channel);
            }
            None => merged.push(MergedEdge {
                from,
                to,
                via: edge.via,
                rows: edge.rows,
                bytes: edge.bytes,
                batches: edge.batches,
                rows_received: edge.rows_received.map(|_| received),
                channels: edge.channel.into_iter().collect(),
            }),
        }
    }
    merged.sort_by_key(|edge| (edge.from, edge.to));
    merged
}

/// What crossed an edge, as the report's EDGES lines say it after the names:
/// `500.0 K rows, 1.2 MiB in 62 batches (channel 1)`.
pub(crate) fn edge_text(edge: &MergedEdge) -> String {
    let mut text = format!("{} rows", count(edge.rows));
    if edge.bytes > 0 {
        let _ = write!(text, ", {}", bytes(edge.bytes));
    }
    let _ = write!(text, " in {}", batches(edge.batches));
    if let Some(via) = edge_via(edge) {
        let _ = write!(text, " ({via})");
    }
    text
}

/// How an edge runs, when not by a call or pull: `channel 1`, `3 channels, 480 received`,
/// `plan`.
pub(crate) fn edge_via(edge: &MergedEdge) -> Option<String> {
    let mut said = match (edge.via, edge.channels.as_slice()) {
        (EdgeVia::Plan, _) => vec!["plan".to_owned()],
        (EdgeVia::Channel, [one]) => vec![format!("channel {one}")],
        (EdgeVia::Channel, many) if !many.is_empty() => vec![format!("{} channels", many.len())],
        _ => Vec::new(),
    };
    if let Some(received) = edge.rows_received.filter(|&r| r != edge.rows) {
        said.push(format!("{} received", count(received)));
    }
    (!said.is_empty()).then(|| said.join(", "))
}
