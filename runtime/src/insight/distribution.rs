//! Per-call distributions and the slowest calls in the snapshot: what
//! [`Distributions::busy_per_call`](crate::snapshot::Distributions::busy_per_call),
//! `rows_per_call` and `slowest_calls` hold, from the log-linear buckets every thread
//! keeps (`counters::histogram`) and the slowest segments it keeps (`counters::slowest`).

use std::borrow::Cow;
use std::time::Duration;

use crate::counters::histogram::bucket_start;
use crate::counters::per_call::PerCall;
use crate::insight::memory::tracking;
use crate::insight::snapshot::{CallBuckets, Percentiles, SlowCall};
use crate::operator::clock::{ticks_to_nanos, wall_time_at};

/// Significant bits a busy bucket's start keeps, in nanoseconds: 16 buckets per power of
/// two. The counters' buckets are of clock ticks, a quarter of a power of two wide; the
/// snapshot cuts each one's start, in nanoseconds, to these bits — a grid finer than the
/// ticks', so a start read back stays less than a quarter below the time it stands for
/// (at least 16/17 of the tick bucket's start, which is at least 4/5 of the time: 0.75).
const BUSY_BITS: u32 = 5;

/// `value` with all but its `bits` leading bits cleared: the start of its bucket on a
/// grid of `2^(bits − 1)` buckets per power of two (values below `2^bits` exact).
fn leading(value: u64, bits: u32) -> u64 {
    let width = u64::BITS - value.leading_zeros();
    match width.checked_sub(bits) {
        Some(shift) if shift > 0 => value >> shift << shift,
        _ => value,
    }
}

/// Counts by bucket number as counts by each bucket's start.
fn by_start(buckets: &[(u32, u64)]) -> Vec<(u64, u64)> {
    buckets
        .iter()
        .map(|&(index, n)| (bucket_start(index as usize), n))
        .collect()
}

impl CallBuckets {
    /// The buckets of `read`; its bytes allocated only when the tracking allocator
    /// counts (without it, every segment counted zero bytes).
    pub(crate) fn of(read: &PerCall) -> CallBuckets {
        CallBuckets {
            busy: in_nanoseconds(&read.busy.0, ticks_to_nanos),
            rows: by_start(&read.rows.0),
            allocated: if tracking() {
                by_start(&read.allocated.0)
            } else {
                Vec::new()
            },
        }
    }

    /// The counts after `earlier`'s.
    pub(crate) fn since(&self, earlier: &CallBuckets) -> CallBuckets {
        let minus = |now: &[(u64, u64)], before: &[(u64, u64)]| -> Vec<(u64, u64)> {
            now.iter()
                .map(|&(start, n)| {
                    let was = before
                        .iter()
                        .find(|(at, _)| *at == start)
                        .map_or(0, |(_, n)| *n);
                    (start, n.saturating_sub(was))
                })
                .filter(|(_, n)| *n > 0)
                .collect()
        };
        CallBuckets {
            busy: minus(&self.busy, &earlier.busy),
            rows: minus(&self.rows, &earlier.rows),
            allocated: minus(&self.allocated, &earlier.allocated),
        }
    }

    /// `other`'s counts added to these, bucket by bucket.
    pub(crate) fn add(&mut self, other: &CallBuckets) {
        add_pairs(&mut self.busy, &other.busy);
        add_pairs(&mut self.rows, &other.rows);
        add_pairs(&mut self.allocated, &other.allocated);
    }

    /// Busy time per segment.
    pub(crate) fn busy_percentiles(&self) -> Option<Percentiles<Duration>> {
        percentiles(&self.busy).map(|nanos| Percentiles {
            count: nanos.count,
            p50: Duration::from_nanos(nanos.p50),
            p90: Duration::from_nanos(nanos.p90),
            p99: Duration::from_nanos(nanos.p99),
            max: Duration::from_nanos(nanos.max),
        })
    }

