//! Progress: an operator's expected total, fraction done and ETA, and the whole pipeline's.

use serde::{Deserialize, Serialize};

use crate::insight::snapshot::NodeRef;
use std::time::Duration;

/// Where an expected total came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Basis {
    /// The operator said how many rows.
    Rows,
    /// The operator said how many bytes it will read; scaled by its rows per byte.
    Bytes,
    /// The operator said how many calls it will make; scaled by its rows per call.
    Calls,
    /// From its inputs' estimates and the share of their output its edges carried.
    Upstream,
}

/// An operator's progress: how far it is toward its expected total, and when it will
/// get there.
///
/// ```
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
///
/// #[pipetel::operator(node_type = "scan", node_id = "estimate-doc")]
/// fn scan(batches: u64) -> impl Iterator<Item = Vec<u64>> {
///     pipetel::current_operator().set_expected_rows(batches * 10);
///     (0..batches).map(|_| vec![0; 10])
/// }
/// #[pipetel::operator(node_type = "filter", node_id = "estimate-doc")]
/// fn keep_half(input: impl Iterator<Item = Vec<u64>>) -> impl Iterator<Item = Vec<u64>> {
///     input.map(|batch| batch[..5].to_vec())
/// }
///
/// let mut rows = keep_half(scan(4));
/// rows.next(); // a quarter of the scan
/// let snapshot = pipetel::snapshot();
/// let filter = snapshot
///     .operators
///     .iter()
///     .find(|op| (op.node_type.as_str(), op.node_id.as_str()) == ("filter", "estimate-doc"))
///     .unwrap();
/// let estimate = filter.estimate.as_ref().unwrap();
/// // The filter's total follows from the scan's: 40 rows in.
/// assert_eq!((estimate.rows, estimate.expected_rows), (10, 40));
/// assert_eq!(estimate.basis, pipetel::snapshot::Basis::Upstream);
/// assert_eq!(estimate.fraction, 0.25);
/// # drop(rows);
/// # drop(telemetry);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Estimate {
    /// Rows handled so far: its input, or its output for a source.
    pub rows: u64,
    /// Rows it is expected to handle in all.
    pub expected_rows: u64,
    /// Where `expected_rows` came from.
    pub basis: Basis,
    /// `rows / expected_rows`, from 0 to 1, never lower than at the previous estimate.
    pub fraction: f64,
    /// Rows handled per second, smoothed, once measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// When it will have handled `expected_rows`, at `rate`: zero once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<Duration>,
}

/// The whole pipeline's progress: that of the operator that will finish last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Overall {
    /// The operator that will finish last (the end of the slowest path).
    pub node: NodeRef,
    /// How far it is, 0 to 1, never lower than at the previous estimate.
    pub fraction: f64,
    /// When it will be done.
    pub eta: Duration,
}
