//! Lanes: how one run (of a pipeline) or one query (of an engine) counts apart from the
//! others running at the same time, so that each has a view of its own.
//!
//! A run takes a lane for its life. Its operators count into series of their own in that
//! lane — the same labels, other series ids (`registry::in_lane`) — so two runs of one
//! pipeline, or two queries of one plan shape, never add into the same cells. Everything
//! that reads the process's totals (the export, [`snapshot`](crate::snapshot())) adds
//! each lane's series into its canonical one, so the exported series stay one per
//! `(node.type, node.id)`.
//!
//! A lane is held by exactly one run at a time, so what its series counted while the run
//! held it is exactly that run's: the run's view is the lane read now less the lane as
//! read when the run took it. The lane is read once when a run ends and before another
//! takes it (`capture`, the insight layer's job: the view it leaves and the next run's
//! starting point) — never on the calls' path, and at the cost of the lane's own series.
//! A run ends when its last [`LaneLease`] (held by the run, by an engine's plan and the
//! streams it runs) is dropped; that wakes the insight layer's reader thread, which reads
//! the lane once none of the run's calls still runs (tasks it started keep counting into
//! it until they end) and frees it; a run that finds no lane free reads the ended ones
//! itself. Lanes are read soon after their runs end, so runs one after another use a
//! few lanes, and a lane has series only for the operators its runs ran.
//!
//! At most [`MAX_LANES`] runs and queries count apart at once; past it, a run counts for
//! the process only (its view is not kept), with one warning naming the limit.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde::{Deserialize, Serialize};

use crate::counters::step_slot::StepCall;
use crate::warn::warn;

/// A lane number: 1 to [`MAX_LANES`], or [`NO_LANE`].
pub(crate) type Lane = u16;

/// Not in any lane: counts for the process only.
pub(crate) const NO_LANE: Lane = 0;

/// The most runs and queries that count apart at once, each with a view of its own (32).
/// Past it, a new run counts for the process only and has no view, with one warning
/// naming this limit. A lane is reused once its run has ended and its view is kept.
pub const MAX_LANES: usize = 32;

/// One run of a pipeline, or one query of an engine: what
/// [`RunId::snapshot`](crate::RunId::snapshot) and [`Report::of_run`](crate::Report::of_run)
/// give the view of.
///
/// A pipeline's run has one from its start ([`RunId::current`] inside it, and
/// [`RunRecord::id`](crate::history::RunRecord::id) after it); an engine's query has the
/// one of its [`Query`](crate::engine::Query). Numbers are never reused in a process.
///
/// ```
/// use pipetel::{pipeline_step, Pipeline, RunId};
///
/// #[derive(Pipeline)]
/// struct Nightly;
///
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
/// let id = Nightly.run(|_| Ok::<_, String>(RunId::current())).unwrap();
/// assert!(id.is_some());
/// # drop(telemetry);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(u64);

impl RunId {
    /// The number, unique in the process.
    pub fn get(self) -> u64 {
        self.0
    }

    /// A new run's id.
    pub(crate) fn next() -> RunId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        RunId(NEXT.fetch_add(1, Relaxed))
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run {}", self.0)
    }
}

/// What a run that holds a lane is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunPlace {
    pub(crate) id: RunId,
    /// The run or query it started in, if any (a query planned inside a pipeline's run).
    pub(crate) parent: Option<RunId>,
    /// The step call current where it started: where an engine's query files its
    /// operators when they run on threads with no step.
    pub(crate) step: StepCall,
    /// The job spread over processes that the query is a part of, if any.
    pub(crate) job: Option<Arc<str>>,
}

/// One lane's state.
#[derive(Debug, Clone)]
enum LaneState {
    /// Nothing holds it; it was read when its last run ended (or never counted).
    Free,
    /// A run holds it.
    Held(RunPlace),
    /// Its run ended and nothing counts into it any more; not yet read.
    Ended(RunPlace),
}

struct Lanes {
    states: Vec<LaneState>,
    warned: bool,
}

static LANES: Mutex<Lanes> = Mutex::new(Lanes {
    states: Vec::new(),
    warned: false,
});

