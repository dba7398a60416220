//! One stretch of an operator's own work on one thread — a sync call, one `poll` of an
//! async operator, one `next()` of a streaming one — and the exclusive-time rule.
//!
//! A segment makes its operator the current one, and adds to busy time only the ticks
//! that no segment nested inside it took: an operator that calls or pulls from another
//! (fused operators, an iterator over its child's iterator) counts its own work, the
//! child counts the rest, and the durations of all operators add up to the time spent
//! in operators. The bookkeeping is two thread-local `Cell`s, next to the current
//! operator's.
//!
//! A segment entered while another operator's segment runs on the thread is that
//! operator's input: when it hands something out (a call returns, an item is yielded)
//! the pair is a link of the operator graph (`counters::links`), and what it handed out
//! is counted on the link too. Once the pair has been seen on the thread this is a load
//! and a compare; a segment that runs in no other operator pays one compare.

use crate::counters::cells::{Cells, Tally};
use crate::counters::links;
use crate::counters::registry::NO_SERIES;
use crate::counters::thread_state::{Current, ThreadState};
use crate::operator::clock::ticks;

/// An open segment; [`exit`](Self::exit) closes it on the thread that entered it.
#[derive(Debug)]
pub(crate) struct Segment {
    cells: &'static Cells,
    series: u32,
    previous: Current,
    /// The operator this segment runs nested in ([`NO_SERIES`] if none): its consumer.
    consumer: u32,
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
        let (consumer, previous) = if previous.series < Current::FIRST_MARK {
            (previous.series, previous)
        } else if previous.series == NO_SERIES {
            (NO_SERIES, previous)
        } else {
            // A batch received from a channel outside any operator: this one takes it.
            links::bind_received(thread, series);
            (NO_SERIES, Current::NONE)
        };
        let outer_nested = thread.begin_nested();
        Segment {
            cells,
            series,
            previous,
            consumer,
            outer_nested,
            start: clock(),
        }
    }

    /// The cells the segment counts into.
    #[inline]
    pub(crate) fn cells(&self) -> &'static Cells {
        self.cells
    }

    /// Counts what the segment handed out (a call's output, an item): rows and bytes
    /// out, and — when it ran nested in another operator — one batch across their link.
    #[inline]
    pub(crate) fn hand_out(&self, thread: &ThreadState, rows_out: u64, bytes_written: u64) {
        self.cells.add(Tally::RowsOut, rows_out);
        if bytes_written != 0 {
            self.cells.add(Tally::BytesWritten, bytes_written);
        }
        if rows_out != 0 || bytes_written != 0 {
            thread.note_output(self.series);
        }
        if self.consumer != NO_SERIES {
            let link = self.cells.consumer.link_to(self.series, self.consumer);
            if let Some(link) = link.id() {
                thread
                    .shard()
                    .link_cells(link)
                    .add_batch(rows_out, bytes_written);
            }
        }
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
