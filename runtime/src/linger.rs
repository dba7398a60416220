//! What an endpoint that lingers at exit counts: the requests it answered, and a wait
//! for more of them, bounded in time. The Prometheus endpoint waits for the scrapes of
//! the final counts; the dashboard for a page to fetch the final view.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How many requests an endpoint answered, for a lingering stop to wait on.
#[derive(Default)]
pub(crate) struct Answered {
    served: Mutex<u64>,
    changed: Condvar,
}

impl Answered {
    /// Counts one more answered request.
    #[cfg_attr(
        not(any(feature = "prometheus", feature = "dashboard")),
        allow(dead_code)
    )]
    pub(crate) fn count_one(&self) {
        *self.served.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.changed.notify_all();
    }

    /// Waits until `more` requests were answered, or `longest` passed.
    pub(crate) fn wait_for(&self, more: u64, longest: Duration) {
        let deadline = Instant::now() + longest;
        let mut served = self.served.lock().unwrap_or_else(PoisonError::into_inner);
        let target = *served + more;
        while *served < target {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            served = self
                .changed
                .wait_timeout(served, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}
