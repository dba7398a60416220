//! The view of one run or query: [`RunId::snapshot`] and [`Report::of_run`].
//!
//! A run counts in a lane of its own (`counters::lanes`), so its view is what its lane
//! counted since it took it, and what the queries and runs started inside it counted in
//! theirs. When a run has ended and nothing of it still runs, its lane is read once
//! (`capture`, on a thread of its own that each run's end wakes): what it counted is kept
//! as its view (the latest [`RECENT_RUN_VIEWS`]),
//! added to the view of the run it started in, and the lane's reading then is where the
//! next run of that lane starts from.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::counters::lanes::{self, Lane, RunId, RunPlace, NO_LANE};
use crate::counters::reading::Kept;
use crate::counters::registry;
use crate::counters::thread_state::this_thread;
use crate::insight::diagnoses;
use crate::insight::look::Look;
use crate::insight::periodic::{Periodic, PeriodicWaker};
use crate::insight::read_snapshot::{analyse, build, fold_engine_lanes, Keep, Skews};
use crate::insight::report::Report;
use crate::insight::snapshot::{RunSnapshot, Snapshot, SourceState, StepSnapshot};
use crate::insight::this_process;
use crate::operator::engine_metrics::{self, Values};
use crate::pipeline::history::{self, Status};
use crate::pipeline::totals;

/// The views of ended runs and queries a process keeps (64, the latest to have started):
/// older ones roll off, and [`RunId::snapshot`] gives `None` for them.
pub const RECENT_RUN_VIEWS: usize = 64;

#[derive(Default)]
struct Views {
    /// Each lane's reading when it was last freed: where its next run starts from.
    starts: HashMap<Lane, Counted>,
    /// What ended runs started inside a run counted, by the run (added to its own).
    children: HashMap<RunId, Counted>,
    /// The views of ended runs, by the order they started (`RunId`s).
    ended: VecDeque<(RunPlace, Counted)>,
}

/// What some series counted: their counts, and an engine's metrics of them.
#[derive(Debug, Clone, Default)]
struct Counted {
    counts: Kept,
    engine: BTreeMap<u32, Values>,
}

impl Counted {
    /// What `lane`'s series hold now (read from the counters: the cost of those series).
    fn of_lane(lane: Lane) -> Counted {
        let (series, series_count) = registry::lane_series(lane);
        Counted {
            counts: Kept::read(&series, series_count),
            engine: engine_metrics::read_of(&series),
        }
    }

    /// `other` (of other series) added to this.
    fn add(&mut self, other: &Counted) {
        self.counts.add(&other.counts);
        for (series, values) in &other.engine {
            engine_metrics::add_values(self.engine.entry(*series).or_default(), values);
        }
    }

    /// What was counted after `start` (an earlier reading of the same series).
    fn since(&self, start: &Counted) -> Counted {
        let engine = self
            .engine
            .iter()
            .map(|(series, values)| {
                let before = start.engine.get(series);
                (*series, engine_metrics::values_since(values, before))
            })
            .collect();
        Counted {
            counts: self.counts.since(&start.counts),
            engine,
        }
    }
}

static VIEWS: Mutex<Option<Views>> = Mutex::new(None);

fn views() -> MutexGuard<'static, Option<Views>> {
    VIEWS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers [`capture`] as what reads ended lanes, and the reader thread as what a
/// run's end wakes.
pub(crate) fn register() {
    lanes::set_capture(capture, wake_reader);
}

/// The reader thread's waker, while it runs.
static READER: Mutex<Option<PeriodicWaker>> = Mutex::new(None);

/// How long the reader waits for a run to end before it looks again (for runs whose
/// calls were still running when they ended).
const READER_PAUSE: Duration = Duration::from_secs(1);

/// Starts the thread that reads ended lanes (woken by each run's end; once more when
/// stopped, so that the views of runs that ended are kept).
pub(crate) fn start_reader() -> Option<Periodic> {
    let reader = Periodic::start("pipetel-runs", READER_PAUSE, |_| {
        // A run that ends while a round runs is read in the same round.
        WOKEN.store(false, Relaxed);
        capture();
        while WOKEN.swap(false, Relaxed) {
            capture();
        }
        READER_PAUSE
    })?;
    *READER.lock().unwrap_or_else(PoisonError::into_inner) = Some(reader.waker());
    Some(reader)
}

/// Stops the reader after its last round.
pub(crate) fn stop_reader(reader: Periodic) {
    READER.lock().unwrap_or_else(PoisonError::into_inner).take();
    reader.finish();
}

/// A run ended since the reader's round began.
static WOKEN: AtomicBool = AtomicBool::new(false);

fn wake_reader() {
    WOKEN.store(true, Relaxed);
    if let Some(reader) = READER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        reader.wake();
    }
}