    /// Rows per hand-over.
    pub(crate) fn rows_percentiles(&self) -> Option<Percentiles<u64>> {
        percentiles(&self.rows)
    }

    /// Bytes allocated per segment.
    pub(crate) fn allocated_percentiles(&self) -> Option<Percentiles<u64>> {
        percentiles(&self.allocated)
    }
}

/// Tick buckets (by index, in order) as nanosecond buckets: each one's start converted
/// with `to_nanos` and cut to [`BUSY_BITS`]; tick buckets whose starts fall in one
/// nanosecond bucket (below a few dozen nanoseconds on a fast clock) count together.
pub(crate) fn in_nanoseconds(
    ticks: &[(u32, u64)],
    to_nanos: impl Fn(u64) -> u64,
) -> Vec<(u64, u64)> {
    let mut nanos: Vec<(u64, u64)> = Vec::with_capacity(ticks.len());
    for &(index, n) in ticks {
        let start = leading(to_nanos(bucket_start(index as usize)), BUSY_BITS);
        match nanos.last_mut() {
            Some((last, count)) if *last == start => *count += n,
            _ => nanos.push((start, n)),
        }
    }
    nanos
}

/// `added` counted into `into` (each in any order; `into` left in order of start).
fn add_pairs(into: &mut Vec<(u64, u64)>, added: &[(u64, u64)]) {
    if added.is_empty() {
        return;
    }
    into.extend_from_slice(added);
    into.sort_unstable_by_key(|&(start, _)| start);
    // Pairs of one start, now side by side, into the first of them.
    into.dedup_by(|pair, kept| {
        let same = pair.0 == kept.0;
        if same {
            kept.1 = kept.1.saturating_add(pair.1);
        }
        same
    });
}

/// The median, 90th and 99th percentiles and the largest of what `pairs` counted, each
/// read as the start of the bucket its rank falls in; `None` when nothing was counted.
fn percentiles(pairs: &[(u64, u64)]) -> Option<Percentiles<u64>> {
    let pairs = &*in_order(pairs);
    let count: u64 = pairs.iter().map(|&(_, n)| n).sum();
    if count == 0 {
        return None;
    }
    let quantile = |q: f64| {
        let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
        let mut seen = 0;
        pairs
            .iter()
            .find(|&&(_, n)| {
                seen += n;
                seen >= rank
            })
            .map_or(0, |&(start, _)| start)
    };
    Some(Percentiles {
        count,
        p50: quantile(0.5),
        p90: quantile(0.9),
        p99: quantile(0.99),
        max: pairs.iter().rev().find(|&&(_, n)| n > 0).map_or(0, |p| p.0),
    })
}

