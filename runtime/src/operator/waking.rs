//! The waker an async operator's future or stream is polled with: it notes when it was
//! woken, then wakes the task's own waker, so that the time from the wake to the next
//! poll (queued: ready, waiting for the executor) is told apart from the time before the
//! wake (waiting for input or for room for the output).
//!
//! Per poll this is one comparison (`Waker::will_wake`, the task's waker is nearly always
//! the one of the previous poll) and one load; a wake adds a clock read and a
//! compare-and-swap. One allocation per task, at its first poll.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Wake, Waker};

use crate::operator::clock::ticks;

/// What a wake leaves behind: when, and whom to wake.
#[derive(Debug)]
struct Stamp {
    /// The first wake since the last poll, in ticks; 0 when none.
    woken: AtomicU64,
    /// The task's own waker, which the wake is passed on to.
    outer: Mutex<Waker>,
}

impl Wake for Stamp {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let _ = self
            .woken
            .compare_exchange(0, ticks().max(1), Relaxed, Relaxed);
        // Cloned out rather than woken under the lock: an executor that polls the task
        // right inside `wake` would otherwise find the lock taken.
        let outer = self
            .outer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        outer.wake();
    }
}

/// The waker of one async operator task, for its polls.
#[derive(Debug)]
pub(crate) struct WakeHook {
    stamp: Arc<Stamp>,
    /// The waker handed to the operator's body: wakes `stamp`.
    ours: Waker,
    /// The task's waker as of the last poll (the one `stamp` wakes).
    outer: Waker,
}

impl WakeHook {
    /// A hook passing wakes on to `outer`.
    pub(crate) fn new(outer: &Waker) -> WakeHook {
        let stamp = Arc::new(Stamp {
            woken: AtomicU64::new(0),
            outer: Mutex::new(outer.clone()),
        });
        WakeHook {
            ours: Waker::from(stamp.clone()),
            stamp,
            outer: outer.clone(),
        }
    }

    /// The waker to poll the body with, passing wakes on to `outer` (this poll's).
    #[inline]
    pub(crate) fn waker(&mut self, outer: &Waker) -> &Waker {
        if !self.outer.will_wake(outer) {
            self.follow(outer);
        }
        &self.ours
    }

    #[cold]
    fn follow(&mut self, outer: &Waker) {
        self.outer = outer.clone();
        *self
            .stamp
            .outer
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = outer.clone();
    }

    /// When the body's waker was first woken since the last call, in ticks (0: it was
    /// not), and starts over.
    #[inline]
    pub(crate) fn take_woken(&self) -> u64 {
        match self.stamp.woken.load(Relaxed) {
            0 => 0,
            _ => self.stamp.woken.swap(0, Relaxed),
        }
    }
}
