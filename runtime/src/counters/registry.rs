//! The series registry: which `(node.type, node.id)` label set each series id stands for.
//!
//! A series id is resolved once per call site (or once per thread and `node_id` value,
//! see `node_id_cache`), under a lock, off the hot path. The exporter reads the label
//! sets here, already built as OpenTelemetry attributes, at collection time.
//!
//! Two limits keep the series bounded, each with its own warning naming it:
//! - per `node.type`, [`Config::max_node_ids_per_type`](crate::Config::max_node_ids_per_type)
//!   distinct `node.id` values (default [`DEFAULT_MAX_NODE_IDS_PER_TYPE`]);
//! - per process, [`MAX_OPERATOR_SERIES`] `(node.type, node.id)` pairs in all.
//!
//! Past either, a new `node.id` counts into one series of its type with
//! `node.id = "other"`. Those overflow series have ids of their own, kept back so that
//! up to [`OVERFLOW_RESERVE`] node types can overflow; a type past that counts nothing
//! (and says so).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{LazyLock, Mutex};

use opentelemetry::KeyValue;

use crate::counters::lanes::{Lane, NO_LANE};
use crate::counters::table::MAX_SERIES;
use crate::names;
use crate::warn::warn;

/// A series id that counts nothing (every id is taken).
pub(crate) const NO_SERIES: u32 = u32::MAX;

/// The default of [`Config::max_node_ids_per_type`](crate::Config::max_node_ids_per_type).
pub const DEFAULT_MAX_NODE_IDS_PER_TYPE: usize = 1000;

/// Series ids kept back for the `node.id = "other"` series of each node type: how many
/// node types can overflow.
pub(crate) const OVERFLOW_RESERVE: usize = 4096;

/// The most distinct `(node.type, node.id)` pairs a process counts apart (28,672): past
/// it, a new `node.id` of any type counts as `node.id = "other"` of its type, with one
/// warning naming this limit. Together with the `other` series of up to 4,096 node types
/// it fills pipetel's tables of 32,768 series per thread, and it is below the
/// OpenTelemetry SDK cardinality limit pipetel sets on its own instruments (32,768), so
/// every series counted is exported.
pub const MAX_OPERATOR_SERIES: usize = MAX_SERIES - OVERFLOW_RESERVE;

/// The most distinct node types given as values at run time (a `node_type` expression,
/// [`Operator::new`](crate::Operator::new)) a process counts apart (4,096): each is kept
/// for the process's life. Past it, a new one counts as node type `"other"`, with one
/// warning naming this limit. Types written as literals in `#[operator]` do not count.
pub const MAX_DYNAMIC_NODE_TYPES: usize = 4096;

static MAX_NODE_IDS_PER_TYPE: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_NODE_IDS_PER_TYPE);

/// The labels of one series, and the lane it counts in.
#[derive(Debug)]
pub(crate) struct SeriesLabels {
    pub(crate) node_type: &'static str,
    pub(crate) node_id: &'static str,
    pub(crate) attributes: [KeyValue; 2],
    /// The series of the same labels in no lane: itself, for a series in no lane. Every
    /// reader of the process's totals adds a lane's series into it (`counters::lanes`).
    pub(crate) canonical: u32,
    /// The lane the series counts in ([`NO_LANE`] for most).
    pub(crate) lane: Lane,
}

#[derive(Default)]
struct Registry {
    labels: Vec<SeriesLabels>,
    /// What each series said to expect in all (for progress with an ETA).
    expected: HashMap<u32, Expected>,
    by_labels: HashMap<(&'static str, String), u32>,
    /// The series of a canonical series in a lane.
    in_lane: HashMap<(u32, Lane), u32>,
    /// Each lane's series.
    lane_members: HashMap<Lane, Vec<u32>>,
    warned_lane_series: bool,
    ids_per_type: HashMap<&'static str, usize>,
    overflow: HashMap<&'static str, u32>,
    /// Node types given as values, kept for the process's life.
    interned_types: HashSet<&'static str>,
    warned_dynamic_types: bool,
    /// Series other than the `other` ones.
    named_series: usize,
    warned_process_limit: bool,
    warned_no_series: bool,
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
        // Static, so that a clone of the attributes is a copy: every collection clones
        // every series' attributes, and a shared or owned string costs a cache miss or an
        // allocation there. Series are never freed, so this leaks nothing.
        let node_id: &'static str = Box::leak(Box::<str>::from(node_id));
        self.labels.push(SeriesLabels {
            node_type,
            node_id,
            attributes: [
                KeyValue::new(names::NODE_ID, node_id),
                KeyValue::new(names::NODE_TYPE, node_type),
            ],
            canonical: id,
            lane: NO_LANE,
        });
        id
    }

    /// The `node.id = "other"` series of `node_type`, created (with a warning naming
    /// the limit that sent it there) on first use.
    fn overflow_series(&mut self, node_type: &'static str, limit: Limit) -> u32 {
        if let Some(&id) = self.overflow.get(node_type) {
            return id;
        }
        let other = names::OVERFLOW_NODE_ID;
        if self.labels.len() >= MAX_SERIES {
            if !self.warned_no_series {
                self.warned_no_series = true;
                warn(format_args!(
                    "more than {OVERFLOW_RESERVE} node types went past a series limit; \
                     new node.id values of node.type {node_type:?} and of further types are \
                     not counted"
                ));
            }
            return NO_SERIES;
        }
        match limit {
            Limit::PerType(max) => warn(format_args!(
                "more than {max} distinct node.id values for node.type {node_type:?} \
                 (Config::max_node_ids_per_type); further ones are counted as node.id {other:?}"
            )),
            Limit::Process => {
                if !self.warned_process_limit {
                    self.warned_process_limit = true;
                    warn(format_args!(
                        "the process counts {MAX_OPERATOR_SERIES} operator series, pipetel's \
                         limit (pipetel::limits::MAX_OPERATOR_SERIES); new node.id values of \
                         node.type {node_type:?}, and of every other type, are counted as \
                         node.id {other:?} of their type"
                    ));
                }
            }
        }
        let id = self.push(node_type, other);
        self.overflow.insert(node_type, id);
        id
    }
}

