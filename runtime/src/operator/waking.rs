//! The waker an async operator's future or stream is polled with: it notes when it was
//! woken, then wakes the task's own waker, so that the time from the wake to the next
//! poll (queued: ready, waiting for the executor) is told apart from the time before the
//! wake (waiting for input or for room for the output).
//!
//! The task's own waker is fixed in a [`Stamp`]: a wake is a load, a store and the task
//! waker's `wake_by_ref`, with no lock; the clock is read only for a wake from outside
//! the poll (a wake during the poll — a yield, a wake by the body itself — is marked as
//! such, and its whole gap is queued). When a poll comes with another task waker (the
//! task moved), a new stamp replaces the old one: the body gets a new waker, and the
//! `Future` contract has it use the latest. Per poll: a `Waker::will_wake` comparison, two
//! stores of the "polling" flag and a load (a store after a wake). One allocation per
//! task, at its first poll, and one per change of task waker.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Wake, Waker};

use crate::operator::clock::ticks;

/// A wake that came while the body was being polled: all the gap after it is queued.
pub(crate) const WOKEN_WHILE_POLLED: u64 = 1;

/// What a wake leaves behind, and whom it wakes.
#[derive(Debug)]
struct Stamp {
    /// The first wake since the last poll began, in ticks; [`WOKEN_WHILE_POLLED`] for a
    /// wake during the poll; 0 when none.
    woken: AtomicU64,
    /// The body is being polled now.
    polling: AtomicBool,
    /// The task's own waker, which the wake is passed on to.
    outer: Waker,
}

impl Wake for Stamp {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // The first wake since the poll is the one that counts. Two wakes racing here may
        // both store: either is a wake's time.
        if self.woken.load(Relaxed) == 0 {
            let at = if self.polling.load(Relaxed) {
                WOKEN_WHILE_POLLED
            } else {
                ticks().max(WOKEN_WHILE_POLLED + 1)
            };
            self.woken.store(at, Relaxed);
        }
        self.outer.wake_by_ref();
    }
}

/// The waker of one async operator task, for its polls.
#[derive(Debug)]
pub(crate) struct WakeHook {
    stamp: Arc<Stamp>,
    /// The waker handed to the operator's body: wakes `stamp`.
    ours: Waker,
}

impl WakeHook {
    /// A hook passing wakes on to `outer`.
    pub(crate) fn new(outer: &Waker) -> WakeHook {
        let stamp = Arc::new(Stamp {
            woken: AtomicU64::new(0),
            polling: AtomicBool::new(false),
            outer: outer.clone(),
        });
        WakeHook {
            ours: Waker::from(stamp.clone()),
            stamp,
        }
    }

    /// Starts a poll with the task's waker `outer`: returns when the body's waker was
    /// first woken since the previous poll began (0: not; [`WOKEN_WHILE_POLLED`]: during
    /// it) and the waker to poll the body with.
    #[inline]
    pub(crate) fn begin_poll(&mut self, outer: &Waker) -> (u64, &Waker) {
        if !self.stamp.outer.will_wake(outer) {
            *self = WakeHook::new(outer);
        }
        let stamp = &self.stamp;
        let woken = stamp.woken.load(Relaxed);
        if woken != 0 {
            stamp.woken.store(0, Relaxed);
        }
        stamp.polling.store(true, Relaxed);
        (woken, &self.ours)
    }

    /// Ends the poll begun by [`begin_poll`](Self::begin_poll).
    #[inline]
    pub(crate) fn end_poll(&self) {
        self.stamp.polling.store(false, Relaxed);
    }
}
