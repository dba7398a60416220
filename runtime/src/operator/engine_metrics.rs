//! [`EngineMetrics`]: the metrics an engine keeps for an operator itself (DataFusion's
//! `ExecutionPlan::metrics()`: spills, memory, pruning, its own timers), carried into
//! pipetel's snapshot and report beside pipetel's counters.
//!
//! An engine attaches a source to an [`Operator`](crate::Operator) and keeps the returned
//! [`MetricsAttachment`] as long as the source lives (for a plan node: as long as the
//! node). A snapshot reads every attached source; when an attachment drops, the source's
//! last values are folded into the operator's totals and it is detached — both under one
//! lock, so a snapshot sees a source either live or folded, never neither. Read at
//! snapshot time only: attaching costs one lock per source, and no call pays anything.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One value an engine reports, and how values of several sources of one operator (plan
/// nodes in the same position of several queries) combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EngineValue {
    /// A count (rows, bytes, spills, files pruned): sources add up; a later snapshot
    /// less an earlier one is what happened in between.
    Count(u64),
    /// Time spent (an engine's own timer): sources add up, as counts.
    Time(Duration),
    /// A level (a queue's length, a high-water mark): the largest source's; a later
    /// snapshot keeps its own.
    Gauge(u64),
    /// Bytes the engine's own accounting reserved for the operator at its peak
    /// (DataFusion's `MemoryReservation`, shown as `peak_mem_used`): sources add up, as
    /// the allocator's peaks of one operator in several queries do; a later snapshot
    /// keeps its own. With the tracking allocator, the `untracked_memory` diagnosis
    /// compares it with what the operator's allocations held.
    Reserved(u64),
}

impl EngineValue {
    /// `self` and `other` of one metric together.
    pub(crate) fn combine(self, other: EngineValue) -> EngineValue {
        match (self, other) {
            (EngineValue::Count(a), EngineValue::Count(b)) => EngineValue::Count(a + b),
            (EngineValue::Time(a), EngineValue::Time(b)) => EngineValue::Time(a + b),
            (EngineValue::Gauge(a), EngineValue::Gauge(b)) => EngineValue::Gauge(a.max(b)),
            (EngineValue::Reserved(a), EngineValue::Reserved(b)) => EngineValue::Reserved(a + b),
            // A metric that changed kind between sources: the later one stands.
            (_, other) => other,
        }
    }

    /// What happened between `earlier` and `self` (see [`Snapshot::since`](crate::snapshot::Snapshot::since)).
    pub(crate) fn since(self, earlier: EngineValue) -> EngineValue {
        match (self, earlier) {
            (EngineValue::Count(a), EngineValue::Count(b)) => {
                EngineValue::Count(a.saturating_sub(b))
            }
            (EngineValue::Time(a), EngineValue::Time(b)) => EngineValue::Time(a.saturating_sub(b)),
            (now, _) => now,
        }
    }
}

/// A source of an engine's own metrics for one operator.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use pipetel::Operator;
/// use pipetel::engine::{EngineMetrics, EngineValue};
///
/// struct SpillStats(AtomicU64);
///
/// impl EngineMetrics for SpillStats {
///     fn engine_metrics(&self, emit: &mut dyn FnMut(&str, EngineValue)) {
///         emit("spill_count", EngineValue::Count(self.0.load(Ordering::Relaxed)));
///     }
/// }
///
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
/// let sort = Operator::new("sort", "engine-metrics-doc");
/// let stats = Arc::new(SpillStats(AtomicU64::new(2)));
/// let attachment = sort.attach_metrics(stats.clone());
/// sort.call(|| ());
///
/// let snapshot = pipetel::snapshot();
/// let op = snapshot.operators.iter().find(|op| op.node_id == "engine-metrics-doc").unwrap();
/// assert_eq!(op.engine_metrics["spill_count"], EngineValue::Count(2));
/// drop(attachment); // the last values stay with the operator
/// # drop(telemetry);
/// ```
pub trait EngineMetrics: Send + Sync + 'static {
    /// Calls `emit` once per metric, with its name and current value.
    fn engine_metrics(&self, emit: &mut dyn FnMut(&str, EngineValue));
}

