//! The per-thread cache from `(call site, node.type, node.id)` to series id, for
//! operators whose `node_id` (or `node_type`) is a value computed per call.
//!
//! One hash table per thread, keyed by the call site's address and the values: a lookup
//! hashes a short key (an integer, or a string of a few bytes) and compares one entry, so
//! a call costs the same whether one id or thousands rotate through its site. (A first
//! version kept four ids per site and compared them in turn: a fifth id made every call
//! take the registry lock, 4.8× the instructions.) A miss takes the registry lock once
//! and stores the answer. The cache owns strings, so it lives in a thread-local of its
//! own, apart from the state every call touches (which needs no destructor and so no
//! per-access liveness check).
//!
//! Limit: [`MAX_ENTRIES`] per thread. A program that makes up ids without end (an id per
//! row) would otherwise grow it without end; at the limit the thread's cache is emptied
//! and fills again, which costs a registry lookup per new entry and nothing else.

use std::cell::RefCell;
use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use crate::counters::registry::{self, NO_SERIES};
use crate::node_id::NodeKey;

/// Entries a thread's cache holds before it is emptied.
pub(crate) const MAX_ENTRIES: usize = 1 << 16;

/// A fixed seed: the keys are the program's own ids, not an attacker's, and a fixed
/// state needs no per-thread initialisation.
const HASHER: FixedState = FixedState::with_seed(0x7069_7065_7465_6c00);

enum OwnedKey {
    Int(i128),
    Str(Box<str>),
}

impl OwnedKey {
    #[inline(always)]
    fn matches(&self, key: NodeKey<'_>) -> bool {
        match (self, key) {
            (OwnedKey::Int(cached), NodeKey::Int(key)) => *cached == key,
            (OwnedKey::Str(cached), NodeKey::Str(key)) => same_str(cached, key),
            _ => false,
        }
    }
}

/// Whether two strings are equal, compared without a call for the few bytes a node id or
/// type takes: up to 16 bytes as two words (or halves, or bytes) that overlap when the
/// length is not a multiple of theirs, as foldhash reads a short key. A call to `memcmp`
/// took about 25 instructions, and its call made the lookup's caller save its registers
/// around the comparison.
#[inline(always)]
fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let len = a.len();
    if len != b.len() {
        return false;
    }
    match len {
        0 => true,
        1..=3 => a[0] == b[0] && a[len / 2] == b[len / 2] && a[len - 1] == b[len - 1],
        4..=7 => {
            let half =
                |s: &[u8], at: usize| u32::from_le_bytes([s[at], s[at + 1], s[at + 2], s[at + 3]]);
            half(a, 0) == half(b, 0) && half(a, len - 4) == half(b, len - 4)
        }
        8..=16 => {
            let word = |s: &[u8], at: usize| {
                u64::from_le_bytes(*s[at..].first_chunk::<8>().expect("eight bytes from `at`"))
            };
            word(a, 0) == word(b, 0) && word(a, len - 8) == word(b, len - 8)
        }
        _ => a == b,
    }
}

impl From<NodeKey<'_>> for OwnedKey {
    fn from(key: NodeKey<'_>) -> Self {
        match key {
            NodeKey::Int(id) => OwnedKey::Int(id),
            NodeKey::Str(id) => OwnedKey::Str(id.into()),
        }
    }
}

/// What one lookup asks for: the site, the node type when the site computes it per call
/// (`None` when the site's type is fixed), and the node id.
#[derive(Clone, Copy)]
pub(crate) struct Lookup<'a> {
    pub(crate) site: usize,
    pub(crate) node_type: NodeType<'a>,
    pub(crate) node_id: NodeKey<'a>,
    /// The `node.id` text when it is not `node_id`'s own (a method's default id, keyed
    /// by its `Self` type's name), made on a miss only.
    pub(crate) label: Option<&'a dyn Fn() -> String>,
}

/// A call site's node type: fixed (part of the site, so not part of the key) or computed
/// per call.
#[derive(Clone, Copy)]
pub(crate) enum NodeType<'a> {
    Fixed(&'static str),
    PerCall(&'a str),
}

struct Entry {
    site: usize,
    /// The per-call node type; `None` for a site with a fixed one.
    node_type: Option<Box<str>>,
    node_id: OwnedKey,
    series: u32,
}

impl Entry {
    /// Inlined into the lookup, so that a hit makes no call.
    #[inline(always)]
    fn matches(&self, lookup: &Lookup<'_>) -> bool {
        self.site == lookup.site
            && self.node_id.matches(lookup.node_id)
            && match (&self.node_type, lookup.node_type) {
                (None, NodeType::Fixed(_)) => true,
                (Some(cached), NodeType::PerCall(node_type)) => same_str(cached, node_type),
                _ => false,
            }
    }
}

impl Lookup<'_> {
    #[inline]
    fn hash(&self) -> u64 {
        let mut hasher = HASHER.build_hasher();
        self.site.hash(&mut hasher);
        if let NodeType::PerCall(node_type) = self.node_type {
            node_type.hash(&mut hasher);
        }
        match self.node_id {
            NodeKey::Int(id) => id.hash(&mut hasher),
            NodeKey::Str(id) => id.hash(&mut hasher),
        }
        hasher.finish()
    }
}

