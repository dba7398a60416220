//! The sums of the metrics collection in progress, shared by all its instruments.
//!
//! A collection calls each observable instrument's callback in turn, in the order the
//! instruments were registered (the SDK keeps them in a list per reader). The first
//! operator instrument is registered first and leads: its callback reads fresh
//! [`Sums`]; every later callback of the same collection (the other operator metrics,
//! then the custom counters) reuses them. So a collection costs one pass over the cells
//! however many metrics it exports, and all its metrics agree with each other.
//!
//! Two readers collecting at once (OTLP and the Prometheus endpoint) may hand each
//! other their sums; a follower then reads newer sums than its leader did, never older,
//! so every exported counter still only goes up.

use std::sync::{Arc, Mutex, PoisonError};

use crate::counters::registry;
use crate::counters::sums::Sums;

static LATEST: Mutex<Option<Arc<Sums>>> = Mutex::new(None);

/// Reads fresh sums of every series and keeps them for the rest of the collection.
pub(crate) fn lead() -> Arc<Sums> {
    let sums = Arc::new(Sums::read(registry::series_count()));
    *LATEST.lock().unwrap_or_else(PoisonError::into_inner) = Some(sums.clone());
    sums
}

/// The sums the collection's leader read (fresh ones if none was read yet).
pub(crate) fn follow() -> Arc<Sums> {
    let latest = LATEST
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    latest.unwrap_or_else(lead)
}
