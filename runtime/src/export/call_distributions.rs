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
//! by less than a quarter). The cost is one SDK record per call counted since the
//! previous collection, on the export thread (BENCHMARKS.md, "Collection").
//!
//! The skew gauge is read from the same pass: DataFusion's score of the rows and busy
//! time across the threads (and the partitions) that ran each operator, for operators
//! run by two or more.

use std::sync::{Mutex, PoisonError};

use opentelemetry::metrics::{BoundHistogram, Histogram, Meter};
use opentelemetry::KeyValue;

use crate::counters::histogram::{bucket_start, Buckets};
use crate::counters::partitions;
use crate::counters::per_call;
use crate::counters::registry;
use crate::insight::skew::skew_score;
use crate::names::{self, MetricName};
use crate::operator::clock::ticks_to_nanos;

/// One series' bound histograms and the bucket counts already recorded.
struct Exported {
    duration: BoundHistogram<f64>,
    rows: BoundHistogram<u64>,
    busy_before: Vec<u64>,
    rows_before: Vec<u64>,
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
        let read = per_call::read(series_count);
        let mut partitions = partitions::read(series_count);
        let mut skews = Vec::new();
        registry::with_labels(|labels| {
            for (series, (labels, read)) in labels.iter().zip(&read).enumerate() {
                if self.exported.len() == series {
                    self.exported.push(Exported {
                        duration: self.duration.bind(&labels.attributes),
                        rows: self.rows.bind(&labels.attributes),
                        busy_before: Vec::new(),
                        rows_before: Vec::new(),
                    });
                }
                let Some(exported) = self.exported.get_mut(series) else {
                    continue;
                };
                replay(&read.busy, &mut exported.busy_before, |ticks| {
                    exported.duration.record(ticks_to_nanos(ticks) as f64 / 1e9);
                });
                replay(&read.rows, &mut exported.rows_before, |rows| {
                    exported.rows.record(rows);
                });
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

/// Records, for each bucket, what it counted beyond `before` (then `before` is `now`).
fn replay(now: &Buckets, before: &mut Vec<u64>, mut record: impl FnMut(u64)) {
    before.resize(now.0.len(), 0);
    for (index, (&count, recorded)) in now.0.iter().zip(before.iter_mut()).enumerate() {
        if count > *recorded {
            let value = bucket_start(index);
            for _ in *recorded..count {
                record(value);
            }
            *recorded = count;
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
