//! The operator metrics at collection time: one pass over the cells feeds every
//! instrument.
//!
//! The operator metrics are synchronous instruments that nothing touches per call. One
//! observable gauge, `<namespace>.series` (how many operator series there are), leads
//! each collection: the SDK runs every observable callback before it reads any
//! instrument, and this one reads the sums of every series once
//! ([`Sums::read_for_export`]: the shares by thread, summed for the skew gauge, in the
//! same pass) and adds to each instrument what each series counted since the previous
//! collection (the custom [`OperatorCounter`](crate::engine::OperatorCounter)s too). An
//! instrument's cumulative value is then the series' total; a series that did not
//! change costs nothing more than its share of the pass, and the SDK keeps its point
//! without rebuilding it (an observable instrument would re-insert every series, every
//! time).
//!
//! The wait states go out as one more counter, `<namespace>.wait`, with a `state`
//! attribute (`starved`, `blocked`, `queued`).
//!
//! Two readers (OTLP and the Prometheus endpoint) share the instruments: whichever
//! collects adds what changed since either last did, so both see the same totals.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use opentelemetry::metrics::{BoundCounter, BoundUpDownCounter, Counter, Meter, UpDownCounter};
use opentelemetry::KeyValue;

use crate::counters::cells::Tally;
use crate::counters::lanes::NO_LANE;
use crate::counters::reading;
use crate::counters::registry::{self, SeriesLabels};
use crate::counters::sums::{ExportShares, SeriesSums, Sums};
use crate::names::{self, DurationUnit, Instrument, MetricName};
use crate::operator::clock::ticks_to_nanos;
use crate::operator::user_counter;

/// How an operator metric's value follows from the sums of its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// The tally's sum over every thread.
    Sum(Tally),
    /// The sum of busy ticks, in seconds.
    Seconds(Tally),
    /// The sum of busy ticks, in whole microseconds.
    Micros(Tally),
    /// Calls running now: those started less those that ended.
    Active,
}

impl Value {
    /// The series' value in this metric's unit, as a whole number (rounded down).
    fn whole(self, sums: &SeriesSums) -> u64 {
        match self {
            Value::Sum(tally) => sums.get(tally),
            Value::Seconds(tally) => ticks_to_nanos(sums.get(tally)) / 1_000_000_000,
            Value::Micros(tally) => ticks_to_nanos(sums.get(tally)) / 1_000,
            Value::Active => sums.active(),
        }
    }

    /// The series' value in this metric's unit, exactly (for seconds).
    fn real(self, sums: &SeriesSums) -> f64 {
        match self {
            Value::Seconds(tally) => ticks_to_nanos(sums.get(tally)) as f64 / 1e9,
            Value::Sum(_) | Value::Micros(_) | Value::Active => self.whole(sums) as f64,
        }
    }
}

/// Every operator metric and the value it exports: the one place a metric meets what it
/// counts. In the order of [`names::OPERATOR_METRICS`] (a test checks).
const OPERATOR_METRICS: [(MetricName, Value); 10] = [
    (names::ROWS_IN, Value::Sum(Tally::RowsIn)),
    (names::ROWS_OUT, Value::Sum(Tally::RowsOut)),
    (names::ROWS_WRITTEN, Value::Sum(Tally::RowsWritten)),
    (names::BYTES_READ, Value::Sum(Tally::BytesRead)),
    (names::BYTES_WRITTEN, Value::Sum(Tally::BytesWritten)),
    (names::DURATION, Value::Seconds(Tally::BusyTicks)),
    (names::TASK_ACTIVE, Value::Active),
    (names::TASK_COMPLETED, Value::Sum(Tally::Completed)),
    (names::TASK_FAILED, Value::Sum(Tally::Failed)),
    (names::TASK_CANCELLED, Value::Sum(Tally::Cancelled)),
];

/// Where `duration` sits in [`OPERATOR_METRICS`].
const DURATION_INDEX: usize = 5;

// Calls running now can go down (an up-down counter); every other value only goes up (a
// counter). No operator metric is a histogram. `duration` is where `DURATION_INDEX` says.
const _: () = {
    let mut index = 0;
    while index < OPERATOR_METRICS.len() {
        let (metric, value) = OPERATOR_METRICS[index];
        assert!(match value {
            Value::Active => matches!(metric.instrument, Instrument::UpDownCounter),
            Value::Sum(_) | Value::Micros(_) | Value::Seconds(_) =>
                matches!(metric.instrument, Instrument::Counter),
        });
        index += 1;
    }
    assert!(matches!(
        OPERATOR_METRICS[DURATION_INDEX].1,
        Value::Seconds(Tally::BusyTicks)
    ));
};

/// The wait states, exported as `wait` with a `state` attribute: a metric of its own
/// rather than a `state` on `duration`, whose sum stays busy time (Daft's meaning, and
/// what dashboards built on it add up).
const WAIT_STATES: [(&str, Tally); 3] = [
    (names::STARVED, Tally::StarvedTicks),
    (names::BLOCKED, Tally::BlockedTicks),
    (names::QUEUED, Tally::QueuedTicks),
];

