//! Run against run: [`Snapshot::diff`] and [`Report::diff`] match the operators of two
//! snapshots by `node.type` and `node.id` and say, for each, what changed — calling a
//! change in time only when it is beyond the noise (`shift`).

mod compare;
mod shift;
mod text;

pub use shift::{Shift, Verdict, CONFIDENCE, JUDGED_QUANTILE, MIN_FACTOR};
#[cfg(feature = "html")]
pub(crate) use text::method;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::insight::report::Report;
use crate::insight::snapshot::{NodeRef, Snapshot};

/// What changed from one run to another: operators matched by `node.type` and `node.id`
/// (plan positions, for DataFusion's), the ones only one run has, and the edges.
///
/// An operator is called slower or faster from its busy time per call: the
/// [`JUDGED_QUANTILE`] of each run's calls, bracketed at [`CONFIDENCE`] from the
/// distribution's buckets, and the change called only when the ratio's whole interval
/// lies beyond [`MIN_FACTOR`] ([`Shift`]). Everything else — total busy time, waits,
/// the median and 99th percentile, memory — is shown beside it, to say where the time
/// went. Rows and calls are counts: any difference is real, and listed.
///
/// Compare runs of the same work on machines loaded alike: a call's busy time is
/// wall-clock time, and an operator whose every call is longer than the scheduler's time
/// slice is slowed by a busy machine in all of its calls, the fastest quarter too. Where
/// that cannot be ensured, take several runs of each side in turn and compare the sides
/// merged ([`Snapshot::merge`]): each side's fastest quarter then comes from its least
/// disturbed runs.
///
/// ```
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
/// let spin = |n: u64| (0..n).fold(0u64, |a, b| std::hint::black_box(a ^ b));
/// let filter = pipetel::Operator::new("filter", "diff-doc");
/// for _ in 0..200 {
///     filter.call(|| spin(20_000));
/// }
/// let before = pipetel::snapshot();
/// for _ in 0..200 {
///     filter.call(|| spin(100_000)); // five times the work a call
/// }
/// let after = pipetel::snapshot().since(&before);
///
/// let diff = before.diff(&after);
/// let op = &diff.operators[0];
/// assert_eq!(op.verdict(), pipetel::diff::Verdict::Higher);
/// println!("{diff}");
/// # drop(telemetry);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Diff {
    /// The operators both runs have, in the order of the later run.
    pub operators: Vec<OperatorDiff>,
    /// The operators only the later run has.
    pub added: Vec<NodeRef>,
    /// The operators only the earlier run has.
    pub removed: Vec<NodeRef>,
    /// The edges of either run's graph, by producer and consumer (however found), in
    /// the order of the later run, then the earlier run's others.
    pub edges: Vec<EdgeDiff>,
}

/// One operator in both runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OperatorDiff {
    /// Its labels.
    pub node: NodeRef,
    /// Calls that ended (completed, failed or cancelled).
    pub calls: Change<u64>,
    /// Calls that failed.
    pub failed: Change<u64>,
    /// Rows that came in.
    pub rows_in: Change<u64>,
    /// Rows it produced.
    pub rows_out: Change<u64>,
    /// Its own work.
    pub busy: Change<Duration>,
    /// Waiting for its input.
    pub starved: Change<Duration>,
    /// Its output not taken.
    pub blocked: Change<Duration>,
    /// Woken, waiting for its executor.
    pub queued: Change<Duration>,
    /// Busy time per call at [`JUDGED_QUANTILE`], judged: what calls it slower or
    /// faster. `None` when a run counted no calls' times.
    pub per_call: Option<Shift>,
    /// The median busy time per call, before and after.
    pub median: Option<Change<Duration>>,
    /// The 99th percentile of busy time per call, before and after.
    pub p99: Option<Change<Duration>>,
    /// The most heap memory it held, with the tracking allocator in both runs.
    pub memory_peak: Option<Change<u64>>,
    /// Bytes allocated per call, the median judged, with the tracking allocator in both
    /// runs.
    pub allocated_per_call: Option<Shift>,
}

/// A figure in the earlier run and in the later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Change<T> {
    /// In the earlier run.
    pub before: T,
    /// In the later run.
    pub after: T,
}

impl<T: PartialEq> Change<T> {
    /// Whether the two runs differ.
    pub fn differs(&self) -> bool {
        self.before != self.after
    }
}

/// One edge of either run's graph: rows and batches `from` handed to `to` (`None` in a
/// run whose graph does not have it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EdgeDiff {
    /// The producer.
    pub from: NodeRef,
    /// The consumer.
    pub to: NodeRef,
    /// Rows that crossed.
    pub rows: Change<Option<u64>>,
    /// Batches that crossed.
    pub batches: Change<Option<u64>>,
}

impl OperatorDiff {
    /// The verdict on its busy time per call: [`Verdict::Higher`] is slower.
    pub fn verdict(&self) -> Verdict {
        self.per_call
            .map_or(Verdict::TooFewCalls, |shift| shift.verdict)
    }

    /// Its time from its calls' starts to their ends: busy and every wait.
    pub fn wall(&self) -> Change<Duration> {
        let sum = |pick: fn(&Change<Duration>) -> Duration| {
            pick(&self.busy) + pick(&self.starved) + pick(&self.blocked) + pick(&self.queued)
        };
        Change {
            before: sum(|c| c.before),
            after: sum(|c| c.after),
        }
    }
}

impl Diff {
    /// The operators called slower (busy time per call beyond the noise), the most
    /// slowed first.
    pub fn slower(&self) -> Vec<&OperatorDiff> {
        self.called(Verdict::Higher)
    }

    /// The operators called faster, the most sped up first.
    pub fn faster(&self) -> Vec<&OperatorDiff> {
        self.called(Verdict::Lower)
    }

    fn called(&self, verdict: Verdict) -> Vec<&OperatorDiff> {
        let mut called: Vec<&OperatorDiff> = self
            .operators
            .iter()
            .filter(|op| op.verdict() == verdict)
            .collect();
        let moved = |op: &OperatorDiff| {
            let ratio = op.per_call.and_then(|s| s.ratio).unwrap_or(f64::INFINITY);
            if verdict == Verdict::Higher {
                ratio
            } else {
                1.0 / ratio
            }
        };
        called.sort_by(|a, b| moved(b).total_cmp(&moved(a)));
        called
    }

    /// The diff as pretty-printed JSON (the fields above).
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }
}

impl Snapshot {
    /// What changed from this snapshot (the earlier run's) to `after` (the later run's):
    /// see [`Diff`].
    pub fn diff(&self, after: &Snapshot) -> Diff {
        compare::diff(self, after)
    }
}

impl Report {
    /// What changed from this report's run to `after`'s: [`Snapshot::diff`] of their
    /// snapshots.
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// pipetel::Operator::new("scan", "report-diff-doc").call(|| vec![0u8; 8]);
    /// let before = pipetel::report();
    /// let diff = before.diff(&pipetel::report());
    /// assert!(diff.slower().is_empty());
    /// # drop(telemetry);
    /// ```
    pub fn diff(&self, after: &Report) -> Diff {
        compare::diff(self.snapshot(), after.snapshot())
    }
}
