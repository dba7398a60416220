//! The per-call distributions and the skew at collection time: `<namespace>.call.duration`,
//! `<namespace>.call.rows` and, with the tracking allocator, `<namespace>.call.allocated`
//! (histograms), and `<namespace>.skew` (a gauge).
//!
//! The distributions live in pipetel's per-series log-linear buckets (`counters::histogram`);
//! the OpenTelemetry SDK takes a histogram only as recorded values, never as bucket
//! counts. So at each collection, for each series and each of its buckets, the values
//! counted since the previous collection are recorded into SDK histograms bound to the
//! series: `count` records of the bucket's start (seconds of busy time, rows, bytes). Counts
//! are exact; each value lands in the exported bucket holding its bucket's start (off by
//! at most a quarter of the value); the sum is the sum of those starts (an underestimate
//! by less than a quarter).
//!
//! The cost is one SDK record per call, on the export thread, so a collection records at
//! most [`MAX_HISTOGRAM_RECORDS`] values: past it, every bucket replays its share, the
//! rest waits for the next collections (counts stay exact, and lag), with one warning
//! naming the limit.
//!
//! The skew gauge is read from the same pass: DataFusion's score of the rows and busy
//! time across the threads (and the partitions) that ran each operator, for operators
//! run by two or more. It is a synchronous gauge recorded through handles bound to each
//! series' points, not an observable one: an observation hashes its four attributes
//! each time (about 2,600 instructions; a bound record, about 140), and an operator run
//! by many threads has a point at every collection. Its shares only grow, so a point,
//! once there, stays meaningful.
//!
//! [`Distributions::collect`] runs inside the collection's first callback, after the
//! operator metrics (`export::operator_metrics`), so that what it records goes out in
//! the same collection.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::metrics::{BoundGauge, BoundHistogram, Gauge, Histogram, Meter};
use opentelemetry::KeyValue;

use crate::counters::histogram::{bucket_start, Buckets};
use crate::counters::partitions;
use crate::counters::per_call;
use crate::counters::reading;
use crate::counters::registry;
use crate::counters::sums::{ExportShares, ShareSums, Sums};
use crate::insight::memory::tracking;
use crate::insight::skew::score_of;
use crate::names::{self, MetricName};
use crate::operator::clock::ticks_to_nanos;
use crate::warn::warn;

/// The most values one collection records into the call histograms (1,000,000, tens of
/// milliseconds of the export thread): past it, each bucket records its share and the
/// rest waits for the next collections, with one warning naming this limit.
pub const MAX_HISTOGRAM_RECORDS: u64 = 1_000_000;

static WARNED: AtomicBool = AtomicBool::new(false);

/// The skew gauge's points of a series: across threads or partitions, of rows or busy
/// time.
const SKEW_POINTS: [(&str, &str); 4] = [
    ("threads", "rows"),
    ("threads", "busy"),
    ("partitions", "rows"),
    ("partitions", "busy"),
];

/// One series' bound histograms, the bucket counts already recorded, and its skew
/// points (in [`SKEW_POINTS`]' order), bound when first scored.
struct Exported {
    duration: BoundHistogram<f64>,
    rows: BoundHistogram<u64>,
    /// Bound when the series first has bytes allocated to record: a series has no
    /// `call.allocated` point without the tracking allocator.
    allocated: Option<BoundHistogram<u64>>,
    busy_before: Buckets,
    rows_before: Buckets,
    allocated_before: Buckets,
    skew: [Option<BoundGauge<f64>>; SKEW_POINTS.len()],
}

/// The call histograms and the skew gauge, and what each series exported.
pub(crate) struct Distributions {
    duration: Histogram<f64>,
    rows: Histogram<u64>,
    allocated: Histogram<u64>,
    skew: Gauge<f64>,
    /// By series id.
    exported: Vec<Exported>,
}

