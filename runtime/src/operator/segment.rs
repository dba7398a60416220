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
//!
//! Waiting: the consumer spends the nested segment's whole time waiting for its input, so
//! the nested segment adds its time to the consumer's starved time on its way out (the
//! consumer's cells are the previous current operator's, on this thread). Its busy time
//! plus that starved time plus the waits on channels (`operator::wait`) is the
//! consumer's segment.

use std::sync::atomic::Ordering::Relaxed;

use opentelemetry::trace::TraceContextExt as _;

use crate::counters::cells::{Cells, LinkCells, Tally};
use crate::counters::details;
use crate::counters::partitions::{self, PartitionCells, NO_PARTITION};
use crate::counters::segment_list::Listing;
use crate::counters::shards::Shard;
use crate::counters::thread_state::{Current, ThreadState};
use crate::operator::clock::ticks;
use crate::timeline::{self, Slice, SliceKind};

/// An open segment; [`exit`](Self::exit) closes it on the thread that entered it.
#[derive(Debug)]
pub(crate) struct Segment {
    cells: &'static Cells,
    series: u32,
    /// The thread's current operator when the segment started: the operator it runs
    /// nested in, its consumer; or none; or [`Current::RECEIVED`] (the segment takes a
    /// batch received outside any operator, and none runs after it).
    previous: Current,
    /// The partition the call belongs to, when it said.
    partition: Option<&'static PartitionCells>,
    outer_nested: u64,
    start: u64,
    /// The owner of the blocks the segment allocates (tracking allocator): its series,
    /// or its partition's owner.
    #[cfg(feature = "alloc")]
    owner: crate::counters::alloc_owner::Owner,
    /// The thread's owner and count of bytes before the segment, handed back as it ends.
    #[cfg(feature = "alloc")]
    outer: crate::counters::alloc_owner::Outer,
}

impl Segment {
    /// When the segment started, in clock ticks.
    #[inline]
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    /// Makes `series` (whose cells on this thread are `cells`) the current operator and
    /// starts its clock, for a call of partition `partition` (or [`NO_PARTITION`]).
    #[inline]
    pub(crate) fn enter_in(
        thread: &ThreadState,
        cells: &'static Cells,
        series: u32,
        partition: u32,
    ) -> Segment {
        let start = ticks();
        Self::enter_at(thread, cells, series, partition, start)
    }

    /// [`enter_in`](Self::enter_in) with the clock read at `start`, before anything
    /// else: the bookkeeping here then runs while the clock is read rather than before
    /// (the TSC read waits for the instructions before it to finish: about 1 ns a call
    /// on this project's AMD machine), and counts in the segment's busy time.
    #[inline(always)]
    pub(crate) fn enter_at(
        thread: &ThreadState,
        cells: &'static Cells,
        series: u32,
        partition: u32,
        start: u64,
    ) -> Segment {
        // The consumer, or a mark: a batch received from a channel outside any operator
        // waits for this one, which takes it on the way out (no call here: the inlined
        // path stays free of calls, so the caller saves no registers for it, off too).
        let previous = thread.swap_current(Current { cells, series });
        let slot = match partition {
            NO_PARTITION => None,
            partition => partitions::slot(series, partition),
        };
        let outer_nested = thread.begin_nested();
        // The partition's blocks are its own owner's; the rest the series'.
        #[cfg(feature = "alloc")]
        let owner = slot.map_or(crate::counters::alloc_owner::of_series(series), |slot| {
            slot.owner
        });
        Segment {
            cells,
            series,
            previous,
            partition: slot.map(|slot| slot.cells),
            outer_nested,
            start,
            #[cfg(feature = "alloc")]
            owner,
            #[cfg(feature = "alloc")]
            outer: crate::counters::alloc_owner::begin_segment(owner),
        }
    }