/// `wait` in `unit`, for each state: the metric, its value and its `state` attribute.
fn wait_metrics(unit: DurationUnit) -> impl Iterator<Item = (MetricName, Value, KeyValue)> {
    WAIT_STATES.into_iter().map(move |(state, tally)| {
        let (metric, value) = match unit {
            DurationUnit::Seconds => (names::WAIT, Value::Seconds(tally)),
            DurationUnit::Microseconds => (names::WAIT_MICROSECONDS, Value::Micros(tally)),
        };
        (metric, value, KeyValue::new(names::WAIT_STATE, state))
    })
}

/// The operator metrics with `duration` in `unit`.
fn operator_metrics(unit: DurationUnit) -> [(MetricName, Value); 10] {
    let mut metrics = OPERATOR_METRICS;
    metrics[DURATION_INDEX] = match unit {
        DurationUnit::Seconds => (names::DURATION, Value::Seconds(Tally::BusyTicks)),
        DurationUnit::Microseconds => (
            names::DURATION_MICROSECONDS,
            Value::Micros(Tally::BusyTicks),
        ),
    };
    metrics
}

/// The instrument of one operator metric.
enum Recorder {
    /// A counter in whole units (rows, bytes, calls, microseconds).
    Whole(Counter<u64>),
    /// A counter in seconds.
    Seconds(Counter<f64>),
    /// Calls running now.
    Active(UpDownCounter<i64>),
}

/// One series' handle on a [`Recorder`], bound to its attributes: an add costs no
/// hashing and no lock.
enum Bound {
    Whole(BoundCounter<u64>),
    Seconds(BoundCounter<f64>),
    Active(BoundUpDownCounter<i64>),
}

impl Recorder {
    fn bind(&self, labels: &[KeyValue]) -> Bound {
        match self {
            Recorder::Whole(counter) => Bound::Whole(counter.bind(labels)),
            Recorder::Seconds(counter) => Bound::Seconds(counter.bind(labels)),
            Recorder::Active(counter) => Bound::Active(counter.bind(labels)),
        }
    }
}

/// One operator metric: what it exports, where, and each series' handle there.
struct OperatorInstrument {
    value: Value,
    recorder: Recorder,
    /// An attribute beside the series' own (`wait`'s `state`). Such a metric's series is
    /// bound once its value is not zero: an operator that never waits (a plain function)
    /// adds no `wait` points.
    extra: Option<KeyValue>,
    /// By series id; `None` until bound.
    bound: Vec<Option<Bound>>,
}

impl OperatorInstrument {
    fn new(
        meter: &Meter,
        namespace: &str,
        metric: MetricName,
        value: Value,
        extra: Option<KeyValue>,
    ) -> Self {
        let name = names::full_name(namespace, &metric);
        let MetricName {
            unit, description, ..
        } = metric;
        let recorder = match value {
            Value::Active => Recorder::Active(
                meter
                    .i64_up_down_counter(name)
                    .with_unit(unit)
                    .with_description(description)
                    .build(),
            ),
            Value::Seconds(_) => Recorder::Seconds(
                meter
                    .f64_counter(name)
                    .with_unit(unit)
                    .with_description(description)
                    .build(),
            ),
            Value::Sum(_) | Value::Micros(_) => Recorder::Whole(
                meter
                    .u64_counter(name)
                    .with_unit(unit)
                    .with_description(description)
                    .build(),
            ),
        };
        OperatorInstrument {
            value,
            recorder,
            extra,
            bound: Vec::new(),
        }
    }

    /// Adds the change of series `series` from `before` to `now`. A series new to the
    /// export (`before` is `None`) is bound first and added even at zero, so that every
    /// series has every operator metric; a `wait` state is bound once it is not zero,
    /// and then gets all of its value.
    fn add_change(
        &mut self,
        series: usize,
        before: Option<&SeriesSums>,
        now: &SeriesSums,
        labels: &[KeyValue],
    ) {
        if self.bound.len() == series {
            self.bound.push(None);
        }
        let Some(slot) = self.bound.get_mut(series) else {
            // Series are added in id order, so this cannot happen; if it did, the series
            // would go unexported rather than under another's labels.
            return;
        };
        let before = match slot {
            Some(_) => before,
            None if self.extra.is_some() && self.value.real(now) == 0.0 => return,
            None => {
                *slot = Some(match &self.extra {
                    Some(extra) => {
                        let mut labels = labels.to_vec();
                        labels.push(extra.clone());
                        self.recorder.bind(&labels)
                    }
                    None => self.recorder.bind(labels),
                });
                None
            }
        };
        let Some(bound) = slot.as_ref() else {
            return;
        };
        match bound {
            Bound::Whole(counter) => {
                let old = before.map_or(0, |before| self.value.whole(before));
                let new = self.value.whole(now);
                // Sums only grow; one that went back (a u64 wrapped) adds nothing.
                if before.is_none() || new > old {
                    counter.add(new.saturating_sub(old));
                }
            }
            Bound::Seconds(counter) => {
                let old = before.map_or(0.0, |before| self.value.real(before));
                let new = self.value.real(now);
                if before.is_none() || new > old {
                    counter.add((new - old).max(0.0));
                }
            }
            Bound::Active(counter) => {
                let old = before.map_or(0, |before| self.value.whole(before));
                let new = self.value.whole(now);
                if before.is_none() || new != old {
                    let change = i64::try_from(new).unwrap_or(i64::MAX)
                        - i64::try_from(old).unwrap_or(i64::MAX);
                    counter.add(change);
                }
            }
        }
    }
}

