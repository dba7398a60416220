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
//! collects (every `OTEL_METRIC_EXPORT_INTERVAL`, 500 ms by default). See the README
//! for the metric and environment tables.

#![warn(missing_docs, unreachable_pub)]

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
mod linger;
pub mod names;
mod node_id;
mod operator;
mod partition;
mod pipeline;
mod rows;
mod telemetry;
mod warn;

#[doc(hidden)]
pub mod __private;

pub use attribute::AttributeValue;
pub use config::{init, Config};
pub use count::Count;
pub use counters::details::MAX_DETAILS_BYTES;
pub use counters::links::MAX_LINKS;
pub use counters::partitions::MAX_PARTITION_SLOTS;
pub use counters::registry::{
    DEFAULT_MAX_NODE_IDS_PER_TYPE, MAX_DYNAMIC_NODE_TYPES, MAX_OPERATOR_SERIES,
};
pub use counters::slowest::SLOWEST_CALLS;
pub use export::call_distributions::MAX_HISTOGRAM_RECORDS;
pub use export::custom_instruments::{meter, tracer};
pub use insight::diagnoses::{Thresholds, DIAGNOSIS_TARGET};
pub use insight::estimates::RATE_HALF_LIFE;
pub use insight::read_snapshot::snapshot;
pub use insight::report::{report, Report};
pub use insight::skew::skew_score;
pub use insight::snapshot::{
    Basis, Bottleneck, CallBuckets, ChannelSnapshot, Diagnosis, DiagnosisKind, EdgeSnapshot,
    EdgeVia, Estimate, Imbalance, NodeRef, OperatorSnapshot, Overall, Percentiles, RunSnapshot,
    Severity, Share, Skew, SlowCall, Snapshot, Spread, StepSnapshot, Waiting,
};
pub use node_id::{NodeId, NodeKey};
pub use operator::current::{current_operator, OperatorHandle};
pub use operator::dynamic::{Counted, Operator};
pub use operator::engine_metrics::{EngineMetrics, EngineValue, MetricsAttachment};
pub use operator::feed::Feed;
pub use operator::user_counter::OperatorCounter;
pub use partition::PartitionNumber;
pub use pipeline::history::{
    run_history, RunHistory, RunRecord, Status as RunStatus, StepRecord, ERROR_CHARS, RECENT_RUNS,
    RUN_STEPS,
};
pub use pipeline::propagation::trace_env;
pub use pipeline::run::Pipeline;
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
pub use rows::{Bytes, Rows};
pub use telemetry::Telemetry;

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