/// Reads every lane whose run has ended and none of whose calls still runs: keeps the
/// run's view, and frees the lane. Each lane costs a read of its own series.
pub(crate) fn capture() {
    for (lane, place) in lanes::ended() {
        let now = Counted::of_lane(lane);
        if now.counts.running() {
            // Tasks of the run still end (an engine drops them a little later).
            continue;
        }
        let mut guard = views();
        if !lanes::is_ended(lane, place.id) {
            // Another thread read it first.
            continue;
        }
        let views = guard.get_or_insert_with(Views::default);
        let mut own = views.counted_since_start(lane, &now);
        if let Some(children) = views.children.remove(&place.id) {
            own.add(&children);
        }
        if let Some(parent) = place.parent {
            views.add_to_parent(parent, &own);
        }
        // In the order the runs started, whatever order their lanes are read in: the
        // oldest roll off.
        let at = views.ended.partition_point(|(kept, _)| kept.id < place.id);
        views.ended.insert(at, (place.clone(), own));
        while views.ended.len() > RECENT_RUN_VIEWS {
            views.ended.pop_front();
        }
        views.starts.insert(lane, now);
        lanes::free(lane, place.id);
    }
}

impl Views {
    /// What `lane` (read now: `now`) counted since its run took it.
    fn counted_since_start(&self, lane: Lane, now: &Counted) -> Counted {
        match self.starts.get(&lane) {
            Some(start) => now.since(start),
            None => now.since(&Counted::default()),
        }
    }

    /// What run `run`, still running (or ending), counted so far: its lane's and those of
    /// the runs started inside it that still run, with the ended ones' views; and the job
    /// it is a part of.
    fn running_view(&self, run: RunId) -> Option<(Counted, Option<Arc<str>>)> {
        let running = lanes::taken();
        let (lane, place) = running.iter().find(|(_, place)| place.id == run)?;
        let job = place.job.clone();
        let mut tree = vec![(*lane, run)];
        let mut at = 0;
        while at < tree.len() {
            let parent = tree[at].1;
            tree.extend(
                running
                    .iter()
                    .filter(|(_, place)| place.parent == Some(parent))
                    .map(|(lane, place)| (*lane, place.id)),
            );
            at += 1;
        }
        let mut counted = Counted::default();
        for (lane, run) in tree {
            counted.add(&self.counted_since_start(lane, &Counted::of_lane(lane)));
            if let Some(children) = self.children.get(&run) {
                counted.add(children);
            }
        }
        Some((counted, job))
    }

    /// Adds an ended child's view to its parent's: the parent's own children while it
    /// runs, its kept view once it has ended.
    fn add_to_parent(&mut self, parent: RunId, child: &Counted) {
        if let Some((_, view)) = self.ended.iter_mut().find(|(place, _)| place.id == parent) {
            view.add(child);
            return;
        }
        let running = lanes::taken()
            .into_iter()
            .any(|(_, place)| place.id == parent);
        if running {
            match self.children.get_mut(&parent) {
                Some(children) => children.add(child),
                None => {
                    self.children.insert(parent, child.clone());
                }
            }
        }
    }
}

impl RunId {
    /// The run or query the calling code runs in: the pipeline run current on this
    /// thread (or lent to the task being polled), if it counts apart.
    pub fn current() -> Option<RunId> {
        match this_thread().lane() {
            NO_LANE => None,
            lane => lanes::holder(lane),
        }
    }

    /// The view of this run or query: what its operators did in it — and the queries and
    /// runs started inside it — with its steps, its graph and what the analyses find in
    /// them, as [`snapshot`](crate::snapshot()) gives for the whole process. While it
    /// runs, what it did so far; once it has ended and none of its calls still runs, the
    /// same figures for good ([`Snapshot::calls_running`] is then 0, and its source is
    /// done). Its source names the job a query started in one is a part of
    /// ([`Query::start_in_job`](crate::engine::Query::start_in_job)).
    ///
    /// `None` for a run that rolled off (the latest [`RECENT_RUN_VIEWS`] ended ones are
    /// kept) or that did not count apart (see [`MAX_LANES`](crate::limits::MAX_LANES)).
    ///
    /// ```
    /// use pipetel::{Pipeline, RunId};
    ///
    /// #[derive(Pipeline)]
    /// struct Nightly;
    ///
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let scan = pipetel::Operator::new("scan", "run-view-doc");
    /// scan.iter(vec![vec![0u8; 5]]).for_each(drop); // outside the run
    /// let id = Nightly
    ///     .run(|_| {
    ///         scan.iter(vec![vec![0u8; 3]]).for_each(drop); // in it
    ///         Ok::<_, String>(RunId::current().unwrap())
    ///     })
    ///     .unwrap();
    ///
    /// let view = id.snapshot().unwrap();
    /// assert_eq!(view.operator("scan", "run-view-doc").unwrap().rows.produced, 3);
    /// assert_eq!(view.runs[0].pipeline, "nightly");
    /// # drop(telemetry);
    /// ```
    pub fn snapshot(self) -> Option<Snapshot> {
        capture();
        let (counted, state, job) = {
            // The views' lock, then (reading a running lane) the counters' locks.
            let mut guard = views();
            let views = guard.get_or_insert_with(Views::default);
            match views.ended.iter().find(|(place, _)| place.id == self) {
                Some((place, view)) => (view.clone(), SourceState::Done, place.job.clone()),
                None => {
                    let (counted, job) = views.running_view(self)?;
                    (counted, SourceState::Live, job)
                }
            }
        };
        let mut view = view_of(counted);
        let mut source = this_process::source(state);
        if let Some(job) = job {
            source.job = Some(job.to_string());
        }
        view.sources = vec![source];
        let (runs, run_steps) = runs_and_steps(self);
        view.runs = runs;
        view.steps = run_steps;
        view.diagnoses = diagnoses::of_snapshot(&view, &diagnoses::thresholds());
        Some(view)
    }
}

