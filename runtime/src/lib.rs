//! pipetel: per-operator telemetry for data pipelines and query engines.
//!
//! Put [`#[operator]`](operator) on an operator function and it is counted — rows in and
//! out, bytes read and written, busy time, calls active, completed, failed and
//! cancelled — under the labels `node.id` and `node.type`. [`init`] reads the standard
//! `OTEL_*` environment and exports those counters over OTLP (gRPC or HTTP/protobuf);
//! with no endpoint set, telemetry is off and an annotated function costs what the
//! plain function costs.
//!
//! ```
//! use pipetel::operator;
//!
//! #[operator(node_type = "filter")]
//! fn keep_even(batch: Vec<u64>) -> Vec<u64> {
//!     batch.into_iter().filter(|n| n % 2 == 0).collect()
//! }
//!
//! let _telemetry = pipetel::init(); // OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 to export
//! assert_eq!(keep_even(vec![1, 2, 3, 4]), vec![2, 4]); // rows.in 4, rows.out 2
//! ```
//!
//! The counters are plain per-thread cells: a call adds to them with relaxed atomic
//! loads and stores, and the OpenTelemetry data points are built only when the SDK
//! collects (every `OTEL_METRIC_EXPORT_INTERVAL`, 500 ms by default).
//!
//! The guide, a chapter a file in the repository's `docs/`: operators (every shape, and
//! [`Operator`] for those known only at run time), pipelines, local insight
//! ([`snapshot()`], [`report()`]), the dashboard, the timeline, run against run and logs
//! by operator, memory per operator, jobs that span processes, DataFusion, operations;
//! and the reference tables of the metrics, the environment variables and the
//! [`limits`].

#![warn(missing_docs, unreachable_pub)]
// docs.rs builds with every feature and labels what each item needs
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
pub mod alloc;
#[cfg(feature = "arrow")]
mod arrow;
mod attribute;
pub mod channel;
mod config;
mod count;
mod counters;
mod dashboard;
mod env;
mod export;
mod insight;
mod latest;
mod linger;
#[cfg(any(feature = "prometheus", feature = "dashboard"))]
mod listener;
pub mod logs;
pub mod names;
mod node_id;
mod operator;
mod partition;
mod pipeline;
pub mod process;
#[cfg(feature = "process-metrics")]
mod process_usage;
mod rows;
mod telemetry;
mod timeline;
mod warn;

#[doc(hidden)]
pub mod __private;
/// For pipetel's documentation tests (the reference tables made from the code), not part
/// of its API.
#[doc(hidden)]
pub mod __reference;

/// For pipetel's own tests (the hidden `test-clock` feature), not part of its API.
#[cfg(feature = "test-clock")]
#[doc(hidden)]
pub mod __test {
    pub use crate::operator::clock::read_through_quanta;
}

// The root: what a user writes. The rest is grouped in the modules below.
pub use config::{init, Config};
pub use counters::lanes::RunId;
pub use insight::chrome_trace::chrome_trace;
pub use insight::chrome_trace::merge::merge_chrome_traces;
pub use insight::read_snapshot::snapshot;
pub use insight::report::{report, Report};
pub use operator::current::current_operator;
pub use operator::dynamic::Operator;
pub use pipeline::run::Pipeline;
pub use rows::{Bytes, Rows};
pub use telemetry::Telemetry;

/// The data of a [`snapshot()`](crate::snapshot()): every operator's counters, the runs
/// and steps, the operator graph, and what the analyses found — the versioned format
/// that [`Report::json`] writes (see [`Snapshot`](snapshot::Snapshot)).
pub mod snapshot {
    pub use crate::insight::estimates::RATE_HALF_LIFE;
    pub use crate::insight::skew::skew_score;
    pub use crate::insight::snapshot::{
        Basis, Bottleneck, CallBuckets, ChannelSnapshot, EdgeSnapshot, EdgeVia, Estimate,
        Imbalance, LogLine, Memory, NodeRef, OperatorLogs, Overall, Percentiles, RunSnapshot,
        Share, ShareName, Skew, SlowCall, Snapshot, Source, SourceState, Spread, StepSnapshot,
        Waiting,
    };
    pub use crate::insight::snapshot::{
        ByteCounts, CallCounts, Distributions, Expected, OperatorSnapshot, RowCounts, TimeSplit,
        WorkSkew,
    };
    pub use crate::insight::snapshot::{FormatError, SCHEMA_VERSION};
    pub use crate::insight::snapshot_dir::read::{merge_files, ReadError, ReadProblem};
}

/// Run against run: what changed between two snapshots ([`Snapshot::diff`](snapshot::Snapshot::diff),
/// [`Report::diff`]), a change in time called only beyond the noise ([`Diff`](diff::Diff)).
pub mod diff {
    pub use crate::insight::diff::{
        Change, Diff, EdgeDiff, OperatorDiff, Shift, Verdict, CONFIDENCE, JUDGED_QUANTILE,
        MIN_FACTOR,
    };
}

/// The built-in checks: what they found ([`Diagnosis`](diagnose::Diagnosis)), their
/// kinds, and the thresholds they fire at ([`Config::thresholds`]).
pub mod diagnose {
    pub use crate::insight::diagnoses::{Thresholds, DIAGNOSIS_TARGET};
    pub use crate::insight::snapshot::{Diagnosis, DiagnosisKind, Severity};
}

