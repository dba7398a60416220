//! Skew: how an operator's work spread over threads or partitions.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What one thread or partition did for an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Share {
    /// The thread's name and number (`tokio-rt-worker:7`; `ThreadId(7)` when it has no
    /// name) or the partition's number; a thread's name is one string shared by the
    /// shares of every operator it ran.
    pub at: Arc<str>,
    /// Rows out.
    pub rows: u64,
    /// Busy time, in nanoseconds.
    pub busy_ns: u64,
}

/// The spread of one measure over the shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Spread {
    /// The smallest share's value.
    pub min: u64,
    /// The median share's value (the lower middle of an even count).
    pub median: u64,
    /// The largest share's value.
    pub max: u64,
    /// Which thread or partition had the largest.
    pub max_at: String,
    /// DataFusion's skew score, 0 (even) to 1 (all in one); `None` when all are zero.
    pub skew: Option<f64>,
}

/// An operator's skew across threads or partitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Skew {
    /// How many threads or partitions.
    pub count: usize,
    /// Rows out per share.
    pub rows: Spread,
    /// Busy nanoseconds per share.
    pub busy_ns: Spread,
}
