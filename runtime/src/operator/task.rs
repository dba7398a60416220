//! A call of an async or streaming operator: one task that runs in many segments (one
//! per `poll` or `next()`), possibly on different threads.
//!
//! A [`Task`] holds no pointer to counter cells — only its series id — so it is `Send`
//! and `Sync` and may move between threads with the future or iterator that owns it.
//! Every segment looks up the cells of the thread it runs on, so each thread still
//! writes only its own shard. A task that starts on one thread and ends on another counts
//! its start in the first shard and its end in the second; readers sum them.
//!
//! A task keeps the step it started in, and the lane of its run. A segment that runs on a thread with no step of
//! its own (a spawned task, a worker thread, an engine's pool) runs with that step
//! current, as `tracing`'s `Instrument` carries a span into a future: the operator, and
//! the operators it polls in turn, are filed under the step that created the work.
//!
//! Between its segments a task waits, and each gap goes to one wait state of the thread
//! that runs the next segment (or ends the task): after an item, **blocked** (the output
//! was handed over and the consumer has not asked again); after a `Pending`,
//! **starved** (waiting for input) — or blocked when the body said its output was full
//! (`operator::wait::output_full`) — until the wake, then **queued** until the poll;
//! before the first segment, blocked (not yet asked for) or, for a future, queued. With
//! the segments' busy and starved time, the four add up to the task's life.

use std::mem::ManuallyDrop;

use crate::counters::cells::Cells;
use crate::counters::cells::Tally;
use crate::counters::lanes::{Lane, NO_LANE};
use crate::counters::partitions::NO_PARTITION;
use crate::counters::registry::NO_SERIES;
use crate::counters::step_slot::StepCall;
use crate::counters::thread_state::this_thread;
use crate::operator::call::{count_end, count_start, effective_step, note_step};
use crate::operator::clock::ticks;
use crate::operator::segment::Segment;
use crate::timeline::{self, Slice, SliceKind, TaskWait};

/// A running async or streaming operator call. Dropped without
/// [`finish`](Self::finish), it counts as cancelled — failed if one of its segments
/// panicked or it handed out an `Err` item: a consumer stops at the first error, and the
/// call failed whether or not anyone asks for what comes after it.
#[doc(hidden)]
#[derive(Debug)]
pub struct Task {
    series: u32,
    /// An item or the output was an `Err`.
    failed: bool,
    /// A segment panicked.
    panicked: bool,
    /// The step the task started in (or [`StepCall::NONE`]).
    step: StepCall,
    /// The lane of the run the task started in (or [`NO_LANE`]).
    lane: Lane,
    /// The partition the call belongs to (or [`NO_PARTITION`]).
    partition: u32,
    /// When the task started or its last segment ended, in ticks: the gap since then is
    /// waiting.
    mark: u64,
    /// The wait state the gap since `mark` counts as.
    after: TaskWait,
    /// The last segment returned `Pending`: the gap is `after` until the wake, queued
    /// from the wake.
    pending: bool,
    /// The task's number on the timeline, whose gaps it records (0: none recording when
    /// it started).
    number: u64,
}

impl Task {
    /// Starts a call of `series` on this thread: rows and bytes in, one active call.
    #[inline]
    pub fn start(series: u32, rows_in: u64, bytes_read: u64) -> Option<Self> {
        Self::start_in(series, NO_PARTITION, rows_in, bytes_read)
    }

    /// [`start`](Self::start) for a call of partition `partition` (see
    /// [`partition_id`](crate::operator::call::partition_id)).
    #[inline]
    pub fn start_in(series: u32, partition: u32, rows_in: u64, bytes_read: u64) -> Option<Self> {
        Self::start_placed(series, partition, rows_in, bytes_read, None)
    }

    /// [`start_in`](Self::start_in) for an operator made for a run (`run`: its lane, and
    /// the step it files under where no step runs), which the task lends to the threads
    /// its segments run on when they have none.
    #[inline]
    pub(crate) fn start_placed(
        series: u32,
        partition: u32,
        rows_in: u64,
        bytes_read: u64,
        run: Option<(Lane, StepCall)>,
    ) -> Option<Self> {
        if series == NO_SERIES {
            return None;
        }
        let thread = this_thread();
        let series = thread.series_here(series);
        let (lane, step) = match run {
            Some((lane, step)) if thread.current_step() == StepCall::NONE => (lane, step),
            Some((lane, _)) => (lane, thread.current_step()),
            None => (thread.lane(), effective_step(thread)),
        };
        // Filed where the task will file its segments.
        let (previous_step, previous_lane) = (thread.swap_step(step), thread.swap_lane(lane));
        count_start(thread, thread.cells(series), rows_in, bytes_read);
        thread.swap_step(previous_step);
        thread.swap_lane(previous_lane);
        Some(Task {
            series,
            failed: false,
            panicked: false,
            step,
            lane,
            partition,
            mark: ticks(),
            after: TaskWait::Blocked,
            pending: false,
            number: timeline::task_number(),
        })
    }

