//! The series registry: which `(node.type, node.id)` label set each series id stands for.
//!
//! A series id is resolved once per call site (or once per thread and `node_id` value,
//! see `node_id_cache`), under a lock, off the hot path. The exporter reads the label
//! sets here, already built as OpenTelemetry attributes, at collection time.
//!
//! The number of distinct `node.id` values per `node.type` is capped
//! ([`Config::max_node_ids_per_type`](crate::Config::max_node_ids_per_type)); past the
//! cap, calls count into one series with `node.id = "other"` and one warning is printed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{LazyLock, Mutex};

use opentelemetry::KeyValue;

use crate::counters::shards::MAX_SERIES;
use crate::names;
use crate::warn::warn;

/// A series id that counts nothing (every id is taken).
pub(crate) const NO_SERIES: u32 = u32::MAX;

/// The default of [`Config::max_node_ids_per_type`](crate::Config::max_node_ids_per_type).
pub const DEFAULT_MAX_NODE_IDS_PER_TYPE: usize = 1000;

/// Series ids kept back for the overflow series of each node type.
const OVERFLOW_RESERVE: usize = 4096;

static MAX_NODE_IDS_PER_TYPE: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_NODE_IDS_PER_TYPE);

/// The labels of one series.
#[derive(Debug)]
pub(crate) struct SeriesLabels {
    pub(crate) node_type: &'static str,
    pub(crate) node_id: String,
    pub(crate) attributes: [KeyValue; 2],
}

#[derive(Default)]
struct Registry {
    labels: Vec<SeriesLabels>,
    /// Rows each series said to expect (for progress bars with an ETA).
    expected_rows: HashMap<u32, u64>,
    by_labels: HashMap<(&'static str, String), u32>,
    ids_per_type: HashMap<&'static str, usize>,
    overflow: HashMap<&'static str, u32>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn set_max_node_ids_per_type(max: usize) {
    MAX_NODE_IDS_PER_TYPE.store(max.max(1), Relaxed);
}

impl Registry {
    fn push(&mut self, node_type: &'static str, node_id: &str) -> u32 {
        let id = self.labels.len() as u32;
        self.labels.push(SeriesLabels {
            node_type,
            node_id: node_id.to_owned(),
            attributes: [
                KeyValue::new(names::NODE_ID, node_id.to_owned()),
                KeyValue::new(names::NODE_TYPE, node_type),
            ],
        });
        id
    }

    fn overflow_series(&mut self, node_type: &'static str) -> u32 {
        if let Some(&id) = self.overflow.get(node_type) {
            return id;
        }
        if self.labels.len() >= MAX_SERIES {
            return NO_SERIES;
        }
        warn(format_args!(
            "more than {} distinct node.id values for node.type {node_type:?}; \
             further ones are counted as node.id {:?}",
            MAX_NODE_IDS_PER_TYPE.load(Relaxed),
            names::OVERFLOW_NODE_ID
        ));
        let id = self.push(node_type, names::OVERFLOW_NODE_ID);
        self.overflow.insert(node_type, id);
        id
    }
}

/// The series id of a label set, creating it on first sight.
#[cold]
pub(crate) fn resolve(node_type: &'static str, node_id: &str) -> u32 {
    let mut registry = registry();
    if let Some(&id) = registry.by_labels.get(&(node_type, node_id.to_owned())) {
        return id;
    }
    let ids_of_type = registry.ids_per_type.get(node_type).copied().unwrap_or(0);
    if ids_of_type >= MAX_NODE_IDS_PER_TYPE.load(Relaxed)
        || registry.labels.len() >= MAX_SERIES - OVERFLOW_RESERVE
    {
        return registry.overflow_series(node_type);
    }
    let id = registry.push(node_type, node_id);
    registry
        .by_labels
        .insert((node_type, node_id.to_owned()), id);
    registry.ids_per_type.insert(node_type, ids_of_type + 1);
    id
}

/// Records that series `series` expects `rows` rows in all.
pub(crate) fn set_expected_rows(series: u32, rows: u64) {
    registry().expected_rows.insert(series, rows);
}

/// The rows each series said to expect, by series id.
pub(crate) fn expected_rows() -> HashMap<u32, u64> {
    registry().expected_rows.clone()
}

/// How many series there are (ids `0..series_count()`).
pub(crate) fn series_count() -> usize {
    registry().labels.len()
}

/// Runs `read` on the labels of every series, indexed by series id, under the registry
/// lock (held only by the exporter and by first-time resolutions, never by a plain call).
pub(crate) fn with_labels<R>(read: impl FnOnce(&[SeriesLabels]) -> R) -> R {
    read(&registry().labels)
}