/// The limit a new `node.id` ran into.
#[derive(Debug, Clone, Copy)]
enum Limit {
    /// `Config::max_node_ids_per_type`, which is this.
    PerType(usize),
    /// [`MAX_OPERATOR_SERIES`].
    Process,
}

/// The series id of a label set, creating it on first sight.
#[cold]
pub(crate) fn resolve(node_type: &'static str, node_id: &str) -> u32 {
    let mut registry = registry();
    if let Some(&id) = registry.by_labels.get(&(node_type, node_id.to_owned())) {
        return id;
    }
    let ids_of_type = registry.ids_per_type.get(node_type).copied().unwrap_or(0);
    let max_per_type = MAX_NODE_IDS_PER_TYPE.load(Relaxed);
    if ids_of_type >= max_per_type {
        return registry.overflow_series(node_type, Limit::PerType(max_per_type));
    }
    if registry.named_series >= MAX_OPERATOR_SERIES {
        return registry.overflow_series(node_type, Limit::Process);
    }
    let id = registry.push(node_type, node_id);
    registry
        .by_labels
        .insert((node_type, node_id.to_owned()), id);
    registry.ids_per_type.insert(node_type, ids_of_type + 1);
    registry.named_series += 1;
    id
}

/// The series of canonical series `series` in `lane`, created on first sight: the same
/// labels, counted apart so that a lane's run reads its own. A series already in a lane,
/// or any series when `lane` is [`NO_LANE`], is itself. Lane series count towards
/// [`MAX_OPERATOR_SERIES`]; past it, the canonical series counts (its run's view misses
/// it), with one warning naming the limit.
#[cold]
pub(crate) fn in_lane(series: u32, lane: Lane) -> u32 {
    let mut registry = registry();
    let Some(labels) = registry.labels.get(series as usize) else {
        return series;
    };
    if lane == NO_LANE || labels.lane != NO_LANE {
        return series;
    }
    if let Some(&id) = registry.in_lane.get(&(series, lane)) {
        return id;
    }
    if registry.named_series >= MAX_OPERATOR_SERIES || registry.labels.len() >= MAX_SERIES {
        if !registry.warned_lane_series {
            registry.warned_lane_series = true;
            warn(format_args!(
                "the process counts {MAX_OPERATOR_SERIES} operator series, pipetel's limit \
                 (pipetel::limits::MAX_OPERATOR_SERIES), runs' own series included; operators \
                 new to a run are counted for the process only, and left out of that run's view"
            ));
        }
        return series;
    }
    let (node_type, node_id) = (labels.node_type, labels.node_id);
    let id = registry.push(node_type, node_id);
    registry.labels[id as usize].canonical = series;
    registry.labels[id as usize].lane = lane;
    registry.in_lane.insert((series, lane), id);
    registry.lane_members.entry(lane).or_default().push(id);
    registry.named_series += 1;
    id
}

/// The series of `lane`, and how many series there are (ids `0..count`).
pub(crate) fn lane_series(lane: Lane) -> (Vec<u32>, usize) {
    let registry = registry();
    let members = registry
        .lane_members
        .get(&lane)
        .cloned()
        .unwrap_or_default();
    (members, registry.labels.len())
}

/// The `'static` copy of a node type given as a value at run time: one per distinct
/// text, at most [`MAX_DYNAMIC_NODE_TYPES`] (then `"other"`).
#[cold]
pub(crate) fn intern(node_type: &str) -> &'static str {
    let mut registry = registry();
    if let Some(&interned) = registry.interned_types.get(node_type) {
        return interned;
    }
    if registry.interned_types.len() >= MAX_DYNAMIC_NODE_TYPES {
        if !registry.warned_dynamic_types {
            registry.warned_dynamic_types = true;
            let other = names::OVERFLOW_NODE_ID;
            warn(format_args!(
                "more than {MAX_DYNAMIC_NODE_TYPES} node types given at run time \
                 (pipetel::limits::MAX_DYNAMIC_NODE_TYPES); node.type {node_type:?} and further new \
                 ones are counted as node.type {other:?}"
            ));
        }
        return names::OVERFLOW_NODE_ID;
    }
    let interned: &'static str = Box::leak(Box::<str>::from(node_type));
    registry.interned_types.insert(interned);
    interned
}

/// What an operator said it will handle in all: rows, bytes read, or calls (files,
/// partitions, chunks: the units it works in). Progress uses the first it has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Expected {
    pub(crate) rows: Option<u64>,
    pub(crate) bytes: Option<u64>,
    pub(crate) calls: Option<u64>,
}

/// Changes what series `series` said to expect.
pub(crate) fn set_expected(series: u32, set: impl FnOnce(&mut Expected)) {
    let mut registry = registry();
    // What an operator expects is the operator's, in whichever lane it runs.
    let series = registry
        .labels
        .get(series as usize)
        .map_or(series, |labels| labels.canonical);
    set(registry.expected.entry(series).or_default());
}

/// What each series said to expect, by series id.
pub(crate) fn expected() -> HashMap<u32, Expected> {
    registry().expected.clone()
}

/// Whether any series said what to expect (without it, there is no estimate to make).
pub(crate) fn any_expected() -> bool {
    !registry().expected.is_empty()
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