/// The latest runs of the process's pipelines, one by one, with their steps
/// ([`run_history`](history::run_history)).
pub mod history {
    pub use crate::pipeline::history::{run_history, RunHistory, RunRecord, Status, StepRecord};
}

/// For engines: operators known only at run time and what they carry — the handle of
/// the running operator, graph edges an engine states, an engine's own metrics, user
/// counters, and the traits for node ids, partitions and counts.
pub mod engine {
    pub use crate::count::Count;
    pub use crate::node_id::{NodeId, NodeKey};
    pub use crate::operator::current::OperatorHandle;
    pub use crate::operator::dynamic::Counted;
    pub use crate::operator::engine_metrics::{EngineMetrics, EngineValue, MetricsAttachment};
    pub use crate::operator::feed::Feed;
    pub use crate::operator::query::Query;
    pub use crate::operator::user_counter::OperatorCounter;
    pub use crate::partition::PartitionNumber;
}

/// pipetel's OpenTelemetry handles: its meter and tracer (the running telemetry's), the
/// trace context for a child process, and the values span attributes take.
pub mod otel {
    pub use crate::attribute::AttributeValue;
    pub use crate::export::custom_instruments::{meter, tracer};
    pub use crate::pipeline::propagation::trace_env;
}

/// Every limit pipetel keeps to, each named in the warning given when it is reached.
pub mod limits {
    pub use crate::counters::lanes::MAX_LANES;
    pub use crate::counters::links::MAX_LINKS;
    #[cfg(feature = "alloc")]
    pub use crate::counters::partition_owners::MAX_PARTITION_OWNERS;
    pub use crate::counters::partitions::MAX_PARTITION_SLOTS;
    pub use crate::counters::registry::{
        DEFAULT_MAX_NODE_IDS_PER_TYPE, MAX_DYNAMIC_NODE_TYPES, MAX_OPERATOR_SERIES,
    };
    pub use crate::counters::slowest::SLOWEST_CALLS;
    #[cfg(feature = "html")]
    pub use crate::dashboard::memory_lane::MEMORY_LANE_SAMPLES;
    pub use crate::export::call_distributions::MAX_HISTOGRAM_RECORDS;
    pub use crate::insight::run_views::RECENT_RUN_VIEWS;
    pub use crate::insight::snapshot_dir::{SNAPSHOT_STALE_AFTER, SNAPSHOT_WRITE_INTERVAL};
    pub use crate::logs::operator_lines::{LOG_LINES_KEPT, LOG_LINE_CHARS};
    pub use crate::pipeline::history::{ERROR_CHARS, RECENT_RUNS, RUN_STEPS};
    pub use crate::process::{PROCESS_LINES_PER_FLUSH, PROCESS_LINE_BYTES};
    pub use crate::timeline::{
        TIMELINE_SAMPLES, TIMELINE_SAMPLE_INTERVAL, TIMELINE_SLICES_PER_THREAD, TIMELINE_SPANS,
        TIMELINE_THREADS,
    };
}

/// ```
/// use pipetel::{operator, Rows};
///
/// struct Batch(Vec<u64>);
/// impl Rows for Batch {
///     fn rows(&self) -> u64 {
///         self.0.len() as u64
///     }
/// }
///
/// #[operator(node_type = "filter")]
/// fn keep_even(batch: Batch) -> Batch {
///     Batch(batch.0.into_iter().filter(|n| n % 2 == 0).collect())
/// }
///
/// struct Sink {
///     id: u32,
/// }
///
/// impl Sink {
///     #[operator(node_type = "sink", node_id = self.id, bytes_written = |n: &Result<usize, String>| *n.as_ref().unwrap_or(&0))]
///     fn write(&mut self, batch: &Batch) -> Result<usize, String> {
///         pipetel::current_operator().add_rows_written(batch.rows());
///         Ok(batch.0.len() * 8)
///     }
/// }
///
/// let batch = keep_even(Batch(vec![1, 2, 3, 4]));
/// assert_eq!(Sink { id: 1 }.write(&batch), Ok(16));
/// ```
pub use pipetel_macros::operator;
pub use pipetel_macros::{pipeline_step, Pipeline};
/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The guide's Rust examples (`docs/`, a chapter a file), compiled and run as doc tests;
/// the memory chapter's in `pipetel-tests` (with the `alloc` feature), DataFusion's in
/// `pipetel-datafusion`.
#[cfg(doctest)]
pub mod guide_doctests {
    #[doc = include_str!("../../docs/operators.md")]
    pub struct Operators;
    #[doc = include_str!("../../docs/pipelines.md")]
    pub struct Pipelines;
    #[doc = include_str!("../../docs/local-insight.md")]
    pub struct LocalInsight;
    #[doc = include_str!("../../docs/dashboard.md")]
    pub struct Dashboard;
    #[doc = include_str!("../../docs/timeline-diff-logs.md")]
    pub struct TimelineDiffLogs;
    #[doc = include_str!("../../docs/distributed.md")]
    pub struct Distributed;
    #[doc = include_str!("../../docs/metrics.md")]
    pub struct Metrics;
    #[doc = include_str!("../../docs/environment.md")]
    pub struct Environment;
    #[doc = include_str!("../../docs/operations.md")]
    pub struct Operations;
}
