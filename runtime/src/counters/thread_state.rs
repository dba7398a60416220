//! The per-thread state every operator call touches: the thread's [`Shard`], the
//! operator running now on this thread, the step call and the lane (the run counting
//! apart) running now, and the busy ticks of the segments nested in the current one.
//!
//! It needs no destructor, so reaching it is one thread-local address computation, with
//! no check that the thread is still alive. Giving the shard back when the thread exits
//! is the job of a second thread-local, registered once, when the shard is adopted.

use std::cell::Cell;
use std::ptr;

use crate::counters::cells::Cells;
use crate::counters::lanes::{Lane, NO_LANE};
use crate::counters::links::{channel_link, Endpoint, NO_LINK};
use crate::counters::registry;
use crate::counters::shards::Shard;
use crate::counters::step_slot::StepCall;

/// The operator running on a thread: its cells there, and its series id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Current {
    pub(crate) cells: *const Cells,
    pub(crate) series: u32,
}

impl Current {
    pub(crate) const NONE: Current = Current {
        cells: ptr::null(),
        series: registry::NO_SERIES,
    };

    /// No operator runs, and a batch received from a pipetel channel outside any
    /// operator waits for the next operator to start on the thread, which receives it
    /// ([`ThreadState::hand_received_to`]).
    pub(crate) const RECEIVED: Current = Current {
        cells: ptr::null(),
        series: Current::RECEIVED_MARK,
    };

    /// Series ids from this one up are not operators (they are marks).
    pub(crate) const FIRST_MARK: u32 = 1 << 31;
    pub(crate) const RECEIVED_MARK: u32 = u32::MAX - 1;
}

/// A batch received from a pipetel channel outside any operator: which channel link it
/// was counted on, and its rows and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingReceive {
    pub(crate) channel: u32,
    pub(crate) link: u32,
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
}

/// What a thread keeps for the operator calls it runs.
pub(crate) struct ThreadState {
    shard: Cell<Option<&'static Shard>>,
    current: Cell<Current>,
    /// The step call running now on this thread.
    current_step: Cell<StepCall>,
    /// The lane of the run running now on this thread ([`NO_LANE`]: none).
    lane: Cell<Lane>,
    /// Which series counts a call of a canonical series in a lane: (series << 16 | lane,
    /// series in the lane), by the series' low bits. A key is never 0 (a lane is not).
    lane_series: [Cell<(u64, u32)>; LANE_CACHE],
    /// Busy ticks of the operator segments that ran inside the current one (nested
    /// operators), which the current one leaves out of its own busy time.
    nested_ticks: Cell<u64>,
    /// The series that last handed out rows on this thread: the sender of what a
    /// channel sends outside any operator.
    last_output: Cell<u32>,
    /// A batch received outside any operator, for the next operator to start (valid
    /// while `current` is [`Current::RECEIVED`]).
    pending_receive: Cell<PendingReceive>,
    /// The series whose poll found its output full (a send on a full channel returned
    /// `Pending`): when that poll returns `Pending`, the task waits blocked rather than
    /// starved. Any other series leaves it alone.
    output_full: Cell<u32>,
}

/// How many (series, lane) pairs a thread remembers without asking the registry.
const LANE_CACHE: usize = 16;

/// The key a thread remembers a (series, lane) pair by: never 0 (a lane is not).
#[inline(always)]
fn lane_key(series: u32, lane: Lane) -> u64 {
    u64::from(series) << 16 | u64::from(lane)
}

thread_local! {
    static THREAD: ThreadState = const {
        ThreadState {
            shard: Cell::new(None),
            current: Cell::new(Current::NONE),
            current_step: Cell::new(StepCall::NONE),
            lane: Cell::new(NO_LANE),
            lane_series: [const { Cell::new((0, 0)) }; LANE_CACHE],
            nested_ticks: Cell::new(0),
            last_output: Cell::new(registry::NO_SERIES),
            pending_receive: Cell::new(PendingReceive {
                channel: 0,
                link: 0,
                rows: 0,
                bytes: 0,
            }),
            output_full: Cell::new(registry::NO_SERIES),
        }
    };
    /// Owns the thread's shard while the thread lives: gives it back at thread exit.
    static SHARD_OWNER: ShardOwner = const { ShardOwner };
}