impl Distributions {
    /// Records what each series counted since the previous collection, and its skew
    /// from `shares` (each series' shares by thread, or their sums, as the operator
    /// metrics read them).
    pub(crate) fn collect(&mut self, shares: ExportShares) {
        let series_count = registry::series_count();
        let mut read = per_call::read(series_count);
        let ExportShares {
            sums: share_sums,
            kept,
        } = shares;
        for (read, shares) in read.iter_mut().zip(kept) {
            read.threads = shares;
        }
        let mut partitions = partitions::read(series_count);
        registry::with_labels(|labels| {
            reading::fold_lanes(&mut Sums::default(), &mut read, &mut partitions, labels);
        });
        // What waits to be recorded, and the share of it this collection records.
        let waiting: u64 = read
            .iter()
            .enumerate()
            .map(|(series, read)| {
                let before = self.exported.get(series);
                waiting_in(&read.busy, before.map(|e| &e.busy_before))
                    + waiting_in(&read.rows, before.map(|e| &e.rows_before))
                    + waiting_in(&read.allocated, before.map(|e| &e.allocated_before))
            })
            .sum();
        let share = if waiting > MAX_HISTOGRAM_RECORDS {
            if !WARNED.swap(true, Ordering::Relaxed) {
                warn(format_args!(
                    "{waiting} operator calls since the previous collection, more than \
                     pipetel::limits::MAX_HISTOGRAM_RECORDS ({MAX_HISTOGRAM_RECORDS}) a collection \
                     records: the call.duration, call.rows and call.allocated histograms lag, \
                     and catch up over the next collections"
                ));
            }
            MAX_HISTOGRAM_RECORDS as f64 / waiting as f64
        } else {
            1.0
        };
        // Without the tracking allocator every segment counted zero bytes: none recorded.
        let tracking = tracking();
        registry::with_labels(|labels| {
            // Sized to the series there are, as the operator metrics' handles are.
            let more = labels.len().saturating_sub(self.exported.len());
            self.exported.reserve_exact(more);
            for (series, (labels, read)) in labels.iter().zip(&read).enumerate() {
                if self.exported.len() == series {
                    self.exported.push(Exported {
                        duration: self.duration.bind(&labels.attributes),
                        rows: self.rows.bind(&labels.attributes),
                        allocated: None,
                        busy_before: Buckets::default(),
                        rows_before: Buckets::default(),
                        allocated_before: Buckets::default(),
                        skew: Default::default(),
                    });
                }
                let Some(exported) = self.exported.get_mut(series) else {
                    continue;
                };
                replay(
                    &read.busy,
                    &mut exported.busy_before,
                    share,
                    |ticks, times| {
                        let seconds = ticks_to_nanos(ticks) as f64 / 1e9;
                        for _ in 0..times {
                            exported.duration.record(seconds);
                        }
                    },
                );
                replay(
                    &read.rows,
                    &mut exported.rows_before,
                    share,
                    |rows, times| {
                        for _ in 0..times {
                            exported.rows.record(rows);
                        }
                    },
                );
                if tracking {
                    let histogram = &self.allocated;
                    let bound = &mut exported.allocated;
                    replay(
                        &read.allocated,
                        &mut exported.allocated_before,
                        share,
                        |bytes, times| {
                            let bound =
                                bound.get_or_insert_with(|| histogram.bind(&labels.attributes));
                            for _ in 0..times {
                                bound.record(bytes);
                            }
                        },
                    );
                }
                // Each series' shares by thread come summed, but for a series lanes count
                // in or into, whose shares come whole (added by thread above).
                let by_thread = match share_sums.get(series) {
                    Some(summed) if read.threads.is_empty() => *summed,
                    _ => ShareSums::of(
                        read.threads
                            .iter()
                            .map(|share| (share.rows_out, share.busy_ticks)),
                    ),
                };
                let by_partition = ShareSums::of(
                    partitions
                        .remove(&(series as u32))
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(_, rows, busy)| (rows, busy)),
                );
                for (point, (across, measure)) in SKEW_POINTS.into_iter().enumerate() {
                    let sums = if across == "threads" {
                        &by_thread
                    } else {
                        &by_partition
                    };
                    let (total, squares) = if measure == "rows" {
                        sums.rows
                    } else {
                        sums.busy
                    };
                    let score = (sums.count >= 2)
                        .then(|| score_of(sums.count, total, squares))
                        .flatten();
                    let Some(score) = score else {
                        continue;
                    };
                    exported.skew[point]
                        .get_or_insert_with(|| {
                            self.skew
                                .bind(&skew_attributes(&labels.attributes, across, measure))
                        })
                        .record(score);
                }
            }
        });
    }
}

