//! [`OperatorCounter`]: a counter of the user's own, bound to whichever operator is
//! running, exported with that operator's `node.id` and `node.type` — at the per-call
//! cost of the built-in counters (a relaxed load and store on this thread's own cell).

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, RwLock};

use opentelemetry::metrics::{Counter, Meter};

use crate::counters::cells::MAX_CUSTOM_COUNTERS;
use crate::counters::registry::NO_SERIES;
use crate::counters::thread_state::this_thread;
use crate::operator::recording::enabled;
use crate::warn::warn;

/// A custom counter that adds to the operator running on the calling thread.
///
/// Declare it as a `static` and add to it from inside an `#[operator]`: each operator's
/// share is exported as the metric `name` with that operator's `node.id` and
/// `node.type`. Outside an operator, or with telemetry off, `add` does nothing. A process
/// can have 16 of them; further ones warn once and count nothing.
///
/// ```
/// use pipetel::operator;
/// use pipetel::engine::OperatorCounter;
///
/// static SPILLED: OperatorCounter = OperatorCounter::new("spill.bytes", "By", "Bytes spilled to disk");
///
/// #[operator(node_type = "hash_aggregate")]
/// fn aggregate(batch: Vec<u64>) -> u64 {
///     if batch.len() > 1_000_000 {
///         SPILLED.add(8 * batch.len() as u64);
///     }
///     batch.iter().sum()
/// }
/// assert_eq!(aggregate(vec![1, 2]), 3);
/// ```
#[derive(Debug)]
pub struct OperatorCounter {
    name: &'static str,
    unit: &'static str,
    description: &'static str,
    /// Index + 1 among the process's custom counters; 0 until first used.
    index: AtomicU32,
}

/// Every custom counter registered so far, by index.
static REGISTERED: Mutex<Vec<&'static OperatorCounter>> = Mutex::new(Vec::new());
/// The instrument of each registered counter, by index, on the running telemetry's meter.
static INSTRUMENTS: Mutex<Vec<Counter<u64>>> = Mutex::new(Vec::new());
/// The meter of the running telemetry, for counters first used after `init`.
static METER: RwLock<Option<Meter>> = RwLock::new(None);

/// Index value meaning "no room left": counts nothing.
const FULL: u32 = u32::MAX;

impl OperatorCounter {
    /// A counter exported as `name` (used as is) with a UCUM `unit` and a description.
    pub const fn new(name: &'static str, unit: &'static str, description: &'static str) -> Self {
        OperatorCounter {
            name,
            unit,
            description,
            index: AtomicU32::new(0),
        }
    }

    /// Adds `n` to the share of the operator running on this thread.
    #[inline]
    pub fn add(&'static self, n: u64) {
        if !enabled() {
            return;
        }
        let index = match self.index.load(Relaxed) {
            0 => self.register(),
            FULL => return,
            assigned => assigned - 1,
        };
        let thread = this_thread();
        let series = thread.current().series;
        if series != NO_SERIES && (index as usize) < MAX_CUSTOM_COUNTERS {
            thread
                .shard()
                .custom_cells(series)
                .add_at(index as usize, n);
        }
    }

    #[cold]
    #[inline(never)]
    fn register(&'static self) -> u32 {
        let mut registered = REGISTERED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match self.index.load(Relaxed) {
            0 => {}
            FULL => return FULL,
            assigned => return assigned - 1,
        }
        if registered.len() >= MAX_CUSTOM_COUNTERS {
            warn(format_args!(
                "more than {MAX_CUSTOM_COUNTERS} OperatorCounters; {:?} counts nothing",
                self.name
            ));
            self.index.store(FULL, Relaxed);
            return FULL;
        }
        let index = registered.len() as u32;
        registered.push(self);
        if let Some(meter) = METER
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
        {
            // Built before taking the lock: building waits for a collection in progress,
            // which takes that lock.
            let instrument = self.instrument(meter);
            instruments().push(instrument);
        }
        self.index.store(index + 1, Relaxed);
        index
    }

    /// The counter each operator's share is added to at collection time.
    fn instrument(&self, meter: &Meter) -> Counter<u64> {
        meter
            .u64_counter(self.name)
            .with_unit(self.unit)
            .with_description(self.description)
            .build()
    }
}

fn instruments() -> MutexGuard<'static, Vec<Counter<u64>>> {
    INSTRUMENTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Exports the custom counters through `meter` (the running telemetry's), or stops with
/// `None`. Stopping keeps the instruments: the final collection, when the stopped
/// telemetry shuts down, still adds the last counts to them.
pub(crate) fn set_meter(meter: Option<Meter>) {
    let registered = REGISTERED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(meter) = &meter {
        // Built before taking the lock, as in `register`.
        let built = registered
            .iter()
            .map(|counter| counter.instrument(meter))
            .collect();
        *instruments() = built;
    }
    *METER
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = meter;
}

/// Runs `push` on the instrument of each registered counter, by index (none while
/// telemetry is off). Collection adds each operator's new share to them.
pub(crate) fn with_instruments(push: impl FnOnce(&[Counter<u64>])) {
    push(&instruments());
}
