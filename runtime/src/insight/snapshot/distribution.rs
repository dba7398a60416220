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

/// The buckets behind `busy_per_call` and `rows_per_call`, as (bucket, count) pairs with
/// a count: what [`Snapshot::since`](crate::snapshot::Snapshot::since) subtracts. Busy buckets count
/// clock ticks; `ns_per_tick` scales them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct CallBuckets {
    /// Busy ticks per segment.
    pub busy: Vec<(u32, u64)>,
    /// Rows per hand-over.
    pub rows: Vec<(u32, u64)>,
    /// Nanoseconds per clock tick.
    pub ns_per_tick: f64,
}
