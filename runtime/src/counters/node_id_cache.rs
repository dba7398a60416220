//! The per-thread cache from `(call site, node_id)` to series id, for operators with an
//! explicit `node_id`.
//!
//! Each call site gets a slot of four `node_id` values, compared (an integer compare or
//! a short `memcmp`), not hashed; a miss takes the registry lock once and stores the
//! answer, so a repeated `node_id` costs what a static call site costs. The cache owns
//! strings, so it lives in a thread-local of its own, apart from the state every call
//! touches (which needs no destructor and so no per-access liveness check).

use std::cell::{Cell, RefCell};

use crate::counters::registry::{self, NO_SERIES};
use crate::node_id::NodeKey;

/// Call-site slots per thread (sites past it share slots, and evict each other).
const SLOTS: usize = 64;
/// `node_id` values kept per slot.
const WAYS: usize = 4;

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

struct Entry {
    site: usize,
    key: OwnedKey,
    series: u32,
}

struct NodeIdCache {
    entries: RefCell<Vec<Option<Entry>>>,
    next_way: Cell<usize>,
}

thread_local! {
    static CACHE: NodeIdCache = const {
        NodeIdCache {
            entries: RefCell::new(Vec::new()),
            next_way: Cell::new(0),
        }
    };
}

/// The series of `key` at the call site whose address is `site`, cached in its `slot`
/// ([`NO_SERIES`] while the thread exits).
#[inline]
pub(crate) fn series_for(
    site: usize,
    slot: usize,
    node_type: &'static str,
    key: NodeKey<'_>,
) -> u32 {
    CACHE
        .try_with(|cache| cache.series_for(site, slot, node_type, key))
        .unwrap_or(NO_SERIES)
}

impl NodeIdCache {
    #[inline]
    fn series_for(
        &self,
        site: usize,
        slot: usize,
        node_type: &'static str,
        key: NodeKey<'_>,
    ) -> u32 {
        let base = (slot % SLOTS) * WAYS;
        if let Ok(entries) = self.entries.try_borrow() {
            for entry in entries
                .get(base..base + WAYS)
                .into_iter()
                .flatten()
                .flatten()
            {
                if entry.site == site && entry.key.matches(key) {
                    return entry.series;
                }
            }
        }
        self.miss(site, base, node_type, key)
    }

    #[cold]
    #[inline(never)]
    fn miss(&self, site: usize, base: usize, node_type: &'static str, key: NodeKey<'_>) -> u32 {
        let series = registry::resolve(node_type, &key.to_string());
        if let Ok(mut entries) = self.entries.try_borrow_mut() {
            if entries.is_empty() {
                entries.resize_with(SLOTS * WAYS, || None);
            }
            let way = self.next_way.get();
            self.next_way.set(way.wrapping_add(1));
            let owned = match key {
                NodeKey::Int(id) => OwnedKey::Int(id),
                NodeKey::Str(id) => OwnedKey::Str(id.into()),
            };
            entries[base + way % WAYS] = Some(Entry {
                site,
                key: owned,
                series,
            });
        }
        series
    }
}
