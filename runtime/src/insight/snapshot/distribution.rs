//! Per-call distributions: percentiles, the slowest calls, and the buckets they come from.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use std::time::SystemTime;

/// Quantiles of a per-call distribution, read from log-linear buckets: each is the start
/// of the bucket its rank falls in — at most the true value and less than a quarter
/// below it (exact below 8 and for powers of two, such as 8,192-row batches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Percentiles<T> {
    /// How many values (segments: calls, polls, items; or hand-overs).
    pub count: u64,
    /// The median.
    pub p50: T,
    /// The 90th percentile.
    pub p90: T,
    /// The 99th percentile.
    pub p99: T,
    /// The largest value (the start of its bucket).
    pub max: T,
}

/// One of an operator's slowest calls (segments: a call, a poll, an item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SlowCall {
    /// Its busy time.
    pub busy: Duration,
    /// When it ended.
    pub ended: SystemTime,
    /// The trace it ran in (32 hex digits), when a run or step span was current on its
    /// thread: find it in the tracing backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// The buckets behind `busy_per_call` and `rows_per_call`, as (bucket start, count) pairs
/// for each bucket with a count, in order of start: what
/// [`Snapshot::since`](crate::snapshot::Snapshot::since) subtracts and
/// [`Snapshot::merge`](crate::snapshot::Snapshot::merge) adds, bucket by bucket.
///
/// The grids are fixed, the same in every process: a busy bucket starts at a number of
/// nanoseconds that has at most five significant bits (16 buckets per power of two,
/// exact below 32 ns), a rows bucket at a number of rows with at most three (4 per power
/// of two, exact below 8). So the buckets of any two snapshots line up, whichever
/// machine and clock counted them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct CallBuckets {
    /// Busy nanoseconds per segment.
    pub busy: Vec<(u64, u64)>,
    /// Rows per hand-over.
    pub rows: Vec<(u64, u64)>,
    /// Bytes allocated per segment, with the tracking allocator
    /// (`pipetel::alloc`, feature `alloc`); empty without it. A bucket starts at a number
    /// of bytes with at most three significant bits, as a rows bucket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocated: Vec<(u64, u64)>,
}