fn lanes() -> MutexGuard<'static, Lanes> {
    LANES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The run holding each lane (`RunId`'s number; 0: none), read by an engine's operators
/// at each call of theirs: one relaxed load.
static HOLDERS: [AtomicU64; MAX_LANES] = [const { AtomicU64::new(0) }; MAX_LANES];

/// Whether `run` holds `lane` still.
#[inline]
pub(crate) fn holds(lane: Lane, run: RunId) -> bool {
    HOLDERS
        .get(usize::from(lane).wrapping_sub(1))
        .is_some_and(|holder| holder.load(Relaxed) == run.0)
}

/// Reads every ended lane and frees it: registered by the insight layer, which keeps
/// the views (`insight::run_views`). Without it (nothing reads views), ended lanes are
/// freed unread.
static CAPTURE: OnceLock<fn()> = OnceLock::new();

/// Called when a run ends: wakes the thread that reads ended lanes (the insight
/// layer's), so that the read runs off the thread that ended the run.
static ENDED: OnceLock<fn()> = OnceLock::new();

/// Registers what reads ended lanes, and what a run's end wakes.
pub(crate) fn set_capture(capture: fn(), ended: fn()) {
    let _ = CAPTURE.set(capture);
    let _ = ENDED.set(ended);
}

/// Held while something may count into a lane: the run itself, and whatever it started
/// that outlives a call (a stream, a task, an engine's plan). The last one dropped ends
/// the lane's run.
#[derive(Debug)]
pub(crate) struct LaneLease {
    pub(crate) lane: Lane,
    pub(crate) place: RunPlace,
}

impl LaneLease {
    /// Takes a free lane for a new run that started in `parent` at step call `step`, a
    /// part of `job`; `None` when all [`MAX_LANES`] are held (warned once).
    pub(crate) fn take(
        parent: Option<RunId>,
        step: StepCall,
        job: Option<Arc<str>>,
    ) -> Option<Arc<LaneLease>> {
        let place = RunPlace {
            id: RunId::next(),
            parent,
            step,
            job,
        };
        for attempt in 0..2 {
            {
                let mut lanes = lanes();
                if lanes.states.is_empty() {
                    lanes.states = vec![LaneState::Free; MAX_LANES];
                }
                if let Some(at) = lanes
                    .states
                    .iter()
                    .position(|state| matches!(state, LaneState::Free))
                {
                    lanes.states[at] = LaneState::Held(place.clone());
                    HOLDERS[at].store(place.id.0, Relaxed);
                    return Some(Arc::new(LaneLease {
                        lane: at as Lane + 1,
                        place,
                    }));
                }
                let any_ended = lanes
                    .states
                    .iter()
                    .any(|state| matches!(state, LaneState::Ended(_)));
                if !any_ended || attempt == 1 {
                    if !lanes.warned {
                        lanes.warned = true;
                        warn(format_args!(
                            "{MAX_LANES} runs and queries are counting apart at once \
                             (pipetel::limits::MAX_LANES); further ones are counted for the \
                             process only, with no view of their own, until one ends"
                        ));
                    }
                    return None;
                }
            }
            // Read the ended lanes (outside the lock: reading takes the registry's).
            match CAPTURE.get() {
                Some(capture) => capture(),
                None => free_ended_unread(),
            }
        }
        None
    }

    /// The run's id.
    pub(crate) fn id(&self) -> RunId {
        self.place.id
    }
}

impl Drop for LaneLease {
    /// The run has ended: the thread that reads ended lanes is woken (it reads the lane
    /// once none of the run's calls still runs).
    fn drop(&mut self) {
        {
            let mut lanes = lanes();
            let at = usize::from(self.lane) - 1;
            if let Some(state) = lanes.states.get_mut(at) {
                *state = LaneState::Ended(self.place.clone());
                HOLDERS[at].store(0, Relaxed);
            }
        }
        if let Some(ended) = ENDED.get() {
            ended();
        }
    }
}

/// Whether `lane` is ended and not yet read, its run being `run`.
pub(crate) fn is_ended(lane: Lane, run: RunId) -> bool {
    matches!(
        lanes().states.get(usize::from(lane).wrapping_sub(1)),
        Some(LaneState::Ended(place)) if place.id == run
    )
}

/// The run holding `lane` now, if any.
pub(crate) fn holder(lane: Lane) -> Option<RunId> {
    match lanes().states.get(usize::from(lane).wrapping_sub(1)) {
        Some(LaneState::Held(place)) => Some(place.id),
        _ => None,
    }
}

/// The lanes whose run ended, each with its run; the caller reads them and then calls
/// [`free`].
pub(crate) fn ended() -> Vec<(Lane, RunPlace)> {
    places(|state| matches!(state, LaneState::Ended(_)))
}

/// The lanes of runs not yet read: running, or ended and not read; each with its run.
pub(crate) fn taken() -> Vec<(Lane, RunPlace)> {
    places(|state| !matches!(state, LaneState::Free))
}

fn places(wanted: impl Fn(&LaneState) -> bool) -> Vec<(Lane, RunPlace)> {
    lanes()
        .states
        .iter()
        .enumerate()
        .filter_map(|(at, state)| match state {
            LaneState::Held(place) | LaneState::Ended(place) if wanted(state) => {
                Some((at as Lane + 1, place.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Frees `lane`, read since its run `run` ended.
pub(crate) fn free(lane: Lane, run: RunId) {
    let mut lanes = lanes();
    if let Some(state) = lanes.states.get_mut(usize::from(lane).wrapping_sub(1)) {
        if matches!(state, LaneState::Ended(place) if place.id == run) {
            *state = LaneState::Free;
        }
    }
}

fn free_ended_unread() {
    for (lane, place) in ended() {
        free(lane, place.id);
    }
}