/// The operator instruments, and the sums each series had at the previous collection.
struct OperatorInstruments {
    instruments: Vec<OperatorInstrument>,
    exported: Vec<SeriesSums>,
    /// Custom counter totals at the previous collection, by counter index then series.
    custom_exported: Vec<Vec<u64>>,
}

impl OperatorInstruments {
    /// Reads the sums of every series and adds what changed to the instruments; returns
    /// how many series there are, and each series' shares by thread or their sums (read
    /// in the same pass over the cells, for the skew gauge).
    fn collect(&mut self) -> (usize, ExportShares) {
        // The series there are, and which keep their shares by thread for the skew gauge
        // rather than summing them: those that count in a lane, and those lanes count
        // into (a lane's shares add into its canonical series' by thread).
        let kept = registry::with_labels(|labels| {
            let mut kept: Vec<bool> = labels.iter().map(|labels| labels.lane != NO_LANE).collect();
            for labels in labels.iter().filter(|labels| labels.lane != NO_LANE) {
                if let Some(canonical) = kept.get_mut(labels.canonical as usize) {
                    *canonical = true;
                }
            }
            kept
        });
        let (mut sums, shares) = Sums::read_for_export(kept.len(), &kept);
        let mut series_count = 0;
        registry::with_labels(|labels| {
            // Runs' lanes add into their canonical series: one exported series per
            // (node.type, node.id).
            reading::fold_lanes(&mut sums, &mut [], &mut HashMap::new(), labels);
            series_count = labels
                .iter()
                .filter(|labels| labels.lane == NO_LANE)
                .count();
            // Each instrument's handles sized to the series there are, not by
            // doubling, which at 10,000 series would leave 6,384 slots of each unused.
            for instrument in &mut self.instruments {
                let more = labels.len().saturating_sub(instrument.bound.len());
                instrument.bound.reserve_exact(more);
            }
            for (series, (labels, now)) in labels.iter().zip(sums.series()).enumerate() {
                let before = self.exported.get(series);
                for instrument in &mut self.instruments {
                    instrument.add_change(series, before, now, &labels.attributes);
                }
            }
            user_counter::with_instruments(|counters| {
                self.collect_custom(counters, &sums, labels);
            });
        });
        self.exported = sums.series().to_vec();
        (series_count, shares)
    }

    /// Adds each operator's new share of every custom counter (a series appears in a
    /// custom counter's export once it counted something there).
    fn collect_custom(&mut self, counters: &[Counter<u64>], sums: &Sums, labels: &[SeriesLabels]) {
        self.custom_exported.resize_with(counters.len(), Vec::new);
        for (index, (counter, exported)) in
            counters.iter().zip(&mut self.custom_exported).enumerate()
        {
            exported.resize(sums.len(), 0);
            for ((total, before), labels) in sums.custom(index).zip(exported.iter_mut()).zip(labels)
            {
                if total > *before {
                    counter.add(total - *before, &labels.attributes);
                    *before = total;
                }
            }
        }
    }
}

/// Registers the operator instruments under `namespace` and the `series` gauge that
/// feeds them at each collection — the collection's first callback —, then runs `then`
/// with each series' shares by thread or their sums (what else a collection records, in
/// the same callback: recorded there, it goes out in the same collection).
pub(crate) fn register(
    meter: &Meter,
    namespace: &str,
    unit: DurationUnit,
    then: impl Fn(ExportShares) + Send + Sync + 'static,
) {
    let instruments = Mutex::new(OperatorInstruments {
        instruments: operator_metrics(unit)
            .into_iter()
            .map(|(metric, value)| OperatorInstrument::new(meter, namespace, metric, value, None))
            .chain(wait_metrics(unit).map(|(metric, value, state)| {
                OperatorInstrument::new(meter, namespace, metric, value, Some(state))
            }))
            .collect(),
        exported: Vec::new(),
        custom_exported: Vec::new(),
    });
    let MetricName {
        unit, description, ..
    } = names::SERIES;
    meter
        .u64_observable_gauge(names::full_name(namespace, &names::SERIES))
        .with_unit(unit)
        .with_description(description)
        .with_callback(move |observer| {
            let (series, shares) = instruments
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .collect();
            then(shares);
            observer.observe(series as u64, &[]);
        })
        .build();
}

#[cfg(test)]
mod tests {
    use super::OPERATOR_METRICS;
    use crate::names;

    #[test]
    fn the_public_list_of_operator_metrics_is_the_export_table() {
        assert_eq!(
            OPERATOR_METRICS.map(|(metric, _)| metric),
            names::OPERATOR_METRICS
        );
    }
}
