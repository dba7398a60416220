//! What runs per synchronous operator call: the call guard, and the `count_*` helpers
//! every shape of call shares.
//!
//! Off: the caller checks [`enabled`](crate::operator::recording::enabled) (one relaxed
//! load) and skips everything else. On: the call site resolves to a series id once (a
//! relaxed load afterwards); [`TaskGuard::start`] adds rows in and one started call to
//! this thread's own cells, marks the step, makes the operator current and reads the
//! clock; [`TaskGuard::finish`] reads the clock again and adds busy ticks (less those of
//! the operators nested in the call), rows out, and completed or failed. Relaxed loads
//! and stores on cells only this thread writes: no lock, no allocation, no attribute
//! set, no OpenTelemetry call, and on the common path no function call but `finish`.

use crate::counters::cells::{Cells, Tally};
use crate::counters::lanes::NO_LANE;
use crate::counters::partitions::NO_PARTITION;
use crate::counters::registry::NO_SERIES;
use crate::counters::running_steps;
use crate::counters::step_slot::StepCall;
use crate::counters::thread_state::{this_thread, ThreadState};
use crate::operator::clock;
use crate::operator::segment::{Elapsed, Segment};

/// One running call of a synchronous operator. Created on entry, closed by
/// [`finish`](Self::finish) on a normal return or by `Drop` on an early exit or a panic.
#[doc(hidden)]
#[derive(Debug)]
pub struct TaskGuard {
    segment: Segment,
    /// How an exit that skips [`finish`](Self::finish) without a panic counts:
    /// [`Tally::Failed`] or [`Tally::Completed`].
    early_exit: Tally,
    closing: Closing,
}

/// What closes a guard, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    /// A call of no partition whose clock is the TSC read inline, which
    /// [`TaskGuard::finish`] closes with no call.
    CallOnTsc,
    /// A call whose clock is read through quanta, or a partition's.
    Call,
    /// A hand-written `poll` / `poll_next`: the call counts (as started and ended) only
    /// when it is ready; a `Pending` is busy time and nothing else.
    Poll,
}