    /// Counts the wait before the first poll as queued (a future: it waits for an
    /// executor, not for a consumer).
    #[inline]
    pub(crate) fn queued_until_polled(&mut self) {
        self.after = TaskWait::Queued;
    }

    /// Counts the gap from `mark` to `now` in `cells`: `woken` is when the task's waker
    /// was first woken since its last poll (0: not, or not known;
    /// [`WOKEN_WHILE_POLLED`](crate::operator::waking::WOKEN_WHILE_POLLED), below any
    /// tick a poll ends at: during that poll).
    #[inline(always)]
    fn count_gap(&self, cells: &Cells, now: u64, woken: u64) {
        let gap = now.saturating_sub(self.mark);
        let after = self.after.tally();
        if self.pending && woken > self.mark {
            let woken = woken.min(now);
            cells.add(after, woken - self.mark);
            cells.add(Tally::QueuedTicks, now - woken);
        } else if self.pending && woken != 0 {
            // Woken while the poll that returned `Pending` still ran.
            cells.add(Tally::QueuedTicks, gap);
        } else {
            cells.add(after, gap);
        }
    }

    /// Keeps the gap from `mark` to `now` on the timeline, split as
    /// [`count_gap`](Self::count_gap) counts it. Called beside a call the segment makes
    /// anyway (its body's), never from the inlined counting: a call there would make
    /// every segment's caller save more registers, timeline or not.
    #[cold]
    #[inline(never)]
    fn record_gap(&self, now: u64, woken: u64) {
        // Waiting as `after` until the wake (if it came after the mark), queued since.
        let until = if !self.pending || woken == 0 {
            now
        } else {
            woken.max(self.mark).min(now)
        };
        let gaps = [
            (self.mark, until, self.after),
            (until, now, TaskWait::Queued),
        ];
        for (start, end, wait) in gaps {
            if start < end {
                timeline::record(Slice {
                    start,
                    end,
                    series: self.series,
                    kind: SliceKind::TaskGap {
                        task: self.number,
                        wait,
                    },
                    rows: None,
                });
            }
        }
    }

    /// Starts a segment on this thread: the operator is current (and its step, if the
    /// thread has none) and its clock runs until the returned [`Running`] ends (a
    /// streaming function's body, building what it returns, is one).
    #[inline]
    pub fn enter(&mut self) -> Running<'_> {
        let running = self.enter_woken(0);
        if running.task.number != 0 {
            running.task.record_gap(running.segment.start(), 0);
        }
        running
    }

    /// [`enter`](Self::enter) for a task whose waker was first woken at `woken` (in
    /// ticks) since its last segment (0: not, or not known).
    #[inline(always)]
    pub(crate) fn enter_woken(&mut self, woken: u64) -> Running<'_> {
        // The clock first: see `Segment::enter_at`.
        let start = ticks();
        let series = self.series;
        let thread = this_thread();
        // The task's own fields first: most tasks have neither a step nor a lane to lend.
        let mut lent = 0;
        if self.step != StepCall::NONE && thread.current_step() == StepCall::NONE {
            thread.swap_step(self.step);
            lent |= LENT_STEP;
        }
        if self.lane != NO_LANE && thread.lane() == NO_LANE {
            thread.swap_lane(self.lane);
            lent |= LENT_LANE;
        }
        let cells = thread.cells(series);
        note_step(thread, cells);
        let segment = Segment::enter_at(thread, cells, series, self.partition, start);
        self.count_gap(cells, start, woken);
        Running {
            segment,
            lent,
            task: self,
        }
    }

    /// Ends the call: completed, or failed if an item or the output was an `Err`.
    #[inline]
    pub fn finish(self) {
        let mut task = ManuallyDrop::new(self);
        let outcome = if task.failed {
            Tally::Failed
        } else {
            Tally::Completed
        };
        task.end(outcome);
    }

    /// Ends the call as failed (a streaming function that returned an `Err`).
    #[inline]
    pub fn fail(self) {
        let mut task = ManuallyDrop::new(self);
        task.end(Tally::Failed);
    }

    #[inline]
    fn end(&mut self, outcome: Tally) {
        let series = self.series;
        count_end(this_thread().cells(series), outcome);
    }

    /// Ends the call early (dropped): the wait since its last segment counts too.
    #[cold]
    fn end_early(&mut self, outcome: Tally) {
        let cells = this_thread().cells(self.series);
        let now = ticks();
        self.count_gap(cells, now, 0);
        if self.number != 0 {
            self.record_gap(now, 0);
        }
        count_end(cells, outcome);
    }
}

/// The segment lent the thread the task's step.
const LENT_STEP: u8 = 1;
/// The segment lent the thread the task's lane.
const LENT_LANE: u8 = 2;

