//! Run and step statistics kept in the process for the snapshot and the report: calls,
//! failures, time and rows per run of a pipeline and per step. Recorded once per run or
//! step end (coarse), under a lock.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// A step id meaning "no step".
pub(crate) const NO_STEP: u32 = u32::MAX;

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
    step_ids: HashMap<(Option<&'static str>, &'static str), u32>,
    runs: Vec<RunTotals>,
}

static STATS: LazyLock<Mutex<Stats>> = LazyLock::new(Mutex::default);

fn stats() -> std::sync::MutexGuard<'static, Stats> {
    STATS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The id of `step` in `pipeline` (created on first sight), counted as started.
pub(crate) fn step_started(pipeline: Option<&'static str>, step: &'static str) -> u32 {
    let mut stats = stats();
    let next = stats.steps.len() as u32;
    let id = *stats.step_ids.entry((pipeline, step)).or_insert(next);
    if id == next {
        stats.steps.push(StepTotals {
            pipeline,
            step,
            ..StepTotals::default()
        });
    }
    stats.steps[id as usize].active += 1;
    id
}

/// Records the end of a call of step `id`.
pub(crate) fn step_ended(id: u32, time: Duration, rows: u64, failed: bool) {
    if let Some(step) = stats().steps.get_mut(id as usize) {
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
