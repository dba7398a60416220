//! The latest runs one by one — each with its steps, status, rows and error — for the
//! dashboard and the HTML report, which show runs as a list where the snapshot has
//! totals per pipeline.
//!
//! Bounded whatever the process does: the [`RECENT_RUNS`] latest runs are kept (older
//! ones roll off, and [`RunHistory::rolled_off`] says how many did), each with its first
//! [`RUN_STEPS`] step calls, and an error message is cut at [`ERROR_CHARS`] characters.
//! A run and each of its steps touch the history once at their start and once at their
//! end, under one lock, with no allocation (names are the `'static` ones of the code):
//! runs and steps are coarse, never per row or per call.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::counters::lanes::RunId;
use crate::pipeline::error_report::ErrorReport;

/// Runs the history keeps; older runs roll off.
pub const RECENT_RUNS: usize = 50;
/// Step calls kept per run; later ones are counted in [`RunRecord::steps_left_out`].
pub const RUN_STEPS: usize = 100;
/// Characters of an error message kept.
pub const ERROR_CHARS: usize = 500;

/// How a run or step call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Still running.
    Running,
    /// Returned successfully.
    Succeeded,
    /// Returned an error, panicked or was cancelled.
    Failed,
}

/// One run, as the history keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunRecord {
    /// The run's number in this process, from 1.
    pub number: u64,
    /// The run's id, for its view ([`RunId::snapshot`](crate::RunId::snapshot)), when it counted apart (see
    /// [`MAX_LANES`](crate::limits::MAX_LANES)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RunId>,
    /// The pipeline's name.
    pub pipeline: Cow<'static, str>,
    /// The run span's trace id (32 hex digits), when traces are recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// When it started.
    pub started: SystemTime,
    /// How long it took; while it runs, how long it has run so far (at the read).
    pub time: Duration,
    /// How it stands.
    pub status: Status,
    /// Its error, as `type: message`, cut at [`ERROR_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Rows its steps produced.
    pub rows: u64,
    /// Its first [`RUN_STEPS`] step calls, in the order they started.
    pub steps: Vec<StepRecord>,
    /// Step calls past [`RUN_STEPS`], not kept.
    pub steps_left_out: u64,
}

/// One step call of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StepRecord {
    /// The step's name.
    pub step: Cow<'static, str>,
    /// When it started.
    pub started: SystemTime,
    /// How long it took (so far, while it runs).
    pub time: Duration,
    /// How it stands.
    pub status: Status,
    /// Its error, as `type: message`, cut at [`ERROR_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Rows it returned.
    pub rows: u64,
}

/// The latest runs, oldest first.
///
/// ```
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
///
/// #[derive(pipetel::Pipeline)]
/// struct Nightly;
///
/// impl Nightly {
///     #[pipetel::pipeline_step]
///     fn load(&self) -> Result<Vec<u8>, String> {
///         Ok(vec![1, 2, 3])
///     }
/// }
///
/// use pipetel::Pipeline as _;
/// Nightly.run(|nightly| nightly.load()).unwrap();
/// let history = pipetel::history::run_history();
/// let run = history.runs.last().expect("a run");
/// assert_eq!((&*run.pipeline, run.status), ("nightly", pipetel::history::Status::Succeeded));
/// assert_eq!((&*run.steps[0].step, run.steps[0].rows), ("load", 3));
/// # drop(telemetry);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunHistory {
    /// At most [`RECENT_RUNS`] runs, oldest first.
    pub runs: Vec<RunRecord>,
    /// Runs that rolled off, older than those kept.
    pub rolled_off: u64,
}

/// The latest runs of the process: at most [`RECENT_RUNS`], oldest first, with their
/// steps. Empty while telemetry is off.
pub fn run_history() -> RunHistory {
    let history = HISTORY.lock().unwrap_or_else(PoisonError::into_inner);
    let now = SystemTime::now();
    let so_far = |started: SystemTime| now.duration_since(started).unwrap_or_default();
    RunHistory {
        runs: history
            .runs
            .iter()
            .map(|run| {
                let mut run = run.clone();
                if run.status == Status::Running {
                    run.time = so_far(run.started);
                }
                for step in &mut run.steps {
                    if step.status == Status::Running {
                        step.time = so_far(step.started);
                    }
                }
                run
            })
            .collect(),
        rolled_off: history.rolled_off,
    }
}

struct History {
    runs: VecDeque<RunRecord>,
    rolled_off: u64,
    numbered: u64,
}

static HISTORY: Mutex<History> = Mutex::new(History {
    runs: VecDeque::new(),
    rolled_off: 0,
    numbered: 0,
});

fn with_history<R>(change: impl FnOnce(&mut History) -> R) -> R {
    change(&mut HISTORY.lock().unwrap_or_else(PoisonError::into_inner))
}