impl TaskGuard {
    /// Starts a call of `series`. `early_exit_fails` says how an exit that skips
    /// [`finish`](Self::finish) without a panic (a `?`) counts: failed for
    /// `Result`-returning functions, completed for `Option`-returning ones.
    ///
    /// The common case — the TSC read inline, the thread's cells allocated, the series
    /// in the run's lane (if any) remembered — makes no call; the first call on a thread
    /// (or in a lane), or a clock read through quanta, takes
    /// [`start_first`](Self::start_first).
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
        let thread = this_thread();
        // In a run's lane, the call counts in the series of that lane, as the thread
        // remembers it; one it does not is found on the cold path, so that the inlined
        // path makes no call and its caller saves no more registers than out of any run.
        let here = match thread.lane() {
            NO_LANE => Some(series),
            lane => thread.remembered_in_lane(series, lane),
        };
        if let (true, Some(series)) = (clock::tsc_inline(), here) {
            // The clock first: see `Segment::enter_at`.
            let start = clock::read_tsc();
            if let Some(cells) = thread.cells_if_ready(series) {
                count_start(thread, cells, rows_in, bytes_read);
                return Some(TaskGuard {
                    segment: Segment::enter_at(thread, cells, series, NO_PARTITION, start),
                    early_exit: outcome(early_exit_fails),
                    closing: Closing::CallOnTsc,
                });
            }
        }
        Self::start_first(series, rows_in, bytes_read, early_exit_fails)
    }

    /// [`start`](Self::start) for a call of partition `partition` (see [`partition_id`]):
    /// its rows out and busy time also count for the partition, for skew.
    #[inline]
    pub fn start_in(
        series: u32,
        partition: u32,
        rows_in: u64,
        bytes_read: u64,
        early_exit_fails: bool,
    ) -> Option<Self> {
        if series == NO_SERIES {
            return None;
        }
        // The clock first: see `Segment::enter_at`.
        let start = clock::ticks();
        // A partition's call closes on the general path, which counts for partitions.
        let closing = if clock::tsc_inline() && partition == NO_PARTITION {
            Closing::CallOnTsc
        } else {
            Closing::Call
        };
        let thread = this_thread();
        let series = thread.series_here(series);
        let cells = thread.cells(series);
        count_start(thread, cells, rows_in, bytes_read);
        Some(TaskGuard {
            segment: Segment::enter_at(thread, cells, series, partition, start),
            early_exit: outcome(early_exit_fails),
            closing,
        })
    }

    /// [`start`](Self::start) on a thread without its cells yet, with quanta's clock read
    /// through its function, or in a lane whose series the thread does not remember.
    #[cold]
    #[inline(never)]
    fn start_first(
        series: u32,
        rows_in: u64,
        bytes_read: u64,
        early_exit_fails: bool,
    ) -> Option<Self> {
        Self::start_in(series, NO_PARTITION, rows_in, bytes_read, early_exit_fails)
    }

    /// Starts a call of a function returning `Poll` (a hand-written `poll_next`): busy
    /// time from now; whether it was a call is known at its end.
    #[inline]
    pub fn start_poll(series: u32, rows_in: u64, bytes_read: u64) -> Option<Self> {
        if series == NO_SERIES {
            return None;
        }
        let start = clock::ticks();
        let thread = this_thread();
        let series = thread.series_here(series);
        let cells = thread.cells(series);
        if rows_in != 0 {
            cells.add(Tally::RowsIn, rows_in);
        }
        if bytes_read != 0 {
            cells.add(Tally::BytesRead, bytes_read);
        }
        note_step(thread, cells);
        Some(TaskGuard {
            segment: Segment::enter_at(thread, cells, series, NO_PARTITION, start),
            early_exit: Tally::Failed,
            closing: Closing::Poll,
        })
    }

    /// Closes the call of a function returning `Poll` held in `slot` (which it leaves
    /// `None`): `Pending` adds its busy time only; `Ready` counts a call that started and
    /// completed (or failed) with its output.
    #[inline(never)]
    pub fn finish_poll(
        slot: &mut Option<TaskGuard>,
        pending: bool,
        rows_out: u64,
        bytes_written: u64,
        failed: bool,
    ) {
        if let Some(guard) = slot {
            let thread = this_thread();
            if pending {
                guard.segment.exit(thread);
            } else {
                let cells = guard.segment.cells();
                cells.add(Tally::Started, 1);
                guard
                    .segment
                    .exit_handing_out(thread, clock::ticks, rows_out, bytes_written);
                count_end(cells, outcome(failed));
            }
        }
        forget_closed(slot);
    }

    /// Closes the call held in `slot`, which returned normally, and leaves `slot` `None`.
    ///
    /// Not inlined, on purpose: the guard then lives in the caller's stack frame rather
    /// than in registers the caller would have to save on entry, so that the caller with
    /// telemetry off costs little more than the plain function (measured: +8
    /// instructions instead of +18; +11 since the guard is closed in place).
    ///
    /// The guard is closed where the caller keeps it, through a reference: taken by
    /// value (moved out of its `Option` into the argument), it was copied field by field
    /// in the caller and again in here, and the copy's wide loads of the caller's narrow
    /// stores missed store-to-load forwarding: about 4 ns a call (BENCHMARKS.md).
    ///
    /// The common close makes no call: anything rare (see
    /// `Segment::try_exit_handing_out_at`) and the emptying of a full list of segments
    /// end in a call in tail position, so that no value is kept across a call (fewer
    /// registers saved, none spilled to the stack: 6 instructions a call fewer).
    #[inline(never)]
    pub fn finish(slot: &mut Option<TaskGuard>, rows_out: u64, bytes_written: u64, failed: bool) {
        match slot {
            Some(guard) if guard.closing == Closing::CallOnTsc => {
                let end = clock::read_tsc();
                let thread = this_thread();
                match guard
                    .segment
                    .try_exit_handing_out_at(thread, end, rows_out, bytes_written)
                {
                    Ok(full) => {
                        count_end(guard.segment.cells(), outcome(failed));
                        forget_closed(slot);
                        if let Some(shard) = full {
                            shard.empty_list();
                        }
                    }
                    Err(elapsed) => {
                        Self::finish_rarely(slot, elapsed, rows_out, bytes_written, failed);
                    }
                }
            }
            Some(_) => Self::finish_slowly(slot, rows_out, bytes_written, failed),
            None => {}
        }
    }

    /// [`finish`](Self::finish) with quanta's clock read through its function, or for a
    /// partition's call.
    #[cold]
    #[inline(never)]
    fn finish_slowly(
        slot: &mut Option<TaskGuard>,
        rows_out: u64,
        bytes_written: u64,
        failed: bool,
    ) {
        if let Some(guard) = slot {
            guard.close(rows_out, bytes_written, outcome(failed), clock::ticks);
        }
        forget_closed(slot);
    }

    /// The rest of [`finish`](Self::finish) when something rare is due, for a segment
    /// that took `elapsed`.
    #[cold]
    #[inline(never)]
    fn finish_rarely(
        slot: &mut Option<TaskGuard>,
        elapsed: Elapsed,
        rows_out: u64,
        bytes_written: u64,
        failed: bool,
    ) {
        if let Some(guard) = slot {
            guard
                .segment
                .exit_handing_out_elapsed(this_thread(), elapsed, rows_out, bytes_written);
            count_end(guard.segment.cells(), outcome(failed));
        }
        forget_closed(slot);
    }

    #[inline(always)]
    fn close(&self, rows_out: u64, bytes_written: u64, outcome: Tally, clock: fn() -> u64) {
        self.segment
            .exit_handing_out(this_thread(), clock, rows_out, bytes_written);
        count_end(self.segment.cells(), outcome);
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.closing == Closing::Poll {
            // A `Poll` function left early (a `?` on an `Err`, or a panic): a failed call.
            self.segment.cells().add(Tally::Started, 1);
        }
        let outcome = if std::thread::panicking() {
            Tally::Failed
        } else {
            self.early_exit
        };
        self.close(0, 0, outcome, clock::ticks);
    }
}

