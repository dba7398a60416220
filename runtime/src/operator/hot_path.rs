//! What runs per operator call: the on/off flag, the static call site, and the task guard.
//!
//! Off: [`enabled`] is one relaxed load, and the caller skips everything else.
//! On: the call site resolves to a series id once (a relaxed load afterwards), and the
//! guard adds to this thread's own cells: rows in and `active` on entry; busy ticks,
//! rows out, `completed` or `failed` and `active` on exit. No lock, no allocation, no
//! attribute set, no OpenTelemetry call.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::OnceLock;

use crate::counters::cells::{Cells, Counter, STEP_SLOT};
use crate::counters::registry::{self, NO_SERIES};
use crate::counters::thread_state::{Current, Local, LOCAL};
use crate::node_id::NodeId;
use crate::operator::segment::Segment;
use crate::pipeline::totals::NO_STEP;

static ENABLED: AtomicBool = AtomicBool::new(false);
static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

/// Whether operator metrics are being collected. One relaxed load; a constant `false`
/// without the `enabled` feature.
#[inline(always)]
pub fn enabled() -> bool {
    cfg!(feature = "enabled") && ENABLED.load(Relaxed)
}

/// Turns collection on or off (the telemetry guard does this).
pub(crate) fn set_enabled(on: bool) {
    if on {
        CLOCK.get_or_init(quanta::Clock::new);
    }
    ENABLED.store(on, Relaxed);
}

/// The raw clock reading the guard subtracts; scaled to nanoseconds only at export.
#[inline(always)]
pub(crate) fn ticks() -> u64 {
    CLOCK.get().map_or(0, quanta::Clock::raw)
}

/// Converts a sum of raw ticks to nanoseconds.
pub(crate) fn ticks_to_nanos(ticks: u64) -> u64 {
    CLOCK
        .get()
        .map_or(0, |clock| clock.delta_as_nanos(0, ticks))
}

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
        LOCAL
            .try_with(|local| {
                local.series_for(site, slot as usize, self.node_type, node_id.node_key())
            })
            .unwrap_or(NO_SERIES)
    }

    #[cold]
    fn assign_slot(&self) -> u32 {
        let slot = NEXT_SLOT.fetch_add(1, Relaxed);
        self.slot.store(slot + 1, Relaxed);
        slot
    }
}

/// One running call of a synchronous operator. Created on entry, closed by
/// [`finish`](Self::finish) on a normal return or by `Drop` on an early exit or a panic.
#[doc(hidden)]
#[derive(Debug)]
pub struct TaskGuard {
    segment: Segment,
    early_exit_fails: bool,
}

impl TaskGuard {
    /// Starts a call of `series`. `early_exit_fails` says how an exit that skips
    /// [`finish`](Self::finish) without a panic (a `?`) counts: failed for
    /// `Result`-returning functions, completed for `Option`-returning ones.
    #[inline]
    pub fn start(
        series: u32,
        rows_in: u64,
        bytes_read: u64,
        early_exit_fails: bool,
    ) -> Option<Self> {
        if series == NO_SERIES {
            return None;
        }
        LOCAL
            .try_with(|local| {
                let cells = local.cells(series);
                count_start(local, cells, rows_in, bytes_read);
                TaskGuard {
                    segment: Segment::enter(local, cells, series),
                    early_exit_fails,
                }
            })
            .ok()
    }

    /// Closes a call that returned normally.
    #[inline]
    pub fn finish(self, rows_out: u64, bytes_written: u64, failed: bool) {
        ManuallyDrop::new(self).close(rows_out, bytes_written, failed);
    }

    #[inline]
    fn close(&mut self, rows_out: u64, bytes_written: u64, failed: bool) {
        let _ = LOCAL.try_with(|local| self.segment.exit(local));
        let cells = self.segment.cells();
        count_output(cells, rows_out, bytes_written);
        count_end(
            cells,
            if failed {
                Counter::Failed
            } else {
                Counter::Completed
            },
        );
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let failed = self.early_exit_fails || std::thread::panicking();
        self.close(0, 0, failed);
    }
}

/// What every call counts on entry: its input, one more active call, and the step it
/// runs in.
#[inline]
pub(crate) fn count_start(local: &Local, cells: &Cells, rows_in: u64, bytes_read: u64) {
    cells.add(Counter::RowsIn, rows_in);
    if bytes_read != 0 {
        cells.add(Counter::BytesRead, bytes_read);
    }
    cells.add(Counter::Active, 1);
    note_step(local, cells);
}

