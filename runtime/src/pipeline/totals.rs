//! Run and step statistics kept in the process for the snapshot and the report: calls,
//! failures, time and rows per run of a pipeline and per step. Recorded once per run or
//! step end (coarse), under a lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use crate::counters::step_slot::{StepCall, StepId};

/// What was seen of one step of one pipeline.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepTotals {
    pub(crate) pipeline: Option<&'static str>,
    pub(crate) step: &'static str,
    pub(crate) calls: u64,
    pub(crate) failed: u64,
    pub(crate) active: u64,
    pub(crate) time: Duration,
    pub(crate) rows: u64,
}

/// What was seen of the runs of one pipeline.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunTotals {
    pub(crate) pipeline: &'static str,
    pub(crate) runs: u64,
    pub(crate) failed: u64,
    pub(crate) active: u64,
    pub(crate) time: Duration,
    pub(crate) rows: u64,
}

#[derive(Default)]
struct Stats {
    steps: Vec<StepTotals>,
    step_ids: HashMap<(Option<&'static str>, &'static str), StepId>,
    runs: Vec<RunTotals>,
}

static STATS: LazyLock<Mutex<Stats>> = LazyLock::new(Mutex::default);

fn stats() -> std::sync::MutexGuard<'static, Stats> {
    STATS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Numbers step calls in the order they start, from 1.
static STEP_CALLS: AtomicU64 = AtomicU64::new(1);

/// A new call of `step` in `pipeline` (numbered on first sight), counted as started;
/// [`StepCall::NONE`] past [`StepId::MAX`] distinct steps, which are not counted.
pub(crate) fn step_started(pipeline: Option<&'static str>, step: &'static str) -> StepCall {
    let mut stats = stats();
    let id = match stats.step_ids.get(&(pipeline, step)) {
        Some(&id) => id,
        None => {
            let Some(id) = StepId::new(stats.steps.len()) else {
                return StepCall::NONE;
            };
            stats.step_ids.insert((pipeline, step), id);
            stats.steps.push(StepTotals {
                pipeline,
                step,
                ..StepTotals::default()
            });
            id
        }
    };
    stats.steps[id.index()].active += 1;
    StepCall::new(STEP_CALLS.fetch_add(1, Relaxed), id)
}

/// Records the end of `call`.
pub(crate) fn step_ended(call: StepCall, time: Duration, rows: u64, failed: bool) {
    let Some(id) = call.step() else {
        return;
    };
    if let Some(step) = stats().steps.get_mut(id.index()) {
        step.active = step.active.saturating_sub(1);
        step.calls += 1;
        step.failed += u64::from(failed);
        step.time += time;
        step.rows += rows;
    }
}

/// Counts a run of `pipeline` as started.
pub(crate) fn run_started(pipeline: &'static str) {
    let mut stats = stats();
    match stats.runs.iter_mut().find(|run| run.pipeline == pipeline) {
        Some(run) => run.active += 1,
        None => stats.runs.push(RunTotals {
            pipeline,
            active: 1,
            ..RunTotals::default()
        }),
    }
}

/// Records the end of a run of `pipeline`.
pub(crate) fn run_ended(pipeline: &'static str, time: Duration, rows: u64, failed: bool) {
    if let Some(run) = stats().runs.iter_mut().find(|run| run.pipeline == pipeline) {
        run.active = run.active.saturating_sub(1);
        run.runs += 1;
        run.failed += u64::from(failed);
        run.time += time;
        run.rows += rows;
    }
}

/// Every step and run seen so far.
pub(crate) fn totals() -> (Vec<StepTotals>, Vec<RunTotals>) {
    let stats = stats();
    (stats.steps.clone(), stats.runs.clone())
}
