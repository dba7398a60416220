//! An imbalance: rows lost or duplicated between two operators (the conservation check).

use crate::insight::snapshot::NodeRef;
use serde::{Deserialize, Serialize};

/// Rows that did not arrive as they were handed over: lost (`rows_received <
/// rows_sent`) or duplicated (`rows_received > rows_sent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Imbalance {
    /// The operators that handed the rows over.
    pub from: Vec<NodeRef>,
    /// The operators that took them.
    pub to: Vec<NodeRef>,
    /// Rows handed over.
    pub rows_sent: u64,
    /// Rows taken.
    pub rows_received: u64,
    /// Where the difference is: a consumer's own rows received (`rows.received`) that differ from what its
    /// input edges carried, or a channel dropped with rows still in it.
    pub reason: String,
}

impl Imbalance {
    /// Rows received less rows sent: negative when rows were lost, positive when
    /// duplicated.
    pub fn difference(&self) -> i128 {
        i128::from(self.rows_received) - i128::from(self.rows_sent)
    }
}