/// The run numbered `number`, if still kept.
fn run_mut(history: &mut History, number: u64) -> Option<&mut RunRecord> {
    // Runs are numbered in the order they are kept: the place follows from the number.
    let first = history.runs.front()?.number;
    let place = usize::try_from(number.checked_sub(first)?).ok()?;
    history.runs.get_mut(place)
}

/// `error` as one line: `type: message`, cut at [`ERROR_CHARS`] characters.
fn error_line(error: &ErrorReport) -> String {
    let line = format!("{}: {}", error.error_type, error.message);
    match line.char_indices().nth(ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

fn outcome(error: Option<&ErrorReport>) -> (Status, Option<String>) {
    match error {
        Some(error) => (Status::Failed, Some(error_line(error))),
        None => (Status::Succeeded, None),
    }
}

/// Records that a run of `pipeline` started; returns its number.
pub(crate) fn run_started(
    pipeline: &'static str,
    id: Option<RunId>,
    trace_id: Option<String>,
) -> u64 {
    with_history(|history| {
        history.numbered += 1;
        if history.runs.len() == RECENT_RUNS {
            history.runs.pop_front();
            history.rolled_off += 1;
        }
        history.runs.push_back(RunRecord {
            number: history.numbered,
            id,
            pipeline: Cow::Borrowed(pipeline),
            trace_id,
            started: SystemTime::now(),
            time: Duration::ZERO,
            status: Status::Running,
            error: None,
            rows: 0,
            steps: Vec::new(),
            steps_left_out: 0,
        });
        history.numbered
    })
}

/// Records that run `number` ended after `time`, with `rows` and `error`.
pub(crate) fn run_ended(number: u64, time: Duration, rows: u64, error: Option<&ErrorReport>) {
    with_history(|history| {
        if let Some(run) = run_mut(history, number) {
            (run.status, run.error) = outcome(error);
            (run.time, run.rows) = (time, rows);
        }
    });
}

/// Records that a call of step `step` started in run `run`; returns its place among
/// the run's steps, `None` when not kept.
pub(crate) fn step_started(run: u64, step: &'static str) -> Option<usize> {
    with_history(|history| {
        let run = run_mut(history, run)?;
        if run.steps.len() == RUN_STEPS {
            run.steps_left_out += 1;
            return None;
        }
        run.steps.push(StepRecord {
            step: Cow::Borrowed(step),
            started: SystemTime::now(),
            time: Duration::ZERO,
            status: Status::Running,
            error: None,
            rows: 0,
        });
        Some(run.steps.len() - 1)
    })
}

/// Records that step call `place` of run `run` ended after `time`.
pub(crate) fn step_ended(
    run: u64,
    place: usize,
    time: Duration,
    rows: u64,
    error: Option<&ErrorReport>,
) {
    with_history(|history| {
        if let Some(step) = run_mut(history, run).and_then(|run| run.steps.get_mut(place)) {
            (step.status, step.error) = outcome(error);
            (step.time, step.rows) = (time, rows);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the history is process-wide.
    #[test]
    fn the_history_keeps_the_latest_runs_their_steps_and_cut_errors() {
        let first = run_started("old", None, None);
        for _ in 0..RECENT_RUNS {
            run_started("filler", None, None);
        }
        assert!(run_mut(&mut HISTORY.lock().unwrap(), first).is_none());
        let run = run_started("nightly", None, Some("ab".repeat(16)));
        for n in 0..RUN_STEPS + 3 {
            if let Some(place) = step_started(run, "load") {
                step_ended(run, place, Duration::from_millis(5), n as u64, None);
            }
        }
        let long = ErrorReport::other("io", &"x".repeat(2 * ERROR_CHARS));
        run_ended(run, Duration::from_secs(1), 7, Some(&long));
        // A run that rolled off, ended late: nothing to update, no panic.
        run_ended(first, Duration::from_secs(1), 7, None);

        let history = run_history();
        assert_eq!(history.runs.len(), RECENT_RUNS);
        assert!(history.rolled_off >= 2, "{}", history.rolled_off);
        let kept = history.runs.last().unwrap();
        assert_eq!(
            (kept.number, kept.status, kept.rows),
            (run, Status::Failed, 7)
        );
        assert_eq!((kept.steps.len(), kept.steps_left_out), (RUN_STEPS, 3));
        assert_eq!(kept.steps[4].rows, 4);
        let error = kept.error.as_deref().unwrap();
        assert!(error.starts_with("io: xxx") && error.ends_with('…'));
        assert_eq!(error.chars().count(), ERROR_CHARS + 1);
        // Still running: its time so far.
        let running = history.runs[history.runs.len() - 2].clone();
        assert_eq!(running.status, Status::Running);
    }
}
