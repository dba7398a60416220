//! The step calls running now in the process, for operators that run where no step is
//! current: a task spawned on an engine's thread pool, a worker thread. Such an operator
//! is filed under the latest step call still running — right whenever one run is active
//! at a time, as in a batch job or one query at a time; with several runs at once, the
//! work a step hands to other threads itself carries its step (a streaming or async
//! operator created in a step keeps it), and the rest goes to the latest.
//!
//! A step starts and ends under a lock here (steps are milliseconds and up); an operator
//! call with no step on its thread reads one atomic.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use crate::counters::step_slot::StepCall;

/// Every step call running, in no order.
static RUNNING: Mutex<Vec<StepCall>> = Mutex::new(Vec::new());
/// The latest of them (the largest), or [`StepCall::NONE`].
static LATEST: AtomicU64 = AtomicU64::new(0);

fn running() -> std::sync::MutexGuard<'static, Vec<StepCall>> {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A step call started.
pub(crate) fn started(call: StepCall) {
    if call == StepCall::NONE {
        return;
    }
    let mut running = running();
    running.push(call);
    publish(&running);
}

/// A step call ended.
pub(crate) fn ended(call: StepCall) {
    if call == StepCall::NONE {
        return;
    }
    let mut running = running();
    if let Some(at) = running.iter().position(|&other| other == call) {
        running.swap_remove(at);
    }
    publish(&running);
}

fn publish(running: &[StepCall]) {
    let latest = running.iter().copied().max().unwrap_or(StepCall::NONE);
    LATEST.store(latest.to_bits(), Relaxed);
}

/// The latest step call still running in the process, or [`StepCall::NONE`].
#[inline]
pub(crate) fn latest() -> StepCall {
    StepCall::from_bits(LATEST.load(Relaxed))
}

#[cfg(test)]
mod tests {
    use super::{ended, latest, started};
    use crate::counters::step_slot::{StepCall, StepId};

    #[test]
    fn the_latest_running_call_is_the_fallback() {
        // Other tests in this binary start no steps through this module.
        let first = StepCall::new(1_000_001, StepId::new(3).unwrap());
        let second = StepCall::new(1_000_002, StepId::new(4).unwrap());
        started(first);
        started(second);
        assert_eq!(latest(), second);
        ended(second);
        assert_eq!(latest(), first);
        ended(first);
        // Steps of other tests, if any run now, started earlier (smaller numbers).
        assert!(latest() < first);
    }
}
