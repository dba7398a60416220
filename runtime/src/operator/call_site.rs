//! [`CallSite`]: the `static` each `#[operator]` function gets, resolving its `node.id`
//! and `node.type` to a series id once (or per `node_id` value, through the per-thread cache).

use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use crate::counters::node_id_cache;
use crate::counters::registry::{self, NO_SERIES};
use crate::node_id::NodeId;

/// One `#[operator]` function: a `static` the macro builds at compile time.
#[doc(hidden)]
#[derive(Debug)]
pub struct CallSite {
    node_type: &'static str,
    name: Option<&'static str>,
    function: &'static str,
    module: &'static str,
    /// Series id + 1 of the default `node_id`; 0 until first resolved.
    series: AtomicU32,
    /// Slot + 1 in the per-thread `node_id` cache; 0 until first used.
    slot: AtomicU32,
}

static NEXT_SLOT: AtomicU32 = AtomicU32::new(0);

impl CallSite {
    /// A call site; `name` is `""` when the attribute gives none.
    pub const fn new(
        node_type: &'static str,
        name: &'static str,
        function: &'static str,
        module: &'static str,
    ) -> Self {
        CallSite {
            node_type,
            name: if name.is_empty() { None } else { Some(name) },
            function,
            module,
            series: AtomicU32::new(0),
            slot: AtomicU32::new(0),
        }
    }

    /// The series of the default `node_id`. `self_type` names `Self` for methods.
    #[inline]
    pub fn series(&'static self, self_type: Option<fn() -> &'static str>) -> u32 {
        match self.series.load(Relaxed) {
            0 => self.resolve_default(self_type),
            resolved => resolved - 1,
        }
    }

    #[cold]
    #[inline(never)]
    fn resolve_default(&'static self, self_type: Option<fn() -> &'static str>) -> u32 {
        let node_id = self.default_node_id(self_type.map(|name_of| name_of()));
        let series = registry::resolve(self.node_type, &node_id);
        if series != NO_SERIES {
            self.series.store(series + 1, Relaxed);
        }
        series
    }

    /// `name`, or the function's path (`module::function`, `Type::method` for methods).
    fn default_node_id(&self, self_type: Option<&str>) -> String {
        if let Some(name) = self.name {
            return name.to_owned();
        }
        match self_type {
            // `type_name` includes generic arguments; one site serves every instantiation.
            Some(self_type) => {
                let path = self_type.split('<').next().unwrap_or(self_type);
                format!("{path}::{}", self.function)
            }
            None => format!("{}::{}", self.module, self.function),
        }
    }

    /// The series of an explicit `node_id` (compared against a per-thread cache).
    #[inline]
    pub fn series_for<K: NodeId + ?Sized>(&'static self, node_id: &K) -> u32 {
        let slot = match self.slot.load(Relaxed) {
            0 => self.assign_slot(),
            assigned => assigned - 1,
        };
        let site = ptr::from_ref(self) as usize;
        node_id_cache::series_for(site, slot as usize, self.node_type, node_id.node_key())
    }

    #[cold]
    fn assign_slot(&self) -> u32 {
        let slot = NEXT_SLOT.fetch_add(1, Relaxed);
        self.slot.store(slot + 1, Relaxed);
        slot
    }
}