/// Empties a slot whose guard is closed, without running its `Drop` (which would close
/// it again).
#[inline(always)]
fn forget_closed(slot: &mut Option<TaskGuard>) {
    std::mem::forget(slot.take());
}

/// The slot of partition number `partition`: numbers past `u32::MAX − 1` share the last
/// slot.
#[inline]
pub(crate) fn partition_id(partition: u64) -> u32 {
    partition.min(u64::from(NO_PARTITION) - 1) as u32
}

/// The slot of `partition`, an `#[operator(partition = …)]` value.
#[doc(hidden)]
#[inline]
pub fn partition_of<P: crate::partition::PartitionNumber + ?Sized>(partition: &P) -> u32 {
    partition_id(partition.partition_number())
}

/// How a call that ended ended.
#[inline(always)]
fn outcome(failed: bool) -> Tally {
    if failed {
        Tally::Failed
    } else {
        Tally::Completed
    }
}

/// What every call counts on entry: its input, that it started, and the step it runs in.
#[inline]
pub(crate) fn count_start(thread: &ThreadState, cells: &Cells, rows_in: u64, bytes_read: u64) {
    cells.add(Tally::RowsIn, rows_in);
    if bytes_read != 0 {
        cells.add(Tally::BytesRead, bytes_read);
    }
    cells.add(Tally::Started, 1);
    note_step(thread, cells);
}

/// Files the operator under the step running now on this thread, or else — on a thread
/// where no run is either (work on a thread no step started) — under the latest step
/// running in the process, if any.
#[inline]
pub(crate) fn note_step(thread: &ThreadState, cells: &Cells) {
    let step = effective_step(thread);
    if step != StepCall::NONE {
        cells.step.mark(step);
    }
}

/// The step running on this thread; or none, in a run's lane between its steps; or else
/// the latest step running in the process.
#[inline]
pub(crate) fn effective_step(thread: &ThreadState) -> StepCall {
    match thread.current_step() {
        // The lane is read only when some step runs somewhere.
        StepCall::NONE => match running_steps::latest() {
            latest if latest == StepCall::NONE || thread.lane() == NO_LANE => latest,
            _ => StepCall::NONE,
        },
        step => step,
    }
}

/// How a call ended: `Completed`, `Failed` or `Cancelled` (a call is active from its
/// start to its end: readers subtract).
#[inline]
pub(crate) fn count_end(cells: &Cells, outcome: Tally) {
    cells.add(outcome, 1);
}