/// `pairs` in order of start, as pipetel writes them (a snapshot read back from JSON may
/// not be).
fn in_order(pairs: &[(u64, u64)]) -> Cow<'_, [(u64, u64)]> {
    if pairs.is_sorted_by_key(|&(start, _)| start) {
        Cow::Borrowed(pairs)
    } else {
        let mut sorted = pairs.to_vec();
        sorted.sort_unstable_by_key(|&(start, _)| start);
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
    use crate::counters::histogram::{any_bucket, Buckets};

    #[test]
    fn buckets_read_back_out_of_order_give_the_same_percentiles() {
        let ordered = CallBuckets {
            busy: vec![(2, 50), (12, 45), (40, 5)],
            rows: vec![(8, 99), (32, 1)],
            allocated: vec![(0, 60), (4_096, 39), (1 << 20, 1)],
        };
        // A snapshot written elsewhere and read back from JSON need not keep the order.
        let shuffled = CallBuckets {
            busy: vec![(40, 5), (2, 50), (12, 45)],
            rows: vec![(32, 1), (8, 99)],
            allocated: vec![(1 << 20, 1), (4_096, 39), (0, 60)],
        };
        assert_eq!(shuffled.busy_percentiles(), ordered.busy_percentiles());
        assert_eq!(shuffled.rows_percentiles(), ordered.rows_percentiles());
        assert_eq!(
            shuffled.allocated_percentiles(),
            ordered.allocated_percentiles()
        );
        let allocated = ordered.allocated_percentiles().expect("counted");
        assert_eq!(
            (allocated.count, allocated.p50, allocated.p90),
            (100, 0, 4_096)
        );
        let busy = ordered.busy_percentiles().expect("counted");
        assert_eq!(busy.count, 100);
        assert_eq!(busy.p50, Duration::from_nanos(2));
        assert_eq!(busy.p90, Duration::from_nanos(12));
        assert_eq!(busy.max, Duration::from_nanos(40));
        assert_eq!(CallBuckets::default().busy_percentiles(), None);
    }

    #[test]
    fn quantiles_read_the_bucket_of_the_rank() {
        let mut counted = Buckets::default();
        for value in 1..=100u64 {
            counted.add(any_bucket(value), 1);
        }
        let pairs: Vec<(u64, u64)> = counted
            .0
            .iter()
            .map(|&(index, n)| (bucket_start(index as usize), n))
            .collect();
        let found = percentiles(&pairs).expect("counted");
        let same_bucket = |got: u64, want: u64| any_bucket(got) == any_bucket(want);
        assert_eq!(found.count, 100);
        assert!(same_bucket(found.p50, 50) && found.p50 <= 50);
        assert!(same_bucket(found.p99, 99) && found.p99 <= 99);
        assert!(same_bucket(found.max, 100) && found.max <= 100);
    }

    #[test]
    fn a_busy_bucket_in_nanoseconds_starts_at_most_a_quarter_below_its_times() {
        // Clocks of 0.3, 1 and 2.7 nanoseconds a tick (a TSC, the fallback clock, a slow
        // one): every tick count read back from its nanosecond bucket.
        for (per_tick, scale) in [(3u64, 10u64), (1, 1), (27, 10)] {
            let to_nanos = |ticks: u64| ticks * per_tick / scale;
            let mut ticks: Vec<u64> = (0..4096).collect();
            ticks.extend((12..40).flat_map(|shift| [1 << shift, (1 << shift) * 5 / 4 - 1]));
            for value in ticks {
                let index = any_bucket(value);
                let nanos = in_nanoseconds(&[(index as u32, 1)], to_nanos);
                let [(start, 1)] = nanos[..] else {
                    panic!("{nanos:?}")
                };
                let true_nanos = to_nanos(value);
                assert!(start <= true_nanos, "{value} ticks: {start} > {true_nanos}");
                assert!(
                    true_nanos < 8 || start * 4 > true_nanos * 3,
                    "{value} ticks at {per_tick}/{scale}: {start} ns for {true_nanos}"
                );
                assert_eq!(leading(start, BUSY_BITS), start, "on the grid");
            }
        }
        // Tick buckets that fall in one nanosecond bucket count together.
        let fast = in_nanoseconds(&[(1, 2), (2, 3), (4, 1)], |t| t * 3 / 10);
        assert_eq!(fast, [(0, 5), (1, 1)]);
    }

    #[test]
    fn buckets_add_bucket_by_bucket() {
        let mut sum = CallBuckets {
            busy: vec![(2, 1), (48, 2)],
            rows: vec![],
            allocated: vec![(64, 2)],
        };
        sum.add(&CallBuckets {
            busy: vec![(40, 7), (2, 3), (64, 1)],
            rows: vec![(8, 4)],
            allocated: vec![(64, 1), (0, 3)],
        });
        assert_eq!(sum.busy, [(2, 4), (40, 7), (48, 2), (64, 1)]);
        assert_eq!(sum.rows, [(8, 4)]);
        assert_eq!(sum.allocated, [(0, 3), (64, 3)]);
        assert_eq!(sum.busy_percentiles().expect("counted").count, 14);
    }
}