/// Keeps an [`EngineMetrics`] source attached to its operator; dropping it folds the
/// source's last values into the operator's totals.
#[must_use = "the source is detached when the attachment drops"]
pub struct MetricsAttachment {
    id: u64,
    series: u32,
    source: Arc<dyn EngineMetrics>,
}

impl std::fmt::Debug for MetricsAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsAttachment")
            .field("series", &self.series)
            .finish_non_exhaustive()
    }
}

/// An operator's engine metrics, by name.
pub(crate) type Values = BTreeMap<String, EngineValue>;

#[derive(Default)]
struct Attached {
    next_id: u64,
    /// Live sources: attachment id, series, source.
    live: Vec<(u64, u32, Weak<dyn EngineMetrics>)>,
    /// The last values of detached sources, by series.
    folded: BTreeMap<u32, Values>,
}

static ATTACHED: Mutex<Option<Attached>> = Mutex::new(None);

fn attached() -> MutexGuard<'static, Option<Attached>> {
    ATTACHED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read_into(values: &mut Values, source: &dyn EngineMetrics) {
    source.engine_metrics(&mut |name, value| add_value(values, name, value));
}

/// `value` of metric `name` added into `values` (two sources of one metric combine).
pub(crate) fn add_value(values: &mut Values, name: &str, value: EngineValue) {
    let combined = match values.get(name) {
        Some(&had) => had.combine(value),
        None => value,
    };
    values.insert(name.to_owned(), combined);
}

/// Every metric of `added` added into `values`.
pub(crate) fn add_values(values: &mut Values, added: &Values) {
    for (name, &value) in added {
        add_value(values, name, value);
    }
}

/// What happened between `before` (an earlier reading, if any) and `now`, metric by
/// metric.
pub(crate) fn values_since(now: &Values, before: Option<&Values>) -> Values {
    now.iter()
        .map(|(name, &value)| {
            let value = match before.and_then(|before| before.get(name)) {
                Some(&earlier) => value.since(earlier),
                None => value,
            };
            (name.clone(), value)
        })
        .collect()
}

/// Attaches `source` to `series` (`None` when the operator counts nothing).
pub(crate) fn attach(series: u32, source: Arc<dyn EngineMetrics>) -> MetricsAttachment {
    let mut attached = attached();
    let attached = attached.get_or_insert_with(Attached::default);
    let id = attached.next_id;
    attached.next_id += 1;
    attached.live.push((id, series, Arc::downgrade(&source)));
    MetricsAttachment { id, series, source }
}

impl Drop for MetricsAttachment {
    fn drop(&mut self) {
        let mut attached = attached();
        let Some(attached) = attached.as_mut() else {
            return;
        };
        read_into(
            attached.folded.entry(self.series).or_default(),
            &*self.source,
        );
        attached.live.retain(|(id, _, _)| *id != self.id);
    }
}

/// Every operator's engine metrics now, by series: folded values and live sources.
pub(crate) fn read() -> BTreeMap<u32, Values> {
    read_where(|_| true)
}

/// [`read`] of the series `ids` only: only their sources are read.
pub(crate) fn read_of(ids: &[u32]) -> BTreeMap<u32, Values> {
    let ids: std::collections::HashSet<u32> = ids.iter().copied().collect();
    read_where(|series| ids.contains(&series))
}

fn read_where(wanted: impl Fn(u32) -> bool) -> BTreeMap<u32, Values> {
    let attached = attached();
    let Some(attached) = attached.as_ref() else {
        return BTreeMap::new();
    };
    let mut all: BTreeMap<u32, Values> = attached
        .folded
        .iter()
        .filter(|(series, _)| wanted(**series))
        .map(|(series, values)| (*series, values.clone()))
        .collect();
    for (_, series, source) in &attached.live {
        if !wanted(*series) {
            continue;
        }
        if let Some(source) = source.upgrade() {
            read_into(all.entry(*series).or_default(), &*source);
        }
    }
    all
}