thread_local! {
    static CACHE: RefCell<HashTable<Entry>> = const { RefCell::new(HashTable::new()) };
}

/// The series `lookup` stands for ([`NO_SERIES`] while the thread exits).
#[inline]
pub(crate) fn series_for(lookup: Lookup<'_>) -> u32 {
    let hash = lookup.hash();
    let hit = CACHE.try_with(|cache| {
        let cache = cache.try_borrow().ok()?;
        cache
            .find(hash, |entry| entry.matches(&lookup))
            .map(|entry| entry.series)
    });
    match hit {
        Ok(Some(series)) => series,
        Ok(None) => miss(lookup, hash),
        Err(_) => NO_SERIES,
    }
}

#[cold]
#[inline(never)]
fn miss(lookup: Lookup<'_>, hash: u64) -> u32 {
    let node_id = match lookup.label {
        Some(label) => label(),
        None => lookup.node_id.to_string(),
    };
    let series = match lookup.node_type {
        NodeType::Fixed(node_type) => registry::resolve(node_type, &node_id),
        NodeType::PerCall(node_type) => registry::resolve(registry::intern(node_type), &node_id),
    };
    let _ = CACHE.try_with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return;
        };
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        let entry = Entry {
            site: lookup.site,
            node_type: match lookup.node_type {
                NodeType::Fixed(_) => None,
                NodeType::PerCall(node_type) => Some(node_type.into()),
            },
            node_id: lookup.node_id.into(),
            series,
        };
        cache.insert_unique(hash, entry, |entry| entry.rehash());
    });
    series
}

impl Entry {
    fn rehash(&self) -> u64 {
        let node_id = match &self.node_id {
            OwnedKey::Int(id) => NodeKey::Int(*id),
            OwnedKey::Str(id) => NodeKey::Str(id),
        };
        let node_type = match &self.node_type {
            Some(node_type) => NodeType::PerCall(node_type),
            None => NodeType::Fixed(""),
        };
        Lookup {
            site: self.site,
            node_type,
            node_id,
            label: None,
        }
        .hash()
    }
}

#[cfg(test)]
mod tests {
    use super::{series_for, Lookup, NodeType};
    use crate::node_id::NodeKey;

    fn lookup<'a>(site: usize, node_type: NodeType<'a>, node_id: NodeKey<'a>) -> u32 {
        series_for(Lookup {
            site,
            node_type,
            node_id,
            label: None,
        })
    }

    #[test]
    fn many_ids_through_one_site_keep_their_series() {
        let site = 0x1000;
        let ids: Vec<String> = (0..100).map(|i| format!("cache-test-{i}")).collect();
        let first: Vec<u32> = ids
            .iter()
            .map(|id| lookup(site, NodeType::Fixed("cache_test"), NodeKey::Str(id)))
            .collect();
        let again: Vec<u32> = ids
            .iter()
            .map(|id| lookup(site, NodeType::Fixed("cache_test"), NodeKey::Str(id)))
            .collect();
        assert_eq!(first, again);
        let mut distinct = first.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len());
    }

    /// Every length up to past the word compare's, each string against itself, against
    /// one differing in each single byte, and against a prefix and an extension of it.
    #[test]
    fn short_strings_compare_as_equality_does() {
        for len in 0..=40usize {
            let a: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            assert!(super::same_str(&a, &a.clone()), "{a:?} itself");
            for at in 0..len {
                let mut bytes = a.clone().into_bytes();
                bytes[at] = b'Z';
                let b = String::from_utf8(bytes).expect("ascii");
                assert!(!super::same_str(&a, &b), "{a:?} against {b:?}");
                assert!(!super::same_str(&b, &a), "{b:?} against {a:?}");
            }
            let longer = format!("{a}a");
            assert!(!super::same_str(&a, &longer) && !super::same_str(&longer, &a));
        }
    }

    #[test]
    fn a_per_call_type_is_part_of_the_key() {
        let site = 0x2000;
        let scan = lookup(site, NodeType::PerCall("cache_scan"), NodeKey::Int(1));
        let filter = lookup(site, NodeType::PerCall("cache_filter"), NodeKey::Int(1));
        assert_ne!(scan, filter);
        assert_eq!(
            lookup(site, NodeType::PerCall("cache_scan"), NodeKey::Int(1)),
            scan
        );
        // The same text as an integer and as a string are the same label, one series.
        assert_eq!(
            lookup(site, NodeType::PerCall("cache_scan"), NodeKey::Str("1")),
            scan
        );
    }
}