/// A skew point's attributes: `across`, `measure` and the series' own, in the order the
/// SDK sorts them to (given in another, it keeps the point under both orders); static
/// strings, as the series' are, because the SDK clones every point's attributes at every
/// collection and an owned string's clone is an allocation.
fn skew_attributes(
    series: &[KeyValue],
    across: &'static str,
    measure: &'static str,
) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new(names::SKEW_ACROSS, across),
        KeyValue::new(names::SKEW_MEASURE, measure),
    ];
    attributes.extend_from_slice(series);
    attributes
}

/// How many values of `now` are not recorded yet.
fn waiting_in(now: &Buckets, before: Option<&Buckets>) -> u64 {
    now.0
        .iter()
        .map(|&(index, count)| {
            count.saturating_sub(before.map_or(0, |before| before.get(index as usize)))
        })
        .sum()
}

/// Records, for each bucket, `share` of what it counted beyond `before` (at least one
/// value of each bucket that has any) — `record(value, times)` — and advances `before`
/// by what it recorded.
fn replay(now: &Buckets, before: &mut Buckets, share: f64, mut record: impl FnMut(u64, u64)) {
    for &(index, count) in &now.0 {
        let index = index as usize;
        let waiting = count.saturating_sub(before.get(index));
        if waiting > 0 {
            let now = ((waiting as f64 * share).ceil() as u64).clamp(1, waiting);
            record(bucket_start(index), now);
            before.add(index, now);
        }
    }
}

/// Registers the call histograms and the skew gauge under `namespace`; the caller runs
/// [`Distributions::collect`] at each collection.
pub(crate) fn register(meter: &Meter, namespace: &str) -> Distributions {
    let build = |metric: MetricName| names::described(namespace, &metric);
    let (name, unit, description) = build(names::CALL_DURATION);
    let duration = meter
        .f64_histogram(name)
        .with_unit(unit)
        .with_description(description)
        .with_boundaries(names::CALL_DURATION_BUCKETS.to_vec())
        .build();
    let counts = |metric: MetricName, boundaries: &[f64]| {
        let (name, unit, description) = build(metric);
        meter
            .u64_histogram(name)
            .with_unit(unit)
            .with_description(description)
            .with_boundaries(boundaries.to_vec())
            .build()
    };
    let rows = counts(names::CALL_ROWS, &names::CALL_ROWS_BUCKETS);
    let allocated = counts(names::CALL_ALLOCATED, &names::CALL_ALLOCATED_BUCKETS);
    let (name, unit, description) = build(names::SKEW);
    let skew = meter
        .f64_gauge(name)
        .with_unit(unit)
        .with_description(description)
        .build();
    Distributions {
        duration,
        rows,
        allocated,
        skew,
        exported: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skew_points_attributes_come_sorted_as_the_sdk_keeps_them() {
        // A series' own, as the registry makes them.
        let id = registry::resolve("sorted_attributes_test", "7");
        let series = registry::with_labels(|labels| labels[id as usize].attributes.clone());
        assert!(series.is_sorted_by(|a, b| a.key < b.key), "{series:?}");
        for (across, measure) in SKEW_POINTS {
            let attributes = skew_attributes(&series, across, measure);
            assert!(
                attributes.is_sorted_by(|a, b| a.key < b.key),
                "{attributes:?}"
            );
        }
    }
}
