//! Skew: how an operator's work spread over threads or partitions.

use serde::{Deserialize, Serialize};

use super::{Memory, ShareName};

/// What one thread or partition did for an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Share {
    /// The thread's name and number (`tokio-rt-worker:7`; `ThreadId(7)` when it has no
    /// name) or the partition's number; a thread's name is one string shared by the
    /// shares of every operator it ran.
    pub at: ShareName,
    /// Rows out.
    pub rows: u64,
    /// Busy time, in nanoseconds.
    pub busy_ns: u64,
    /// The heap memory charged to it, with the tracking allocator
    /// (`pipetel::alloc`, feature `alloc`): for a partition, the blocks its calls
    /// allocated; for a worker, the process's memory of the operator. `None` for a
    /// thread (a block is charged to an operator or a partition, not to a thread) and
    /// without the tracking allocator.
    ///
    /// Boxed: most shares are threads', which have none, and a snapshot of many
    /// operators on many threads holds hundreds of thousands of shares (at 10,000
    /// operators on 64 threads, 640,000: 26 MB boxed, 61 MB inline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Box<Memory>>,
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
    pub max_at: ShareName,
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
    /// Peak heap bytes per share ([`Memory::peak`]), when the shares have memory
    /// (partitions and workers, with the tracking allocator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_peak: Option<Spread>,
}