    /// The cells the segment counts into.
    #[inline]
    pub(crate) fn cells(&self) -> &'static Cells {
        self.cells
    }

    /// [`exit_timed`](Self::exit_timed), then counts what the segment handed out (a
    /// call's output, an item): rows and bytes out, and — when it ran nested in another
    /// operator — one batch across their link; the segment goes to its thread's list.
    /// Returns when it ended, in ticks.
    #[inline(always)]
    pub(crate) fn exit_handing_out(
        &self,
        thread: &ThreadState,
        clock: impl FnOnce() -> u64,
        rows_out: u64,
        bytes_written: u64,
    ) -> u64 {
        let (elapsed, end) = self.exit_timed(thread, clock);
        // Before handing out: what it checks is then not kept across the listing's call.
        self.check_slow(elapsed, Some(rows_out));
        self.hand_out(thread, elapsed, rows_out, bytes_written);
        end
    }

    /// [`exit_handing_out`](Self::exit_handing_out) at `end`, with no call, when nothing
    /// rare is due: no received batch to take, the thread's shard adopted, the segment's
    /// link (if any) seen before, its time not among the slowest. Otherwise this only
    /// ends the segment's nesting and returns its time, for
    /// [`exit_handing_out_elapsed`](Self::exit_handing_out_elapsed) to do the rest, so
    /// that the caller's common path makes no call. `Ok` with the shard when its list of
    /// segments is full, for the caller to empty last.
    ///
    /// Only for a segment of no partition: a partition's call closes on the general
    /// path, so that this one, every call's, spends nothing on partitions.
    #[inline(always)]
    pub(crate) fn try_exit_handing_out_at(
        &self,
        thread: &ThreadState,
        end: u64,
        rows_out: u64,
        bytes_written: u64,
    ) -> Result<Option<&'static Shard>, Elapsed> {
        debug_assert!(self.partition.is_none(), "a partition's call");
        let elapsed = self.elapsed(thread, end);
        let Some(shard) = thread.shard_if_adopted() else {
            return Err(elapsed);
        };
        let Some(link) = self.link_if_known(shard) else {
            return Err(elapsed);
        };
        if elapsed.busy > self.cells.slow_floor.load(Relaxed) {
            return Err(elapsed);
        }
        // No partition (above), and no received batch waiting (`link_if_known`): the
        // previous operator comes back as it was.
        self.count_elapsed_in(thread, elapsed, None, self.previous);
        self.count_output_in(thread, rows_out, bytes_written, None);
        if let Some(link) = link {
            link.add_batch(rows_out, bytes_written);
        }
        let listing = shard.put_segment(
            self.series,
            elapsed.busy,
            Some(rows_out),
            elapsed.allocated(),
        );
        Ok((listing == Listing::Full).then_some(shard))
    }

    /// The cells of the link the segment's output counts on — `Some(None)` when it ran
    /// in no operator — if nothing is left to learn about it: `None` when the link is not
    /// the one seen last, its cells are not allocated, or a received batch waits for the
    /// segment.
    #[inline(always)]
    fn link_if_known(&self, shard: &'static Shard) -> Option<Option<&'static LinkCells>> {
        let consumer = self.previous.series;
        if consumer == Current::RECEIVED_MARK {
            return None;
        }
        if consumer >= Current::FIRST_MARK {
            return Some(None);
        }
        match self.cells.consumer.link_if_seen(consumer)?.id() {
            Some(link) => shard.link_cells_if_grown(link).map(Some),
            None => Some(None),
        }
    }

    /// Hands a batch received outside any operator to this segment's operator, if one
    /// waits for it.
    #[inline(always)]
    fn take_received(&self, thread: &ThreadState) {
        if self.previous.series == Current::RECEIVED_MARK {
            thread.hand_received_to(self.series);
        }
    }

    /// The rest of [`exit_handing_out`](Self::exit_handing_out) after
    /// [`try_exit_handing_out_at`](Self::try_exit_handing_out_at) declined.
    #[inline]
    pub(crate) fn exit_handing_out_elapsed(
        &self,
        thread: &ThreadState,
        elapsed: Elapsed,
        rows_out: u64,
        bytes_written: u64,
    ) {
        self.take_received(thread);
        self.count_elapsed(thread, elapsed);
        self.check_slow(elapsed, Some(rows_out));
        self.hand_out(thread, elapsed, rows_out, bytes_written);
    }

    #[inline(always)]
    fn hand_out(&self, thread: &ThreadState, elapsed: Elapsed, rows_out: u64, bytes_written: u64) {
        self.count_output(thread, rows_out, bytes_written);
        thread.shard().list_segment(
            self.series,
            elapsed.busy,
            Some(rows_out),
            elapsed.allocated(),
        );
        let consumer = self.previous.series;
        if consumer < Current::FIRST_MARK {
            let link = self.cells.consumer.link_to(self.series, consumer);
            if let Some(link) = link.id() {
                thread
                    .shard()
                    .link_cells(link)
                    .add_batch(rows_out, bytes_written);
            }
        }
    }

    /// Counts what the segment handed out in its operator's (and partition's) cells.
    #[inline(always)]
    fn count_output(&self, thread: &ThreadState, rows_out: u64, bytes_written: u64) {
        self.count_output_in(thread, rows_out, bytes_written, self.partition);
    }

    /// [`count_output`](Self::count_output) with the segment's partition given: `None`
    /// where the caller knows it has none, which then costs nothing.
    #[inline(always)]
    fn count_output_in(
        &self,
        thread: &ThreadState,
        rows_out: u64,
        bytes_written: u64,
        partition: Option<&PartitionCells>,
    ) {
        self.cells.add(Tally::RowsOut, rows_out);
        if bytes_written != 0 {
            self.cells.add(Tally::BytesWritten, bytes_written);
        }
        if rows_out != 0 || bytes_written != 0 {
            thread.note_output(self.series);
            if let Some(partition) = partition {
                partition.add_at(partitions::ROWS, rows_out);
            }
        }
    }

    /// Stops the clock: adds the segment's own ticks (its time less the time of the
    /// segments nested in it) to busy time, and restores the previous current operator.
    /// Returns when it ended, in ticks.
    #[inline]
    pub(crate) fn exit(&self, thread: &ThreadState) -> u64 {
        let (elapsed, end) = self.exit_timed(thread, ticks);
        // Before listing: what it checks is then not kept across the listing's call.
        self.check_slow(elapsed, None);
        thread
            .shard()
            .list_segment(self.series, elapsed.busy, None, elapsed.allocated());
        end
    }

    /// What [`exit`](Self::exit) does but listing the segment and checking whether it
    /// is among the slowest, reading the time from `clock`: returns what the segment
    /// took, for the caller to list with what it handed out, and its end.
    #[inline(always)]
    fn exit_timed(&self, thread: &ThreadState, clock: impl FnOnce() -> u64) -> (Elapsed, u64) {
        self.take_received(thread);
        let end = clock();
        let elapsed = self.elapsed(thread, end);
        self.count_elapsed(thread, elapsed);
        (elapsed, end)
    }

    /// The segment's time if it ends at `end`, and what it allocated; ends its nesting
    /// (adds its time to the enclosing segment's nested ticks, and gives the thread's
    /// owner of blocks and count of bytes back to the enclosing segment). Called once per
    /// segment.
    #[inline(always)]
    fn elapsed(&self, thread: &ThreadState, end: u64) -> Elapsed {
        let total = end.saturating_sub(self.start);
        let nested = thread.end_nested(self.outer_nested, total);
        Elapsed {
            total,
            busy: total.saturating_sub(nested),
            #[cfg(feature = "alloc")]
            allocated: crate::counters::alloc_owner::end_segment(self.outer),
        }
    }

    /// Adds the segment's busy time (its operator's, its partition's) and its whole time
    /// to its consumer's starved time, and restores the previous current operator.
    #[inline(always)]
    fn count_elapsed(&self, thread: &ThreadState, elapsed: Elapsed) {
        // The received batch is taken: no operator runs.
        let restored = if self.previous.series == Current::RECEIVED_MARK {
            Current::NONE
        } else {
            self.previous
        };
        self.count_elapsed_in(thread, elapsed, self.partition, restored);
    }

    /// [`count_elapsed`](Self::count_elapsed) with the segment's partition given (`None`
    /// where the caller knows it has none) and the operator to make current again.
    #[inline(always)]
    fn count_elapsed_in(
        &self,
        thread: &ThreadState,
        elapsed: Elapsed,
        partition: Option<&PartitionCells>,
        restored: Current,
    ) {
        self.cells.add(Tally::BusyTicks, elapsed.busy);
        // With the tracking allocator: a segment that allocated samples its operator's
        // memory as it ends (what it retains, and its peak); live bytes grow only by
        // allocations, so one that did not has nothing to raise the peak.
        #[cfg(feature = "alloc")]
        if elapsed.allocated != 0 {
            crate::alloc::segment_ended(self.owner);
        }
        // SAFETY: a non-null `cells` of a current operator points into a shard's table,
        // whose chunks are never freed.
        if let Some(consumer) = unsafe { self.previous.cells.as_ref() } {
            consumer.add(Tally::StarvedTicks, elapsed.total);
        }
        if let Some(partition) = partition {
            partition.add_at(partitions::BUSY_TICKS, elapsed.busy);
        }
        thread.swap_current(restored);
    }

    /// Keeps the segment among the slowest of its series if it is one of them (and in
    /// the timeline, while one is recorded: the floor is then zero), with the rows it
    /// handed out, if it did.
    #[inline(always)]
    fn check_slow(&self, elapsed: Elapsed, rows: Option<u64>) {
        if elapsed.busy > self.cells.slow_floor.load(Relaxed) {
            self.record_slow(elapsed, rows);
        }
    }
}

