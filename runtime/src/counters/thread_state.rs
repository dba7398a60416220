//! The per-thread state of the hot path, reached with one thread-local access per call:
//! the thread's [`Shard`], the operator running now on this thread, and a small cache
//! from `(call site, node_id)` to series id.
//!
//! The cache keeps four `node_id` values per call site slot and compares them (an
//! integer compare or a short `memcmp`); a miss takes the registry lock once and
//! stores the answer, so a repeated `node_id` costs what a static site costs.

use std::cell::{Cell, RefCell};
use std::ptr;

use crate::counters::cells::Cells;
use crate::counters::registry;
use crate::counters::shards::Shard;
use crate::counters::step_slot::StepCall;
use crate::node_id::NodeKey;

const SLOTS: usize = 64;
const WAYS: usize = 4;

#[derive(PartialEq, Eq)]
enum OwnedKey {
    Int(i128),
    Str(Box<str>),
}

impl OwnedKey {
    fn matches(&self, key: NodeKey<'_>) -> bool {
        match (self, key) {
            (OwnedKey::Int(cached), NodeKey::Int(key)) => *cached == key,
            (OwnedKey::Str(cached), NodeKey::Str(key)) => **cached == *key,
            _ => false,
        }
    }
}

/// The operator running on a thread: its cells there, and its series id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Current {
    pub(crate) cells: *const Cells,
    pub(crate) series: u32,
}

impl Current {
    pub(crate) const NONE: Current = Current {
        cells: ptr::null(),
        series: registry::NO_SERIES,
    };
}

struct Entry {
    site: usize,
    key: OwnedKey,
    series: u32,
}

pub(crate) struct ThreadState {
    shard: Cell<Option<&'static Shard>>,
    current: Cell<Current>,
    /// The step call running now on this thread.
    current_step: Cell<StepCall>,
    /// Busy ticks of the operator segments that ran inside the current one (nested
    /// operators), which the current one leaves out of its own busy time.
    nested_ticks: Cell<u64>,
    cache: RefCell<Vec<Option<Entry>>>,
    next_way: Cell<usize>,
}

impl Drop for ThreadState {
    fn drop(&mut self) {
        if let Some(shard) = self.shard.get() {
            shard.release();
        }
    }
}

thread_local! {
    pub(crate) static THREAD: ThreadState = const {
        ThreadState {
            shard: Cell::new(None),
            current: Cell::new(Current::NONE),
            current_step: Cell::new(StepCall::NONE),
            nested_ticks: Cell::new(0),
            cache: RefCell::new(Vec::new()),
            next_way: Cell::new(0),
        }
    };
}

impl ThreadState {
    /// This thread's shard, adopted on first use.
    #[inline]
    pub(crate) fn shard(&self) -> &'static Shard {
        match self.shard.get() {
            Some(shard) => shard,
            None => {
                let shard = Shard::adopt();
                self.shard.set(Some(shard));
                shard
            }
        }
    }

    /// This thread's cells of `series`.
    #[inline]
    pub(crate) fn cells(&self, series: u32) -> &'static Cells {
        self.shard().cells(series)
    }

    /// Makes `current` the current operator and returns the one it replaces.
    #[inline]
    pub(crate) fn swap_current(&self, current: Current) -> Current {
        self.current.replace(current)
    }

    /// Starts counting the ticks of segments nested in a new one; returns the count of
    /// the enclosing segment, to hand back to [`end_nested`](Self::end_nested).
    #[inline]
    pub(crate) fn begin_nested(&self) -> u64 {
        self.nested_ticks.replace(0)
    }

    /// Ends a segment that took `total` ticks: returns the ticks of the segments nested
    /// in it, and adds `total` to the enclosing segment's count `outer`.
    #[inline]
    pub(crate) fn end_nested(&self, outer: u64, total: u64) -> u64 {
        self.nested_ticks.replace(outer.wrapping_add(total))
    }

    /// Makes `step` the step running on this thread and returns the one it replaces.
    #[inline]
    pub(crate) fn swap_step(&self, step: StepCall) -> StepCall {
        self.current_step.replace(step)
    }

    /// The step running now on this thread.
    #[inline]
    pub(crate) fn current_step(&self) -> StepCall {
        self.current_step.get()
    }

    /// The operator running now on this thread ([`Current::NONE`] when none).
    #[inline]
    pub(crate) fn current(&self) -> Current {
        self.current.get()
    }

    /// The series of `key` at the call site `site` (identified by `site_addr`, cached in `slot`).
    #[inline]
    pub(crate) fn series_for(
        &self,
        site_addr: usize,
        slot: usize,
        node_type: &'static str,
        key: NodeKey<'_>,
    ) -> u32 {
        let base = (slot % SLOTS) * WAYS;
        if let Ok(cache) = self.cache.try_borrow() {
            for entry in cache.get(base..base + WAYS).into_iter().flatten().flatten() {
                if entry.site == site_addr && entry.key.matches(key) {
                    return entry.series;
                }
            }
        }
        self.miss(site_addr, base, node_type, key)
    }

    #[cold]
    #[inline(never)]
    fn miss(
        &self,
        site_addr: usize,
        base: usize,
        node_type: &'static str,
        key: NodeKey<'_>,
    ) -> u32 {
        let series = registry::resolve(node_type, &key.to_string());
        if let Ok(mut cache) = self.cache.try_borrow_mut() {
            if cache.is_empty() {
                cache.resize_with(SLOTS * WAYS, || None);
            }
            let way = self.next_way.get();
            self.next_way.set(way.wrapping_add(1));
            let owned = match key {
                NodeKey::Int(id) => OwnedKey::Int(id),
                NodeKey::Str(id) => OwnedKey::Str(id.into()),
            };
            cache[base + way % WAYS] = Some(Entry {
                site: site_addr,
                key: owned,
                series,
            });
        }
        series
    }
}
