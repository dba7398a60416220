//! [`CallSite`]: the `static` each `#[operator]` function gets, resolving its `node.id`
//! and `node.type` to a series id once (or per value, through the per-thread cache, when
//! the attribute computes `node_id` or `node_type` per call).

use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::OnceLock;

use crate::counters::node_id_cache::{self, Lookup, NodeType};
use crate::counters::registry::{self, NO_SERIES};
use crate::node_id::{NodeId, NodeKey};

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
    /// For a method: the address of the `Self` type name the default series was resolved
    /// for, and that series. A trait's default method serves every implementing type;
    /// calls for another type look their series up by its name.
    first_self: OnceLock<(usize, u32)>,
    /// The default `node_id`, for a site whose `node_type` is computed per call.
    default_node_id: OnceLock<Box<str>>,
}

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
            first_self: OnceLock::new(),
            default_node_id: OnceLock::new(),
        }
    }

    /// The series of the default `node_id`. `self_type` names `Self` for methods.
    #[inline]
    pub fn series(&'static self, self_type: Option<fn() -> &'static str>) -> u32 {
        let Some(name_of) = self_type else {
            return match self.series.load(Relaxed) {
                0 => self.resolve_default(),
                resolved => resolved - 1,
            };
        };
        let name = name_of();
        match self.first_self.get() {
            Some(&(first, series)) if first == name.as_ptr() as usize => series,
            Some(_) => self.series_of_self(name),
            None => {
                let series = self.series_of_self(name);
                if series != NO_SERIES {
                    let _ = self.first_self.set((name.as_ptr() as usize, series));
                }
                series
            }
        }
    }

    /// The default series of a method for `Self` named `self_type` (a trait's default
    /// method, or another instantiation of a generic impl), looked up by that name.
    #[cold]
    #[inline(never)]
    fn series_of_self(&'static self, self_type: &'static str) -> u32 {
        node_id_cache::series_for(Lookup {
            site: ptr::from_ref(self) as usize,
            node_type: NodeType::Fixed(self.node_type),
            node_id: NodeKey::Str(self_type),
            label: Some(&|| self.default_node_id(Some(self_type))),
        })
    }

    /// The default series of a free function (methods go through
    /// [`series_of_self`](Self::series_of_self)).
    #[cold]
    #[inline(never)]
    fn resolve_default(&'static self) -> u32 {
        let node_id = self.default_node_id(None);
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

    /// The series of an explicit `node_id` (looked up in a per-thread cache).
    #[inline]
    pub fn series_for<K: NodeId + ?Sized>(&'static self, node_id: &K) -> u32 {
        node_id_cache::series_for(Lookup {
            site: ptr::from_ref(self) as usize,
            node_type: NodeType::Fixed(self.node_type),
            node_id: node_id.node_key(),
            label: None,
        })
    }

    /// The series of a `node_type` computed per call, with an explicit `node_id` or (for
    /// `None`) the site's default one (looked up in a per-thread cache).
    #[inline]
    pub fn series_of_type<K: NodeId + ?Sized>(
        &'static self,
        node_type: &str,
        node_id: Option<&K>,
        self_type: Option<fn() -> &'static str>,
    ) -> u32 {
        let node_id = match node_id {
            Some(node_id) => node_id.node_key(),
            None => NodeKey::Str(self.default_node_id.get_or_init(|| {
                self.default_node_id(self_type.map(|name_of| name_of()))
                    .into_boxed_str()
            })),
        };
        node_id_cache::series_for(Lookup {
            site: ptr::from_ref(self) as usize,
            node_type: NodeType::PerCall(node_type),
            node_id,
            label: None,
        })
    }
}