/// The snapshot of what `counted` holds, analysed (no sources, runs or diagnoses).
fn view_of(counted: Counted) -> Snapshot {
    let (steps, _) = totals::totals();
    let expected = registry::expected();
    let series_count = registry::series_count();
    let mut view = registry::with_labels(|labels| {
        let mut reading = counted.counts.reading(series_count);
        reading.fold_lanes(labels);
        let mut engine = counted.engine;
        fold_engine_lanes(&mut engine, labels);
        build(
            &reading,
            &expected,
            engine,
            None,
            labels,
            &steps,
            Keep::Counted,
        )
    });
    analyse(&mut view, Look::Read, Skews::Scored);
    view
}

/// This process's part of one job spread over processes: the view of its queries in the
/// job ([`Query::start_in_job`](crate::engine::Query::start_in_job)).
pub(crate) struct JobPart {
    pub(crate) job: Arc<str>,
    /// Whether a query of the job still runs here.
    pub(crate) running: bool,
    pub(crate) view: Snapshot,
}

/// The parts of jobs this process has: those with a query running, and those among the
/// kept views ([`RECENT_RUN_VIEWS`]) of ended queries, but for the ended jobs `skip`
/// names (read once already: not read again). Each costs a read of its queries' series.
pub(crate) fn job_parts(skip: impl Fn(&str) -> bool) -> Vec<JobPart> {
    capture();
    let mut jobs: BTreeMap<Arc<str>, (bool, Counted)> = BTreeMap::new();
    {
        let mut guard = views();
        let views = guard.get_or_insert_with(Views::default);
        for (lane, place) in lanes::taken() {
            let Some(job) = place.job else { continue };
            let (running, counted) = jobs.entry(job).or_default();
            *running = true;
            counted.add(&views.counted_since_start(lane, &Counted::of_lane(lane)));
            if let Some(children) = views.children.get(&place.id) {
                counted.add(children);
            }
        }
        for (place, view) in &views.ended {
            let Some(job) = &place.job else { continue };
            if !jobs.contains_key(job) && skip(job) {
                continue;
            }
            jobs.entry(Arc::clone(job)).or_default().1.add(view);
        }
    }
    jobs.into_iter()
        .map(|(job, (running, counted))| {
            let mut view = view_of(counted);
            let state = match running {
                true => SourceState::Live,
                false => SourceState::Done,
            };
            let mut source = this_process::source(state);
            source.job = Some(job.to_string());
            view.sources = vec![source];
            view.diagnoses = diagnoses::of_snapshot(&view, &diagnoses::thresholds());
            JobPart { job, running, view }
        })
        .collect()
}

/// The run's record in the history (a pipeline's run), as the view's runs and steps.
fn runs_and_steps(id: RunId) -> (Vec<RunSnapshot>, Vec<StepSnapshot>) {
    let history = history::run_history();
    let Some(run) = history.runs.iter().find(|run| run.id == Some(id)) else {
        return (Vec::new(), Vec::new());
    };
    let runs = vec![RunSnapshot {
        pipeline: run.pipeline.to_string(),
        runs: u64::from(run.status != Status::Running),
        failed: u64::from(run.status == Status::Failed),
        active: u64::from(run.status == Status::Running),
        time: run.time,
        rows: run.rows,
    }];
    let mut steps: Vec<StepSnapshot> = Vec::new();
    for call in &run.steps {
        let at = match steps.iter().position(|step| step.step == call.step) {
            Some(at) => at,
            None => {
                steps.push(StepSnapshot {
                    pipeline: Some(run.pipeline.to_string()),
                    step: call.step.to_string(),
                    ..StepSnapshot::default()
                });
                steps.len() - 1
            }
        };
        let step = &mut steps[at];
        match call.status {
            Status::Running => step.active += 1,
            Status::Failed => {
                step.calls += 1;
                step.failed += 1;
            }
            _ => step.calls += 1,
        }
        step.time += call.time;
        step.rows += call.rows;
    }
    (runs, steps)
}

impl Report {
    /// The report of one run or query ([`RunId::snapshot`]); `None` when its view is not
    /// kept.
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let query = pipetel::engine::Query::start();
    /// query.operator("scan", "of-run-doc").iter(vec![vec![0u8; 2]]).for_each(drop);
    /// let report = pipetel::Report::of_run(query.id().unwrap()).unwrap();
    /// assert!(report.to_string().contains("of-run-doc"));
    /// # drop(telemetry);
    /// ```
    pub fn of_run(run: RunId) -> Option<Report> {
        run.snapshot().map(Report::of)
    }
}
