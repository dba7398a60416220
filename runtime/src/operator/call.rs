//! What runs per synchronous operator call: the call guard, and the `count_*` helpers
//! every shape of call shares.
//!
//! Off: [`enabled`](crate::operator::recording::enabled) is one relaxed load, and the
//! caller skips everything else. On: the call site resolves to a series id once (a
//! relaxed load afterwards), and the guard adds to this thread's own cells: rows in and
//! `active` on entry; busy ticks, rows out, `completed` or `failed` and `active` on
//! exit. No lock, no allocation, no attribute set, no OpenTelemetry call.

use std::mem::ManuallyDrop;

use crate::counters::cells::{Cells, Tally};
use crate::counters::registry::NO_SERIES;
use crate::counters::step_slot::StepCall;
use crate::counters::thread_state::{ThreadState, THREAD};
use crate::operator::segment::Segment;

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
        THREAD
            .try_with(|thread| {
                let cells = thread.cells(series);
                count_start(thread, cells, rows_in, bytes_read);
                TaskGuard {
                    segment: Segment::enter(thread, cells, series),
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
        let _ = THREAD.try_with(|thread| self.segment.exit(thread));
        let cells = self.segment.cells();
        count_output(cells, rows_out, bytes_written);
        count_end(
            cells,
            if failed {
                Tally::Failed
            } else {
                Tally::Completed
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
pub(crate) fn count_start(thread: &ThreadState, cells: &Cells, rows_in: u64, bytes_read: u64) {
    cells.add(Tally::RowsIn, rows_in);
    if bytes_read != 0 {
        cells.add(Tally::BytesRead, bytes_read);
    }
    cells.add(Tally::Active, 1);
    note_step(thread, cells);
}

/// Files the operator under the step running now on this thread, if any.
#[inline]
pub(crate) fn note_step(thread: &ThreadState, cells: &Cells) {
    let step = thread.current_step();
    if step != StepCall::NONE {
        cells.step.mark(step);
    }
}

/// Rows and bytes a call (or one item of a streaming call) hands out.
#[inline]
pub(crate) fn count_output(cells: &Cells, rows_out: u64, bytes_written: u64) {
    cells.add(Tally::RowsOut, rows_out);
    if bytes_written != 0 {
        cells.add(Tally::BytesWritten, bytes_written);
    }
}

/// How a call ended (`Completed`, `Failed` or `Cancelled`), and one active call less.
#[inline]
pub(crate) fn count_end(cells: &Cells, outcome: Tally) {
    cells.add(outcome, 1);
    cells.add(Tally::Active, 1u64.wrapping_neg());
}