/// Gives back what a segment lent the thread (`lent`: [`LENT_STEP`], [`LENT_LANE`]).
#[cold]
#[inline(never)]
fn give_back(lent: u8) {
    let thread = this_thread();
    if lent & LENT_STEP != 0 {
        thread.swap_step(StepCall::NONE);
    }
    if lent & LENT_LANE != 0 {
        thread.swap_lane(NO_LANE);
    }
}

/// What one segment of a streaming or async task handed out.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Yielded {
    /// Nothing yet (`Poll::Pending`).
    Nothing,
    /// An item: its rows out, bytes written, and whether it is an `Err`.
    Item(u64, u64, bool),
    /// The end of an async call, with its output's rows, bytes and whether it is an
    /// `Err`: the task completes.
    End(u64, u64, bool),
    /// The end of an iterator or stream (`None`): nothing handed out; the task completes.
    Exhausted,
}

impl Task {
    /// Runs `step` as one segment of `task` (just runs it when there is no task), and
    /// counts what [`yielded`](Yielded) says it handed out; at the end the task finishes
    /// and `task` becomes `None`.
    #[inline]
    pub fn segment<R>(
        task: &mut Option<Task>,
        step: impl FnOnce() -> R,
        yielded: impl FnOnce(&R) -> Yielded,
    ) -> R {
        Self::segment_woken(task, 0, step, yielded)
    }

    /// [`segment`](Self::segment) of a task whose waker was first woken at `woken` (in
    /// ticks) since its last segment (0: not).
    #[inline]
    pub(crate) fn segment_woken<R>(
        task: &mut Option<Task>,
        woken: u64,
        step: impl FnOnce() -> R,
        yielded: impl FnOnce(&R) -> Yielded,
    ) -> R {
        let Some(current) = task.as_mut() else {
            return step();
        };
        let mut running = current.enter_woken(woken);
        if running.task.number != 0 {
            running.task.record_gap(running.segment.start(), woken);
        }
        let result = step();
        // Closed where it lies, through `&mut`, then forgotten: moved into a method by
        // value, it was copied, and the copy's wide loads of the narrow stores that had
        // just written it waited for them (store-to-load forwarding fails).
        let ended = match yielded(&result) {
            Yielded::Nothing => {
                running.pend();
                false
            }
            Yielded::Item(rows, bytes, failed) => {
                running.exit(rows, bytes, failed);
                false
            }
            Yielded::End(rows, bytes, failed) => {
                running.exit(rows, bytes, failed);
                true
            }
            Yielded::Exhausted => {
                running.close();
                true
            }
        };
        std::mem::forget(running);
        if ended {
            if let Some(task) = task.take() {
                task.finish();
            }
        }
        result
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        let outcome = if self.panicked || self.failed || std::thread::panicking() {
            Tally::Failed
        } else {
            Tally::Cancelled
        };
        self.end_early(outcome);
    }
}

/// One segment of a [`Task`]: ends with [`exit`](Self::exit), or by `Drop` when the
/// segment panics (the task then counts as failed).
#[doc(hidden)]
#[derive(Debug)]
pub struct Running<'a> {
    segment: Segment,
    /// What of the task's the thread was lent for this segment (it had none of its
    /// own): [`LENT_STEP`], [`LENT_LANE`].
    lent: u8,
    task: &'a mut Task,
}

impl Running<'_> {
    /// Gives the thread back the step and the lane it had (none) if the segment lent it
    /// the task's.
    #[inline]
    fn return_step(&self) {
        if self.lent != 0 {
            give_back(self.lent);
        }
    }
}

impl Running<'_> {
    /// Ends the segment, adding what it handed out: `rows_out` and `bytes_written`, and
    /// whether that was an `Err`. The caller then forgets it.
    #[inline]
    fn exit(&mut self, rows_out: u64, bytes_written: u64, failed: bool) {
        let end = self
            .segment
            .exit_handing_out(this_thread(), ticks, rows_out, bytes_written);
        self.return_step();
        let task = &mut *self.task;
        task.failed |= failed;
        (task.mark, task.after, task.pending) = (end, TaskWait::Blocked, false);
    }

    /// Ends a segment that returned `Pending`: the task waits for its input, or for room
    /// for its output if the body said its output was full. The caller then forgets it.
    #[inline]
    fn pend(&mut self) {
        let thread = this_thread();
        let end = self.segment.exit(thread);
        self.return_step();
        let task = &mut *self.task;
        let after = if thread.take_output_full(task.series) {
            TaskWait::Blocked
        } else {
            TaskWait::Starved
        };
        (task.mark, task.after, task.pending) = (end, after, true);
    }

    /// Ends a segment that handed nothing out and did not wait (the end of an iterator).
    /// The caller then forgets it.
    #[inline]
    fn close(&mut self) {
        self.task.mark = self.segment.exit(this_thread());
        self.return_step();
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.close();
        if std::thread::panicking() {
            self.task.panicked = true;
        }
    }
}
