//! Per-call distributions and the slowest calls in the snapshot: what
//! [`Distributions::busy_per_call`](crate::snapshot::Distributions::busy_per_call),
//! `rows_per_call` and `slowest_calls` hold, from the log-linear buckets every thread
//! keeps (`counters::histogram`) and the slowest segments it keeps (`counters::slowest`).

use std::borrow::Cow;
use std::time::Duration;

use crate::counters::histogram;
use crate::counters::per_call::PerCall;
use crate::insight::snapshot::{CallBuckets, Percentiles, SlowCall};
use crate::operator::clock::{ticks_to_nanos, wall_time_at};

impl CallBuckets {
    pub(crate) fn of(read: &PerCall) -> CallBuckets {
        CallBuckets {
            busy: read.busy.0.clone(),
            rows: read.rows.0.clone(),
            ns_per_tick: ticks_to_nanos(1 << 30) as f64 / (1u64 << 30) as f64,
        }
    }

    /// The counts after `earlier`'s.
    pub(crate) fn since(&self, earlier: &CallBuckets) -> CallBuckets {
        let minus = |now: &[(u32, u64)], before: &[(u32, u64)]| -> Vec<(u32, u64)> {
            now.iter()
                .map(|&(index, n)| {
                    let was = before
                        .iter()
                        .find(|(i, _)| *i == index)
                        .map_or(0, |(_, n)| *n);
                    (index, n.saturating_sub(was))
                })
                .filter(|(_, n)| *n > 0)
                .collect()
        };
        CallBuckets {
            busy: minus(&self.busy, &earlier.busy),
            rows: minus(&self.rows, &earlier.rows),
            ns_per_tick: self.ns_per_tick,
        }
    }

    /// Busy time per segment.
    pub(crate) fn busy_percentiles(&self) -> Option<Percentiles<Duration>> {
        let ticks = &*in_order(&self.busy);
        let time = |ticks: u64| Duration::from_nanos((ticks as f64 * self.ns_per_tick) as u64);
        Some(Percentiles {
            count: histogram::count(ticks),
            p50: time(histogram::quantile(ticks, 0.5)?),
            p90: time(histogram::quantile(ticks, 0.9)?),
            p99: time(histogram::quantile(ticks, 0.99)?),
            max: time(histogram::max(ticks)?),
        })
    }

    /// Rows per hand-over.
    pub(crate) fn rows_percentiles(&self) -> Option<Percentiles<u64>> {
        let rows = &*in_order(&self.rows);
        Some(Percentiles {
            count: histogram::count(rows),
            p50: histogram::quantile(rows, 0.5)?,
            p90: histogram::quantile(rows, 0.9)?,
            p99: histogram::quantile(rows, 0.99)?,
            max: histogram::max(rows)?,
        })
    }
}

/// `pairs` in bucket order, as pipetel writes them (a snapshot read back from JSON may
/// not be).
fn in_order(pairs: &[(u32, u64)]) -> Cow<'_, [(u32, u64)]> {
    if pairs.is_sorted_by_key(|&(index, _)| index) {
        Cow::Borrowed(pairs)
    } else {
        let mut sorted = pairs.to_vec();
        sorted.sort_unstable_by_key(|&(index, _)| index);
        Cow::Owned(sorted)
    }
}

/// The slowest calls of `read`, slowest first.
pub(crate) fn slowest(read: &PerCall) -> Vec<SlowCall> {
    read.slowest
        .iter()
        .map(|segment| SlowCall {
            busy: Duration::from_nanos(ticks_to_nanos(segment.ticks)),
            ended: wall_time_at(segment.ended),
            trace_id: (segment.trace_id != 0).then(|| format!("{:032x}", segment.trace_id)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::histogram::bucket_start;

    #[test]
    fn buckets_read_back_out_of_order_give_the_same_percentiles() {
        let ordered = CallBuckets {
            busy: vec![(2, 50), (9, 45), (20, 5)],
            rows: vec![(8, 99), (16, 1)],
            ns_per_tick: 1.0,
        };
        // A snapshot written elsewhere and read back from JSON need not keep the order.
        let shuffled = CallBuckets {
            busy: vec![(20, 5), (2, 50), (9, 45)],
            rows: vec![(16, 1), (8, 99)],
            ns_per_tick: 1.0,
        };
        assert_eq!(shuffled.busy_percentiles(), ordered.busy_percentiles());
        assert_eq!(shuffled.rows_percentiles(), ordered.rows_percentiles());
        let busy = ordered.busy_percentiles().expect("counted");
        assert_eq!(busy.count, 100);
        assert_eq!(busy.p90, Duration::from_nanos(bucket_start(9)));
        assert_eq!(busy.max, Duration::from_nanos(bucket_start(20)));
    }
}
