//! [`Query`]: one query of an engine counted apart from the queries running beside it,
//! with a view of its own.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::counters::lanes::{self, LaneLease, RunId, NO_LANE};
use crate::counters::thread_state::this_thread;
use crate::node_id::NodeId;
use crate::operator::dynamic::{Operator, RunSeat};
use crate::operator::recording::enabled;

/// One query (or job, or request) of an engine, counted apart: the [`Operator`]s it
/// makes count into series of its own, so that its view —
/// [`RunId::snapshot`](crate::RunId::snapshot), [`Report::of_run`](crate::Report::of_run)
/// — holds exactly its work while other queries of the same plan shape run at once. The
/// process's totals and the exported metrics still add every query's work into one
/// series per `(node.type, node.id)`.
///
/// A query started inside a pipeline's run is part of that run's view too, and its
/// operators are filed under the step it started in when they run on threads with no
/// step (an engine's pool). Keep the `Query` (a clone is cheap) for as long as its
/// operators run — hold it in the plan and in the streams it executes: the query ends,
/// and its view is final, when the last clone is dropped; an operator of an ended query
/// counts for the process only. At most
/// [`MAX_LANES`](crate::limits::MAX_LANES) queries and runs count apart at once; past
/// it, a query's operators count for the process only and [`id`](Self::id) is `None`.
///
/// ```
/// use pipetel::engine::Query;
///
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
/// let first = Query::start();
/// let second = Query::start();
/// // Two queries of one plan: the same node, counted apart.
/// first.operator("scan", "query-doc").iter(vec![vec![0u8; 5]]).for_each(drop);
/// second.operator("scan", "query-doc").iter(vec![vec![0u8; 3]]).for_each(drop);
///
/// let view = first.id().unwrap().snapshot().unwrap();
/// assert_eq!(view.operator("scan", "query-doc").unwrap().rows.produced, 5);
/// let all = pipetel::snapshot();
/// assert_eq!(all.operator("scan", "query-doc").unwrap().rows.produced, 8);
/// # drop(telemetry);
/// ```
#[derive(Debug, Clone)]
pub struct Query {
    lease: Option<Arc<LaneLease>>,
    job: Option<Arc<str>>,
}

impl Query {
    /// Starts a query, inside the pipeline run current on this thread (if any) and filed
    /// under the step current on it. Takes a lock: once per query, not per call.
    pub fn start() -> Query {
        Query::start_with(None)
    }

    /// Starts a query that is this process's part of `job`, a job spread over several
    /// processes (a distributed query: its coordinator's part and each worker's), as
    /// [`start`](Self::start) does. With `PIPETEL_SNAPSHOT_DIR` set, the view of the
    /// process's queries in the job is written there as well, one file per job
    /// (`<instance>.job-<job>.json`), and `pipetel::snapshot::merge_files` gives one
    /// merged snapshot per job: two jobs that ran at once on the same processes come
    /// out as two reports. Name the job the same in every process (an id the
    /// coordinator sends with the work). While a query of the job runs in this process,
    /// another started in it joins that one (a worker running several tasks of one job:
    /// one query, one view), so a process counts as many queries apart as it has jobs
    /// running, not tasks.
    ///
    /// ```
    /// use pipetel::engine::Query;
    ///
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let part = Query::start_in_job("job-doc-7");
    /// assert_eq!(part.job(), Some("job-doc-7"));
    /// // Another task of the same job, while the first runs: the same query.
    /// assert_eq!(Query::start_in_job("job-doc-7").id(), part.id());
    ///
    /// // Its view names the job, and is done once the query has ended.
    /// let id = part.id().unwrap();
    /// assert_eq!(id.snapshot().unwrap().job(), Some("job-doc-7"));
    /// drop(part);
    /// let view = id.snapshot().unwrap();
    /// assert_eq!(view.job(), Some("job-doc-7"));
    /// assert_eq!(view.sources[0].state, pipetel::snapshot::SourceState::Done);
    /// assert_eq!(Query::start().job(), None);
    /// # drop(telemetry);
    /// ```
    pub fn start_in_job(job: &str) -> Query {
        static RUNNING: Mutex<Vec<(Arc<str>, Weak<LaneLease>)>> = Mutex::new(Vec::new());
        let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
        running.retain(|(_, lease)| lease.strong_count() > 0);
        if let Some((job, lease)) = running.iter().find(|(running, _)| **running == *job) {
            if let Some(lease) = lease.upgrade() {
                return Query {
                    lease: Some(lease),
                    job: Some(Arc::clone(job)),
                };
            }
        }
        let query = Query::start_with(Some(job.into()));
        if let (Some(lease), Some(job)) = (&query.lease, &query.job) {
            running.push((Arc::clone(job), Arc::downgrade(lease)));
        }
        query
    }

    fn start_with(job: Option<Arc<str>>) -> Query {
        if !cfg!(feature = "enabled") || !enabled() {
            return Query { lease: None, job };
        }
        let thread = this_thread();
        let parent = match thread.lane() {
            NO_LANE => None,
            lane => lanes::holder(lane),
        };
        Query {
            lease: LaneLease::take(parent, thread.current_step(), job.clone()),
            job,
        }
    }

    /// The job this query is a part of ([`start_in_job`](Self::start_in_job)).
    pub fn job(&self) -> Option<&str> {
        self.job.as_deref()
    }

    /// The query's id, for its view; `None` when it is not counted apart (telemetry
    /// off, or [`MAX_LANES`](crate::limits::MAX_LANES) queries and runs running).
    pub fn id(&self) -> Option<RunId> {
        self.lease.as_ref().map(|lease| lease.id())
    }

    /// The operator with `node.type` `node_type` and `node.id` `node_id`, counted for
    /// this query (and for the process, as [`Operator::new`] counts).
    pub fn operator<K: NodeId + ?Sized>(&self, node_type: &str, node_id: &K) -> Operator {
        let operator = Operator::new(node_type, node_id);
        match &self.lease {
            Some(lease) => operator.seated(RunSeat {
                lane: lease.lane,
                run: lease.id(),
                step: lease.place.step,
                canonical: 0,
            }),
            None => operator,
        }
    }
}
