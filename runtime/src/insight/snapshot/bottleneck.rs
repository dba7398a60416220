//! The bottleneck: the operator that limits the pipeline, and who waits for it.

use serde::{Deserialize, Serialize};

use crate::insight::snapshot::NodeRef;

/// The operator that limits the pipeline, and why.
///
/// ```
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
///
/// #[pipetel::operator(node_type = "read", node_id = "bottleneck-doc")]
/// fn read() -> Vec<u64> {
///     vec![1; 1_000]
/// }
/// #[pipetel::operator(node_type = "hash", node_id = "bottleneck-doc")]
/// fn hash(rows: Vec<u64>) -> u64 {
///     let start = std::time::Instant::now();
///     while start.elapsed() < std::time::Duration::from_millis(5) {} // the slow part
///     rows.iter().sum()
/// }
/// let before = pipetel::snapshot();
/// hash(read());
/// let view = pipetel::snapshot().since(&before);
/// let bottleneck = view.bottleneck.unwrap();
/// assert_eq!(bottleneck.node.node_type, "hash");
/// assert!(bottleneck.reason.starts_with("busy 100% of its time"));
/// # drop(telemetry);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Bottleneck {
    /// The operator.
    pub node: NodeRef,
    /// Its busy time over its wall time, 0 to 1.
    pub utilisation: f64,
    /// Its share of all operators' busy time, 0 to 1.
    pub busy_share: f64,
    /// The neighbours that wait for it: upstreams blocked, downstreams starved, for at
    /// least half of their time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<Waiting>,
    /// One line: why this operator (its utilisation, and the neighbours that wait for it).
    pub reason: String,
}

/// A neighbour of the bottleneck that waits for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Waiting {
    /// The neighbour.
    pub node: NodeRef,
    /// Upstream (it feeds the bottleneck, and is blocked) or downstream (it is fed, and
    /// is starved).
    pub upstream: bool,
    /// The share of its time it waits so, 0 to 1.
    pub share: f64,
}