/// Files the operator under the step running now on this thread, if any.
#[inline]
pub(crate) fn note_step(local: &Local, cells: &Cells) {
    let step = local.current_step();
    if step != NO_STEP {
        cells.set_at(STEP_SLOT, u64::from(step) + 1);
    }
}

/// Rows and bytes a call (or one item of a streaming call) hands out.
#[inline]
pub(crate) fn count_output(cells: &Cells, rows_out: u64, bytes_written: u64) {
    cells.add(Counter::RowsOut, rows_out);
    if bytes_written != 0 {
        cells.add(Counter::BytesWritten, bytes_written);
    }
}

/// How a call ended (`Completed`, `Failed` or `Cancelled`), and one active call less.
#[inline]
pub(crate) fn count_end(cells: &Cells, outcome: Counter) {
    cells.add(outcome, 1);
    cells.add(Counter::Active, 1u64.wrapping_neg());
}

/// A handle to the operator running now on this thread, for what the types cannot say.
///
/// Get it with [`current_operator`]. Outside an operator, or with telemetry off, every
/// method does nothing. The handle stays on its thread (it is neither `Send` nor `Sync`).
///
/// ```
/// #[pipetel::operator(node_type = "scan")]
/// fn read(path: &str) -> Vec<String> {
///     let text = format!("contents of {path}"); // std::fs::read_to_string(path) in real code
///     pipetel::current_operator().add_bytes_read(text.len() as u64);
///     text.lines().map(str::to_owned).collect()
/// }
/// assert_eq!(read("a.csv").len(), 1);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct OperatorHandle {
    cells: *const Cells,
    series: u32,
    _not_send: PhantomData<*const ()>,
}

impl OperatorHandle {
    #[inline]
    fn add(&self, counter: Counter, n: u64) {
        // SAFETY: a non-null pointer points into a leaked shard chunk owned by this
        // thread (the handle is neither Send nor Sync), valid for the process's life.
        if let Some(cells) = unsafe { self.cells.as_ref() } {
            cells.add(counter, n);
        }
    }

    /// Whether calls on this handle count anything (an operator runs and telemetry is on).
    #[inline]
    pub fn is_recording(&self) -> bool {
        !self.cells.is_null()
    }

    /// Adds to `bytes.read` (a source: bytes taken from a file, socket or buffer).
    #[inline]
    pub fn add_bytes_read(&self, bytes: u64) {
        self.add(Counter::BytesRead, bytes);
    }

    /// Adds to `bytes.written` (a sink: bytes put into a file, socket or buffer).
    #[inline]
    pub fn add_bytes_written(&self, bytes: u64) {
        self.add(Counter::BytesWritten, bytes);
    }

    /// Adds to `rows.written` (a sink: rows stored at a destination).
    #[inline]
    pub fn add_rows_written(&self, rows: u64) {
        self.add(Counter::RowsWritten, rows);
    }

    /// Says how many rows the operator will handle in all (its input, or its output for a
    /// source), so that progress shows a bar with an ETA. Takes a lock: call it once,
    /// not per batch.
    pub fn set_expected_rows(&self, rows: u64) {
        if self.is_recording() {
            registry::set_expected_rows(self.series, rows);
        }
    }

    /// Adds to `rows.out`, on top of what the return value counts (a streaming operator
    /// that hands rows out through a callback or channel).
    #[inline]
    pub fn add_rows_out(&self, rows: u64) {
        self.add(Counter::RowsOut, rows);
    }
}

/// The operator running now on this thread (the innermost `#[operator]` call).
///
/// See [`OperatorHandle`] for an example.
#[inline]
pub fn current_operator() -> OperatorHandle {
    let current = if enabled() {
        LOCAL
            .try_with(|local| local.current())
            .unwrap_or(Current::NONE)
    } else {
        Current::NONE
    };
    OperatorHandle {
        cells: current.cells,
        series: current.series,
        _not_send: PhantomData,
    }
}

/// The `node.id` and `node.type` of the operator running now on this thread, if any
/// (for log records; takes the registry lock).
pub(crate) fn current_operator_labels() -> Option<[opentelemetry::KeyValue; 2]> {
    let series = LOCAL.try_with(|local| local.current().series).ok()?;
    if series == NO_SERIES {
        return None;
    }
    registry::with_labels(|labels| labels.get(series as usize).map(|l| l.attributes.clone()))
}
