//! A background thread that does its work every so often (or when woken) until it is
//! stopped, and once more after the stop is seen: what the progress display, the watcher
//! and the reader of ended runs share.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// The most of one core the snapshots of pipetel's background threads take (1 %): the
/// watcher's and the snapshot directory's writer's.
pub(crate) const MAX_CPU_SHARE: f64 = 0.01;

/// The pause after a round that took `took`, for rounds meant every `every`: `every`, or
/// longer when the round took more than [`MAX_CPU_SHARE`] of it (`took ÷ MAX_CPU_SHARE`).
pub(crate) fn pause_after(every: Duration, took: Duration) -> Duration {
    every.max(took.div_f64(MAX_CPU_SHARE))
}

/// A running background thread; [`finish`](Self::finish) (or dropping it) stops it after
/// its last round.
pub(crate) struct Periodic {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Periodic {
    /// Starts thread `name`: after `first`, and then after each pause it returns,
    /// `round(false)`; once stopped, `round(true)` — always, even when the thread first
    /// runs after the stop (a short program on a loaded machine). `None` if the thread
    /// cannot start.
    pub(crate) fn start(
        name: &str,
        first: Duration,
        mut round: impl FnMut(bool) -> Duration + Send + 'static,
    ) -> Option<Periodic> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let (stopped, wake) = &*thread_stop;
                let mut done = stopped.lock().unwrap_or_else(PoisonError::into_inner);
                let mut pause = first;
                loop {
                    if !*done {
                        done = wake
                            .wait_timeout(done, pause)
                            .map(|(guard, _)| guard)
                            .unwrap_or_else(|poisoned| poisoned.into_inner().0);
                    }
                    let last = *done;
                    pause = round(last);
                    if last {
                        break;
                    }
                }
            })
            .ok()?;
        Some(Periodic {
            stop,
            thread: Some(thread),
        })
    }

    /// What wakes the thread for a round now, from any thread.
    pub(crate) fn waker(&self) -> PeriodicWaker {
        PeriodicWaker(self.stop.clone())
    }

    /// Stops the thread after its last round, and waits for it.
    pub(crate) fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// Wakes a [`Periodic`] thread for a round now (a wake while it runs a round is not
/// kept: its next round comes after its pause).
#[derive(Clone)]
pub(crate) struct PeriodicWaker(Arc<(Mutex<bool>, Condvar)>);

impl PeriodicWaker {
    pub(crate) fn wake(&self) {
        self.0 .1.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::pause_after;

    #[test]
    fn a_round_that_took_long_waits_a_hundred_times_as_long() {
        let second = Duration::from_secs(1);
        // Within 1 % of the period: the period.
        assert_eq!(pause_after(second, Duration::from_millis(10)), second);
        assert_eq!(pause_after(second, Duration::ZERO), second);
        // Past it: a hundred times the round, so the rounds stay at 1 % of a core.
        assert_eq!(
            pause_after(second, Duration::from_millis(69)),
            Duration::from_millis(6_900)
        );
    }
}
