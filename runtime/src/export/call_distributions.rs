//! The per-call distributions and the skew at collection time: `<namespace>.call.duration`
//! and `<namespace>.call.rows` (histograms) and `<namespace>.skew` (a gauge).
//!
//! The distributions live in pipetel's per-thread log-linear buckets (`counters::histogram`);
//! the OpenTelemetry SDK takes a histogram only as recorded values, never as bucket
//! counts. So at each collection, for each series and each of its buckets, the values
//! counted since the previous collection are recorded into SDK histograms bound to the
//! series: `count` records of the bucket's start (seconds of busy time, or rows). Counts
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
//! run by two or more.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use opentelemetry::metrics::{BoundHistogram, Histogram, Meter};
use opentelemetry::KeyValue;

use crate::counters::histogram::{bucket_start, Buckets};
use crate::counters::partitions;
use crate::counters::per_call;
use crate::counters::reading;
use crate::counters::registry;
use crate::counters::sums::{self, Sums};
use crate::insight::skew::skew_score;
use crate::names::{self, MetricName};
use crate::operator::clock::ticks_to_nanos;
use crate::warn::warn;

/// The most values one collection records into the call histograms (1,000,000, tens of
/// milliseconds of the export thread): past it, each bucket records its share and the
/// rest waits for the next collections, with one warning naming this limit.
pub const MAX_HISTOGRAM_RECORDS: u64 = 1_000_000;

static WARNED: AtomicBool = AtomicBool::new(false);

/// One series' bound histograms and the bucket counts already recorded.
struct Exported {
    duration: BoundHistogram<f64>,
    rows: BoundHistogram<u64>,
    busy_before: Buckets,
    rows_before: Buckets,
}

struct Distributions {
    duration: Histogram<f64>,
    rows: Histogram<u64>,
    /// By series id.
    exported: Vec<Exported>,
}

impl Distributions {
    /// Records what each series counted since the previous collection; returns the skew
    /// gauge's points.
    fn collect(&mut self) -> Vec<(f64, Vec<KeyValue>)> {
        let series_count = registry::series_count();
        let mut read = per_call::read(series_count);
        for (read, shares) in read.iter_mut().zip(sums::thread_shares(series_count)) {
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
            })
            .sum();
        let share = if waiting > MAX_HISTOGRAM_RECORDS {
            if !WARNED.swap(true, Ordering::Relaxed) {
                warn(format_args!(
                    "{waiting} operator calls since the previous collection, more than \
                     pipetel::limits::MAX_HISTOGRAM_RECORDS ({MAX_HISTOGRAM_RECORDS}) a collection \
                     records: the call.duration and call.rows histograms lag, and catch up \
                     over the next collections"
                ));
            }
            MAX_HISTOGRAM_RECORDS as f64 / waiting as f64
        } else {
            1.0
        };
        let mut skews = Vec::new();
        registry::with_labels(|labels| {
            for (series, (labels, read)) in labels.iter().zip(&read).enumerate() {
                if self.exported.len() == series {
                    self.exported.push(Exported {
                        duration: self.duration.bind(&labels.attributes),
                        rows: self.rows.bind(&labels.attributes),
                        busy_before: Buckets::default(),
                        rows_before: Buckets::default(),
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
                let threads: Vec<(u64, u64)> = read
                    .threads
                    .iter()
                    .map(|share| (share.rows_out, share.busy_ticks))
                    .collect();
                let parts: Vec<(u64, u64)> = partitions
                    .remove(&(series as u32))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(_, rows, busy)| (rows, busy))
                    .collect();
                for (across, shares) in [("threads", threads), ("partitions", parts)] {
                    if shares.len() < 2 {
                        continue;
                    }
                    for (measure, values) in [
                        ("rows", shares.iter().map(|s| s.0).collect::<Vec<_>>()),
                        ("busy", shares.iter().map(|s| s.1).collect()),
                    ] {
                        if let Some(score) = skew_score(&values) {
                            let mut attributes = labels.attributes.to_vec();
                            attributes.push(KeyValue::new(names::SKEW_ACROSS, across));
                            attributes.push(KeyValue::new(names::SKEW_MEASURE, measure));
                            skews.push((score, attributes));
                        }
                    }
                }
            }
        });
        skews
    }
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

/// Registers the call histograms and the skew gauge under `namespace`.
pub(crate) fn register(meter: &Meter, namespace: &str) {
    let build = |metric: MetricName| {
        (
            names::full_name(namespace, &metric),
            metric.unit,
            metric.description,
        )
    };
    let (name, unit, description) = build(names::CALL_DURATION);
    let duration = meter
        .f64_histogram(name)
        .with_unit(unit)
        .with_description(description)
        .with_boundaries(names::CALL_DURATION_BUCKETS.to_vec())
        .build();
    let (name, unit, description) = build(names::CALL_ROWS);
    let rows = meter
        .u64_histogram(name)
        .with_unit(unit)
        .with_description(description)
        .with_boundaries(names::CALL_ROWS_BUCKETS.to_vec())
        .build();
    let distributions = Mutex::new(Distributions {
        duration,
        rows,
        exported: Vec::new(),
    });
    let (name, unit, description) = build(names::SKEW);
    meter
        .f64_observable_gauge(name)
        .with_unit(unit)
        .with_description(description)
        .with_callback(move |observer| {
            let skews = distributions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .collect();
            for (score, attributes) in skews {
                observer.observe(score, &attributes);
            }
        })
        .build();
}
