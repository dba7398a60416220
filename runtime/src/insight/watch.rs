//! The watcher: a thread that takes a snapshot every [`Thresholds::check_every`] while
//! telemetry counts, so that the diagnoses (`insight::diagnoses`) fire — and send their
//! log record — even when nothing else looks, and a stall is seen while it lasts. It
//! takes one more when telemetry stops, before the signals shut down, so that what the
//! run ended with is logged and exported.
//!
//! A snapshot of a large engine (tens of thousands of series on tens of threads) takes
//! hundreds of milliseconds of CPU; the watcher never spends more than [`MAX_CPU_SHARE`]
//! of one core on it: after a snapshot that took `t`, it waits at least `t ÷
//! MAX_CPU_SHARE`.
//!
//! [`Thresholds::check_every`]: crate::Thresholds::check_every

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::insight::snapshot::snapshot;

/// The most of one core the watcher's snapshots take (1 %).
pub(crate) const MAX_CPU_SHARE: f64 = 0.01;

/// The running watcher.
pub(crate) struct Watch {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Watch {
    /// Starts looking every `every`; `None` if the thread cannot start (then the
    /// diagnoses fire only when a snapshot is taken).
    pub(crate) fn start(every: Duration) -> Option<Watch> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("pipetel-watch".into())
            .spawn(move || {
                let (stopped, wake) = &*thread_stop;
                let mut done = stopped.lock().unwrap_or_else(PoisonError::into_inner);
                let mut pause = every;
                // Always one snapshot after the stop is seen, even when the thread first
                // runs after it (a short program on a loaded machine).
                loop {
                    if !*done {
                        done = wake
                            .wait_timeout(done, pause)
                            .map(|(guard, _)| guard)
                            .unwrap_or_else(|poisoned| poisoned.into_inner().0);
                    }
                    let started = Instant::now();
                    let _ = snapshot();
                    if *done {
                        break;
                    }
                    pause = every.max(started.elapsed().div_f64(MAX_CPU_SHARE));
                }
            })
            .ok()?;
        Some(Watch {
            stop,
            thread: Some(thread),
        })
    }

    /// Looks one last time and stops.
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

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop_thread();
    }
}
