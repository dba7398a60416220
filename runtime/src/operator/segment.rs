//! One stretch of an operator's own work on one thread — a sync call, one `poll` of an
//! async operator, one `next()` of a streaming one — and the exclusive-time rule.
//!
//! A segment makes its operator the current one, and adds to busy time only the ticks
//! that no segment nested inside it took: an operator that calls or pulls from another
//! (fused operators, an iterator over its child's iterator) counts its own work, the
//! child counts the rest, and the durations of all operators add up to the time spent
//! in operators. The bookkeeping is two thread-local `Cell`s, next to the current
//! operator's.

use crate::counters::cells::{Cells, Tally};
use crate::counters::thread_state::{Current, ThreadState};
use crate::operator::clock::ticks;

/// An open segment; [`exit`](Self::exit) closes it on the thread that entered it.
#[derive(Debug)]
pub(crate) struct Segment {
    cells: &'static Cells,
    previous: Current,
    outer_nested: u64,
    start: u64,
}

impl Segment {
    /// Makes `series` (whose cells on this thread are `cells`) the current operator and
    /// starts its clock.
    #[inline]
    pub(crate) fn enter(thread: &ThreadState, cells: &'static Cells, series: u32) -> Segment {
        Self::enter_timed(thread, cells, series, ticks)
    }

    /// [`enter`](Self::enter), reading the time from `clock`.
    #[inline(always)]
    pub(crate) fn enter_timed(
        thread: &ThreadState,
        cells: &'static Cells,
        series: u32,
        clock: impl FnOnce() -> u64,
    ) -> Segment {
        let previous = thread.swap_current(Current { cells, series });
        let outer_nested = thread.begin_nested();
        Segment {
            cells,
            previous,
            outer_nested,
            start: clock(),
        }
    }

    /// The cells the segment counts into.
    #[inline]
    pub(crate) fn cells(&self) -> &'static Cells {
        self.cells
    }

    /// Stops the clock: adds the segment's own ticks (its time less the time of the
    /// segments nested in it) to busy time, and restores the previous current operator.
    #[inline]
    pub(crate) fn exit(&self, thread: &ThreadState) {
        self.exit_timed(thread, ticks);
    }

    /// [`exit`](Self::exit), reading the time from `clock`.
    #[inline(always)]
    pub(crate) fn exit_timed(&self, thread: &ThreadState, clock: impl FnOnce() -> u64) {
        let total = clock().saturating_sub(self.start);
        let nested = thread.end_nested(self.outer_nested, total);
        self.cells
            .add(Tally::BusyTicks, total.saturating_sub(nested));
        thread.swap_current(self.previous);
    }
}
