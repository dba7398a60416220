//! Run and step statistics kept in the process for the snapshot and the report: calls,
//! failures, time and rows per run of a pipeline and per step.
//!
//! A step is resolved to its record once per call site (and again only when the site
//! runs in another pipeline): a call then adds to the record's atomics, with no lock
//! and no lookup. Runs are rarer and coarser, and are counted under a lock.

use std::ptr;
use std::sync::atomic::{
    AtomicPtr, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use crate::counters::running_steps;
use crate::counters::step_slot::{StepCall, StepId};
use crate::operator::clock::ticks_to_nanos;

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

/// The `static` each `#[pipeline_step]` function gets: the step's name, the span
/// attribute its rows go to, and the record of the step in the pipeline it last ran in.
#[doc(hidden)]
#[derive(Debug)]
pub struct StepSite {
    pub(crate) name: &'static str,
    pub(crate) rows_key: &'static str,
    last: AtomicPtr<StepRecord>,
}

impl StepSite {
    /// A step named `name`, whose rows go to the span attribute `rows_key`.
    pub const fn new(name: &'static str, rows_key: &'static str) -> Self {
        StepSite {
            name,
            rows_key,
            last: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// A new call of this step in `pipeline`, counted as started (not counted past
    /// [`StepId::MAX`] distinct steps).
    #[inline]
    pub(crate) fn start(&'static self, pipeline: Option<&'static str>) -> CountedStep {
        // SAFETY: a non-null pointer comes from `Box::leak` in `resolve`, never freed.
        let record = match unsafe { self.last.load(Acquire).as_ref() } {
            Some(record) if same_pipeline(record.pipeline, pipeline) => Some(record),
            _ => self.resolve(pipeline),
        };
        let call = match record {
            Some(record) => {
                record.started.fetch_add(1, Relaxed);
                StepCall::new(STEP_CALLS.fetch_add(1, Relaxed), record.id)
            }
            None => StepCall::NONE,
        };
        running_steps::started(call);
        CountedStep { record, call }
    }

    /// The record of this step in `pipeline`, created on first sight.
    #[cold]
    #[inline(never)]
    fn resolve(&'static self, pipeline: Option<&'static str>) -> Option<&'static StepRecord> {
        let mut steps = lock(&STEPS);
        let found = steps
            .iter()
            .find(|record| record.step == self.name && record.pipeline == pipeline)
            .copied();
        let record = match found {
            Some(record) => record,
            None => {
                let record: &'static StepRecord = Box::leak(Box::new(StepRecord {
                    pipeline,
                    step: self.name,
                    id: StepId::new(steps.len())?,
                    started: AtomicU64::new(0),
                    ended: AtomicU64::new(0),
                    failed: AtomicU64::new(0),
                    ticks: AtomicU64::new(0),
                    rows: AtomicU64::new(0),
                }));
                steps.push(record);
                record
            }
        };
        self.last.store(ptr::from_ref(record).cast_mut(), Release);
        Some(record)
    }
}

/// Whether two pipeline names are the same (the same literal, almost always).
#[inline]
fn same_pipeline(a: Option<&'static str>, b: Option<&'static str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => ptr::eq(a, b) || a == b,
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// One step of one pipeline (or outside any run), numbered by [`StepId`] in the order
/// first seen. Never freed: a process has a bounded number of distinct steps.
#[derive(Debug)]
struct StepRecord {
    pipeline: Option<&'static str>,
    step: &'static str,
    id: StepId,
    started: AtomicU64,
    ended: AtomicU64,
    failed: AtomicU64,
    /// Time inside the step's calls, in raw clock ticks.
    ticks: AtomicU64,
    rows: AtomicU64,
}

/// Every step seen, by [`StepId`].
static STEPS: Mutex<Vec<&'static StepRecord>> = Mutex::new(Vec::new());

/// Numbers step calls in the order they start, from 1.
static STEP_CALLS: AtomicU64 = AtomicU64::new(1);

/// One call of a step, counted as started.
#[derive(Debug)]
pub(crate) struct CountedStep {
    record: Option<&'static StepRecord>,
    /// The call, for the operators it runs to be filed under.
    pub(crate) call: StepCall,
}

impl CountedStep {
    /// Counts the end of the call, which took `ticks` and produced `rows`.
    pub(crate) fn end(&self, ticks: u64, rows: u64, failed: bool) {
        running_steps::ended(self.call);
        if let Some(record) = self.record {
            record.ended.fetch_add(1, Relaxed);
            record.failed.fetch_add(u64::from(failed), Relaxed);
            record.ticks.fetch_add(ticks, Relaxed);
            record.rows.fetch_add(rows, Relaxed);
        }
    }
}

#[derive(Default)]
struct Runs(Vec<RunTotals>);

static RUNS: LazyLock<Mutex<Runs>> = LazyLock::new(Mutex::default);

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts a run of `pipeline` as started.
pub(crate) fn run_started(pipeline: &'static str) {
    let mut runs = lock(&RUNS);
    match runs.0.iter_mut().find(|run| run.pipeline == pipeline) {
        Some(run) => run.active += 1,
        None => runs.0.push(RunTotals {
            pipeline,
            active: 1,
            ..RunTotals::default()
        }),
    }
}

/// Records the end of a run of `pipeline`.
pub(crate) fn run_ended(pipeline: &'static str, time: Duration, rows: u64, failed: bool) {
    if let Some(run) = lock(&RUNS)
        .0
        .iter_mut()
        .find(|run| run.pipeline == pipeline)
    {
        run.active = run.active.saturating_sub(1);
        run.runs += 1;
        run.failed += u64::from(failed);
        run.time += time;
        run.rows += rows;
    }
}

/// Every step and run seen so far.
pub(crate) fn totals() -> (Vec<StepTotals>, Vec<RunTotals>) {
    let steps = lock(&STEPS)
        .iter()
        .map(|record| {
            // The ends first: a call that starts and ends between the reads then counts
            // in neither, rather than as ended and not started.
            let ended = record.ended.load(Relaxed);
            StepTotals {
                pipeline: record.pipeline,
                step: record.step,
                calls: ended,
                failed: record.failed.load(Relaxed),
                active: record.started.load(Relaxed).saturating_sub(ended),
                time: Duration::from_nanos(ticks_to_nanos(record.ticks.load(Relaxed))),
                rows: record.rows.load(Relaxed),
            }
        })
        .collect();
    (steps, lock(&RUNS).0.clone())
}

#[cfg(test)]
mod tests {
    use super::{totals, StepSite};

    static LOAD: StepSite = StepSite::new("totals_test_load", "totals_test_load.rows");

    #[test]
    fn a_step_site_counts_each_pipeline_it_runs_in_apart() {
        for pipeline in [Some("nightly"), Some("hourly"), Some("nightly"), None] {
            let call = LOAD.start(pipeline);
            assert!(call.call.step().is_some());
            call.end(0, 10, pipeline.is_none());
        }
        let (steps, _) = totals();
        let of = |pipeline: Option<&str>| {
            steps
                .iter()
                .find(|step| step.step == "totals_test_load" && step.pipeline == pipeline)
                .map(|step| (step.calls, step.rows, step.failed, step.active))
        };
        assert_eq!(of(Some("nightly")), Some((2, 20, 0, 0)));
        assert_eq!(of(Some("hourly")), Some((1, 10, 0, 0)));
        assert_eq!(of(None), Some((1, 10, 1, 0)));
    }
}