/// The calling thread's state.
///
/// `'static` because the thread-local has no destructor: its storage lasts as long as
/// the thread, and the reference cannot leave the thread (`ThreadState` is not `Sync`,
/// so `&ThreadState` is not `Send`). A plain function rather than `THREAD.with(closure)`
/// so that the hot path is inlined whatever the size of the code using it.
#[inline(always)]
pub(crate) fn this_thread() -> &'static ThreadState {
    // SAFETY: see above; the pointer comes from the thread-local's `with`.
    THREAD.with(|thread| unsafe { &*ptr::from_ref(thread) })
}

/// Gives the thread's shard back when the thread exits (its counts stay).
struct ShardOwner;

impl Drop for ShardOwner {
    fn drop(&mut self) {
        // Operators that run later on this thread (in other thread-locals' destructors)
        // adopt a new shard, which is never given back: a bounded leak, once per such
        // thread.
        let _ = THREAD.try_with(|thread| {
            if let Some(shard) = thread.shard.take() {
                shard.release();
            }
        });
    }
}

impl ThreadState {
    /// This thread's shard, adopted on first use.
    #[inline]
    pub(crate) fn shard(&self) -> &'static Shard {
        match self.shard.get() {
            Some(shard) => shard,
            None => self.adopt(),
        }
    }

    /// This thread's shard if it adopted one: no call.
    #[inline(always)]
    pub(crate) fn shard_if_adopted(&self) -> Option<&'static Shard> {
        self.shard.get()
    }

    #[cold]
    #[inline(never)]
    fn adopt(&self) -> &'static Shard {
        let shard = Shard::adopt();
        self.shard.set(Some(shard));
        // Touching the owner registers its destructor (a no-op once the thread exits).
        let _ = SHARD_OWNER.try_with(|_| ());
        shard
    }

    /// This thread's cells of `series` if it has a shard and they are allocated: no
    /// allocation, no call.
    #[inline(always)]
    pub(crate) fn cells_if_ready(&self, series: u32) -> Option<&'static Cells> {
        self.shard.get()?.cells_if_grown(series)
    }

    /// This thread's cells of `series`.
    #[inline]
    pub(crate) fn cells(&self, series: u32) -> &'static Cells {
        self.shard().cells(series)
    }

    /// Makes `current` the current operator and returns the one it replaces.
    #[inline]
    pub(crate) fn swap_current(&self, current: Current) -> Current {
        self.current.replace(current)
    }

    /// Starts counting the ticks of segments nested in a new one; returns the count of
    /// the enclosing segment, to hand back to [`end_nested`](Self::end_nested).
    #[inline]
    pub(crate) fn begin_nested(&self) -> u64 {
        self.nested_ticks.replace(0)
    }

    /// Ends a segment that took `total` ticks: returns the ticks of the segments nested
    /// in it, and adds `total` to the enclosing segment's count `outer`.
    #[inline]
    pub(crate) fn end_nested(&self, outer: u64, total: u64) -> u64 {
        self.nested_ticks.replace(outer.wrapping_add(total))
    }

    /// Adds `ticks` spent waiting (on a channel) to the current segment's nested ticks:
    /// not its busy time.
    #[inline]
    pub(crate) fn add_waited(&self, ticks: u64) {
        self.nested_ticks
            .set(self.nested_ticks.get().wrapping_add(ticks));
    }

    /// Notes that the current operator's output is full (a send would wait).
    #[cfg(feature = "tokio")]
    #[inline]
    pub(crate) fn note_output_full(&self) {
        self.output_full.set(self.current().series);
    }

    /// Whether `series`' output was found full since the last ask, and forgets it.
    #[inline]
    pub(crate) fn take_output_full(&self, series: u32) -> bool {
        let full = self.output_full.get() == series;
        if full {
            self.output_full.set(registry::NO_SERIES);
        }
        full
    }

    /// Makes `step` the step running on this thread and returns the one it replaces.
    #[inline]
    pub(crate) fn swap_step(&self, step: StepCall) -> StepCall {
        self.current_step.replace(step)
    }

    /// The step running now on this thread.
    #[inline]
    pub(crate) fn current_step(&self) -> StepCall {
        self.current_step.get()
    }

    /// Makes `lane` the lane of the run running on this thread and returns the one it
    /// replaces.
    #[inline]
    pub(crate) fn swap_lane(&self, lane: Lane) -> Lane {
        self.lane.replace(lane)
    }

    /// The lane of the run running now on this thread ([`NO_LANE`]: none).
    #[inline(always)]
    pub(crate) fn lane(&self) -> Lane {
        self.lane.get()
    }

    /// The series a call of `series` counts in on this thread: itself, or in a run's
    /// lane its series there. Out of a lane, one load and a branch.
    #[inline(always)]
    pub(crate) fn series_here(&self, series: u32) -> u32 {
        match self.lane.get() {
            NO_LANE => series,
            lane => self.series_in_lane(series, lane),
        }
    }

    /// The series of `series` in `lane` if this thread remembers it: no call, for a call's
    /// inlined start (a miss takes the cold path, [`series_here`](Self::series_here)).
    #[inline(always)]
    pub(crate) fn remembered_in_lane(&self, series: u32, lane: Lane) -> Option<u32> {
        let key = lane_key(series, lane);
        match self.lane_series[series as usize % LANE_CACHE].get() {
            (found, in_lane) if found == key => Some(in_lane),
            _ => None,
        }
    }

    /// Out of line: a call's inlined start stays as small as out of any run (the
    /// registers its caller saves for it are the same).
    #[cold]
    #[inline(never)]
    fn series_in_lane(&self, series: u32, lane: Lane) -> u32 {
        if let Some(in_lane) = self.remembered_in_lane(series, lane) {
            return in_lane;
        }
        let in_lane = registry::in_lane(series, lane);
        self.lane_series[series as usize % LANE_CACHE].set((lane_key(series, lane), in_lane));
        in_lane
    }

    /// The operator running now on this thread ([`Current::NONE`] when none).
    #[inline]
    pub(crate) fn current(&self) -> Current {
        match self.current.get() {
            current if current.series >= Current::FIRST_MARK => Current::NONE,
            current => current,
        }
    }

    /// Notes that `series` handed out rows on this thread.
    #[inline(always)]
    pub(crate) fn note_output(&self, series: u32) {
        self.last_output.set(series);
    }

    /// The series that last handed out rows on this thread, if any.
    pub(crate) fn last_output(&self) -> u32 {
        self.last_output.get()
    }

    /// Leaves `batch`, received outside any operator (none runs now), for the next
    /// operator to start on this thread.
    pub(crate) fn leave_received(&self, batch: PendingReceive) {
        self.pending_receive.set(batch);
        self.current.set(Current::RECEIVED);
    }

    /// The batch left by [`leave_received`](Self::leave_received).
    pub(crate) fn pending_received(&self) -> PendingReceive {
        self.pending_receive.get()
    }

    /// Hands the batch received outside any operator on this thread to `consumer`, the
    /// operator starting now: the batch moves from the channel's link to the outside to its
    /// link to `consumer`.
    #[cold]
    #[inline(never)]
    pub(crate) fn hand_received_to(&self, consumer: u32) {
        let batch = self.pending_received();
        let to = channel_link(
            Endpoint::Channel(batch.channel),
            Endpoint::Operator(consumer),
        );
        if to != NO_LINK && batch.link != NO_LINK {
            let shard = self.shard();
            shard.link_cells(to).add_batch(batch.rows, batch.bytes);
            shard
                .link_cells(batch.link)
                .remove_batch(batch.rows, batch.bytes);
        }
    }
}