/// A segment's time, in ticks, and what it allocated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Elapsed {
    /// From its start to its end.
    pub(crate) total: u64,
    /// Its own: less the segments nested in it.
    pub(crate) busy: u64,
    /// The bytes it allocated (and grew its owner's blocks by) on its thread, less what
    /// the segments nested in it did (tracking allocator).
    #[cfg(feature = "alloc")]
    pub(crate) allocated: u64,
}

impl Elapsed {
    /// The bytes the segment allocated, its own; `None` without the `alloc` feature.
    #[inline(always)]
    pub(crate) fn allocated(&self) -> Option<u64> {
        #[cfg(feature = "alloc")]
        return Some(self.allocated);
        #[cfg(not(feature = "alloc"))]
        None
    }
}

impl Segment {
    /// Keeps a segment among the slowest of its series if it is one of them, and in the
    /// timeline while one is recorded; brings the thread's copy of the series' floor up
    /// to date.
    #[cold]
    #[inline(never)]
    fn record_slow(&self, elapsed: Elapsed, rows: Option<u64>) {
        // When it ended, in ticks (a time of day only when read, `clock::wall_time_at`).
        let end = self.start.saturating_add(elapsed.total);
        timeline::record(Slice {
            start: self.start,
            end,
            series: self.series,
            kind: SliceKind::Segment,
            rows,
        });
        let floor = details::of(self.series).record_slow(elapsed.busy, end, current_trace_id);
        self.cells
            .slow_floor
            .store(timeline::held_floor(floor), Relaxed);
    }
}

/// The trace the calling thread runs in (a run's or step's span, attached), or 0: for the
/// slowest segments, read only when a segment is among them.
#[cold]
fn current_trace_id() -> u128 {
    opentelemetry::Context::map_current(|context| {
        u128::from_be_bytes(context.span().span_context().trace_id().to_bytes())
    })
}
