//! Every name pipetel puts on the wire: metric names, units and attribute keys.
//!
//! Metric names are `<namespace>.<suffix>`; the namespace defaults to
//! [`DEFAULT_NAMESPACE`] and is set with [`Config::namespace`](crate::Config::namespace),
//! so an engine can publish `daft.rows.in` instead of `pipetel.rows.in`.
//! Units follow UCUM, as the OpenTelemetry semantic conventions ask.

/// The namespace used when [`Config::namespace`](crate::Config::namespace) is not called.
pub const DEFAULT_NAMESPACE: &str = "pipetel";

/// The attribute that identifies one operator instance (a plan node).
pub const NODE_ID: &str = "node.id";
/// The attribute that names the kind of operator (`scan`, `filter`, `hash_join`, …).
pub const NODE_TYPE: &str = "node.type";

/// The `node.id` that collects every series past the cardinality limit.
pub const OVERFLOW_NODE_ID: &str = "other";

/// The name of the OpenTelemetry instrumentation scope of the built-in metrics.
pub const SCOPE: &str = "pipetel";

/// One built-in metric: its name (after the namespace), unit, description and instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricName {
    /// The name after `<namespace>.`, for example `rows.in`.
    pub suffix: &'static str,
    /// The UCUM unit, for example `{row}`.
    pub unit: &'static str,
    /// A one-line description sent with the metric.
    pub description: &'static str,
    /// The kind of instrument that records it.
    pub instrument: Instrument,
}

/// The kind of OpenTelemetry instrument a metric is recorded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instrument {
    /// A counter: a sum that only goes up.
    Counter,
    /// An up-down counter: a sum that can go down.
    UpDownCounter,
    /// A histogram: a distribution of recorded values.
    Histogram,
    /// A gauge: a value read at collection time.
    Gauge,
}

const fn metric(
    instrument: Instrument,
    suffix: &'static str,
    unit: &'static str,
    description: &'static str,
) -> MetricName {
    MetricName {
        suffix,
        unit,
        description,
        instrument,
    }
}

const fn counter(
    suffix: &'static str,
    unit: &'static str,
    description: &'static str,
) -> MetricName {
    metric(Instrument::Counter, suffix, unit, description)
}

/// Rows that entered the operator (the rows of its arguments).
pub const ROWS_IN: MetricName = counter("rows.in", "{row}", "Rows received by the operator");
/// Rows the operator returned.
pub const ROWS_OUT: MetricName = counter("rows.out", "{row}", "Rows produced by the operator");
/// Rows a sink wrote to its destination.
pub const ROWS_WRITTEN: MetricName = counter(
    "rows.written",
    "{row}",
    "Rows written to a destination by the operator",
);
/// Bytes a source read.
pub const BYTES_READ: MetricName = counter("bytes.read", "By", "Bytes read by the operator");
/// Bytes a sink wrote.
pub const BYTES_WRITTEN: MetricName =
    counter("bytes.written", "By", "Bytes written by the operator");
/// Wall-clock time spent inside the operator, in seconds: the default, as the
/// OpenTelemetry semantic conventions ask (Prometheus: `<namespace>_duration_seconds_total`).
pub const DURATION: MetricName = counter(
    "duration",
    "s",
    "Wall-clock time spent inside the operator's calls",
);
/// [`DURATION`] in whole microseconds, Daft's name and unit (Prometheus:
/// `<namespace>_duration_microseconds_total`): exported instead of [`DURATION`] with
/// [`DurationUnit::Microseconds`].
pub const DURATION_MICROSECONDS: MetricName = counter(
    "duration",
    "us",
    "Wall-clock time spent inside the operator's calls",
);

/// The unit of the operator `duration` counter, chosen with
/// [`Config::duration_unit`](crate::Config::duration_unit).
///
/// ```
/// use pipetel::names::{DurationUnit, DURATION_MICROSECONDS};
///
/// assert_eq!(DurationUnit::default(), DurationUnit::Seconds);
/// assert_eq!(DurationUnit::Microseconds.metric(), DURATION_MICROSECONDS);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DurationUnit {
    /// Seconds, as a floating-point counter ([`DURATION`]).
    #[default]
    Seconds,
    /// Whole microseconds, as an integer counter ([`DURATION_MICROSECONDS`]), for engines
    /// that publish Daft's exact names. The Grafana dashboard in `ops/` expects seconds.
    Microseconds,
}

impl DurationUnit {
    /// The `duration` metric in this unit.
    pub const fn metric(self) -> MetricName {
        match self {
            DurationUnit::Seconds => DURATION,
            DurationUnit::Microseconds => DURATION_MICROSECONDS,
        }
    }
}

/// Calls of the operator that are running now.
pub const TASK_ACTIVE: MetricName = metric(
    Instrument::UpDownCounter,
    "task.active",
    "{task}",
    "Calls of the operator running now",
);
/// Calls that returned normally.
pub const TASK_COMPLETED: MetricName = counter(
    "task.completed",
    "{task}",
    "Calls of the operator that completed",
);
/// Calls that returned an `Err` or panicked.
pub const TASK_FAILED: MetricName = counter(
    "task.failed",
    "{task}",
    "Calls of the operator that returned an error or panicked",
);
/// Calls abandoned before they finished (an async operator's future dropped early).
pub const TASK_CANCELLED: MetricName = counter(
    "task.cancelled",
    "{task}",
    "Calls of the operator abandoned before they finished",
);

/// Every operator metric (with `duration` in seconds, the default [`DurationUnit`]).
pub const OPERATOR_METRICS: [MetricName; 10] = [
    ROWS_IN,
    ROWS_OUT,
    ROWS_WRITTEN,
    BYTES_READ,
    BYTES_WRITTEN,
    DURATION,
    TASK_ACTIVE,
    TASK_COMPLETED,
    TASK_FAILED,
    TASK_CANCELLED,
];

/// Time an operator's calls spent waiting rather than working, in seconds, by
/// `node.type`, `node.id` and [`WAIT_STATE`]: `starved` (for input), `blocked` (its
/// output not taken), `queued` (woken, not yet polled). [`DURATION`] (busy time) plus
/// the three is the operators' wall time. A state of an operator is exported once it is
/// not zero. In whole microseconds (unit `us`) with [`DurationUnit::Microseconds`].
pub const WAIT: MetricName = counter(
    "wait",
    "s",
    "Time operators spent waiting: starved (for input), blocked (output not taken), queued (woken, not yet polled)",
);
/// [`WAIT`] in whole microseconds, with [`DurationUnit::Microseconds`].
pub const WAIT_MICROSECONDS: MetricName = counter(
    "wait",
    "us",
    "Time operators spent waiting: starved (for input), blocked (output not taken), queued (woken, not yet polled)",
);
/// The attribute of [`WAIT`] naming the state: [`STARVED`], [`BLOCKED`] or [`QUEUED`].
pub const WAIT_STATE: &str = "state";
/// [`WAIT_STATE`] of time waiting for input.
pub const STARVED: &str = "starved";
/// [`WAIT_STATE`] of time whose output was not taken.
pub const BLOCKED: &str = "blocked";
/// [`WAIT_STATE`] of time woken and not yet polled.
pub const QUEUED: &str = "queued";

/// Heap bytes the operator allocated (a block grown counts its growth), by `node.type`
/// and `node.id`; allocations outside any operator under `node.id` and `node.type`
/// [`UNATTRIBUTED`]. Exported with the tracking allocator only (feature `alloc`).
pub const MEMORY_ALLOCATED: MetricName = counter(
    "memory.allocated",
    "By",
    "Heap bytes allocated by the operator, measured by the tracking allocator",
);
/// Heap bytes of the operator's blocks held now, wherever they were freed; as
/// [`MEMORY_ALLOCATED`].
pub const MEMORY_LIVE: MetricName = metric(
    Instrument::Gauge,
    "memory.live",
    "By",
    "Heap bytes the operator allocated that are not freed yet",
);
/// The most heap bytes of the operator's held at once, sampled each time it returns (a
/// call, a poll, an item) and at each collection; as [`MEMORY_ALLOCATED`].
pub const MEMORY_PEAK: MetricName = metric(
    Instrument::Gauge,
    "memory.peak",
    "By",
    "The most heap bytes of the operator held at once, sampled each time it returns",
);
/// The `node.type` and `node.id` of the memory allocated outside any operator.
pub const UNATTRIBUTED: &str = "unattributed";

/// How many operator series pipetel counts apart now: distinct `(node.type, node.id)`
/// pairs, the `node.id = "other"` ones included (a gauge without attributes; see
/// [`MAX_OPERATOR_SERIES`](crate::limits::MAX_OPERATOR_SERIES)).
pub const SERIES: MetricName = metric(
    Instrument::Gauge,
    "series",
    "{series}",
    "Operator series counted apart: distinct (node.type, node.id) pairs",
);

/// Busy time of each operator call (each segment: a call, a poll, an item), by
/// `node.type` and `node.id`: a histogram, in seconds, with the buckets
/// [`CALL_DURATION_BUCKETS`].
pub const CALL_DURATION: MetricName = metric(
    Instrument::Histogram,
    "call.duration",
    "s",
    "Busy time of each operator call (poll, item)",
);
/// The bucket boundaries of [`CALL_DURATION`], in seconds: 1, 2.5 and 5 times each power
/// of ten from 100 ns to 100 s.
pub const CALL_DURATION_BUCKETS: [f64; 28] = [
    0.000_000_1,
    0.000_000_25,
    0.000_000_5, // 100 ns
    0.000_001,
    0.000_002_5,
    0.000_005, // 1 µs
    0.000_01,
    0.000_025,
    0.000_05, //
    0.000_1,
    0.000_25,
    0.000_5, //
    0.001,
    0.002_5,
    0.005, // 1 ms
    0.01,
    0.025,
    0.05, //
    0.1,
    0.25,
    0.5, //
    1.0,
    2.5,
    5.0, // 1 s
    10.0,
    25.0,
    50.0, //
    100.0,
];
/// Rows each operator call (each item) handed out, by `node.type` and `node.id`: a
/// histogram with the buckets [`CALL_ROWS_BUCKETS`].
pub const CALL_ROWS: MetricName = metric(
    Instrument::Histogram,
    "call.rows",
    "{row}",
    "Rows each operator call (item) handed out",
);
/// The bucket boundaries of [`CALL_ROWS`]: 0, then each power of two from 1 to 2²⁰.
pub const CALL_ROWS_BUCKETS: [f64; 22] = [
    0.0,
    1.0,
    2.0,
    4.0,
    8.0,
    16.0,
    32.0,
    64.0,
    128.0,
    256.0,
    512.0,
    1024.0,
    2048.0,
    4096.0,
    8192.0,
    16384.0,
    32768.0,
    65536.0,
    131_072.0,
    262_144.0,
    524_288.0,
    1_048_576.0,
];
/// Heap bytes each operator call (each segment: a call, a poll, an item) allocated, its
/// own (not what operators it called allocated), measured by the tracking allocator
/// (`pipetel::alloc`, feature `alloc`), by `node.type` and `node.id`: a histogram with the
/// buckets [`CALL_ALLOCATED_BUCKETS`]. Only with the tracking allocator.
pub const CALL_ALLOCATED: MetricName = metric(
    Instrument::Histogram,
    "call.allocated",
    "By",
    "Heap bytes each operator call allocated, measured by the tracking allocator",
);
/// The bucket boundaries of [`CALL_ALLOCATED`], in bytes: 0, then each power of four from
/// 64 B to 1 GiB.
pub const CALL_ALLOCATED_BUCKETS: [f64; 14] = [
    0.0,
    64.0,
    256.0,
    1024.0, // KiB
    4096.0,
    16_384.0,
    65_536.0,
    262_144.0,
    1_048_576.0, // MiB
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
    268_435_456.0,
    1_073_741_824.0, // GiB
];
/// How unevenly an operator's work spreads over its threads or partitions: DataFusion's
/// skew score, 0 (even) to 1 (all in one), by `node.type`, `node.id`, [`SKEW_ACROSS`]
/// (`threads`, `partitions`) and [`SKEW_MEASURE`] (`rows`, `busy`); only for operators
/// run by two or more.
pub const SKEW: MetricName = metric(
    Instrument::Gauge,
    "skew",
    "1",
    "Skew of an operator's rows or busy time across threads or partitions (0 even, 1 all in one)",
);
/// The attribute of [`SKEW`] saying across what: `threads` or `partitions`.
pub const SKEW_ACROSS: &str = "across";
/// The attribute of [`SKEW`] saying of what: `rows` or `busy`.
pub const SKEW_MEASURE: &str = "measure";

/// How far an operator is toward its expected total, 0 to 1 (never lower than before),
/// by `node.type` and `node.id`: a gauge, for operators with an expected total (said, or
/// following from their inputs'; see [`Estimate`](crate::snapshot::Estimate)).
pub const PROGRESS: MetricName = metric(
    Instrument::Gauge,
    "progress",
    "1",
    "How far the operator is toward its expected total (0 to 1)",
);
/// The rows an operator is expected to handle in all, by `node.type` and `node.id`: a
/// gauge, beside [`PROGRESS`].
pub const ROWS_EXPECTED: MetricName = metric(
    Instrument::Gauge,
    "rows.expected",
    "{row}",
    "Rows the operator is expected to handle in all",
);
/// When an operator will have handled its expected total, in seconds from the
/// collection, by `node.type` and `node.id`: a gauge, beside [`PROGRESS`], once its rate
/// is measured.
pub const ETA: MetricName = metric(
    Instrument::Gauge,
    "eta",
    "s",
    "Seconds until the operator has handled its expected total, at its smoothed rate",
);

/// The full metric name: `<namespace>.<suffix>`.
///
/// ```
/// assert_eq!(pipetel::names::full_name("daft", &pipetel::names::ROWS_IN), "daft.rows.in");
/// ```
pub fn full_name(namespace: &str, metric: &MetricName) -> String {
    format!("{namespace}.{}", metric.suffix)
}

/// What an instrument of `metric` is built with under `namespace`: its full name, unit
/// and description.
pub(crate) fn described(
    namespace: &str,
    metric: &MetricName,
) -> (String, &'static str, &'static str) {
    (
        full_name(namespace, metric),
        metric.unit,
        metric.description,
    )
}

/// The attribute naming a pipeline (run spans, pipeline metrics).
pub const PIPELINE_NAME: &str = "pipeline.name";
/// The attribute naming a step (pipeline metrics).
pub const STEP: &str = "step";
/// The attribute giving a run's outcome: [`SUCCESS`] or [`FAILURE`].
pub const RESULT: &str = "result";
/// [`RESULT`] of a run that returned `Ok`.
pub const SUCCESS: &str = "success";
/// [`RESULT`] of a run that returned `Err` or panicked.
pub const FAILURE: &str = "failure";
/// The run span attribute holding the rows of all its steps.
pub const RUN_ROWS: &str = "pipeline.rows";
/// The run span attribute holding [`RESULT`].
pub const RUN_RESULT: &str = "pipeline.result";
/// The semantic-convention attribute naming the type of an error.
pub const ERROR_TYPE: &str = "error.type";
/// The span event recording an error.
pub const EXCEPTION_EVENT: &str = "exception";
/// Event attribute: the error's type.
pub const EXCEPTION_TYPE: &str = "exception.type";
/// Event attribute: the error's message.
pub const EXCEPTION_MESSAGE: &str = "exception.message";
/// Event attribute: the messages of the error's sources, outermost first.
pub const EXCEPTION_SOURCES: &str = "exception.sources";
/// The name of the OpenTelemetry instrumentation scope of pipeline spans.
pub const PIPELINE_SCOPE: &str = "pipetel.pipeline";

/// Runs of a pipeline, by `pipeline.name` and `result`.
pub const PIPELINE_RUNS: MetricName = counter("pipeline.runs", "{run}", "Pipeline runs, by result");
/// Time spent in each step, by `pipeline.name` and `step` (a histogram, in seconds, with
/// the buckets [`STEP_DURATION_BUCKETS`]).
pub const PIPELINE_STEP_DURATION: MetricName = metric(
    Instrument::Histogram,
    "pipeline.step.duration",
    "s",
    "Duration of pipeline steps",
);

/// The bucket boundaries of [`PIPELINE_STEP_DURATION`], in seconds: 1, 2.5 and 5 times
/// each power of ten from 10 µs to 1,000 s, then 10,000 s (2 h 47 min). Steps last from
/// microseconds (a transform of a small batch) to hours (a load), so each decade gets
/// three buckets; a percentile read from them is off by at most the bucket's width.
pub const STEP_DURATION_BUCKETS: [f64; 28] = [
    0.00001, 0.000025, 0.00005, // 10 µs
    0.0001, 0.00025, 0.0005, //
    0.001, 0.0025, 0.005, // 1 ms
    0.01, 0.025, 0.05, //
    0.1, 0.25, 0.5, //
    1.0, 2.5, 5.0, // 1 s
    10.0, 25.0, 50.0, //
    100.0, 250.0, 500.0, //
    1_000.0, 2_500.0, 5_000.0, //
    10_000.0,
];
/// Rows produced by each step, by `pipeline.name` and `step`.
pub const PIPELINE_ROWS: MetricName =
    counter("pipeline.rows", "{row}", "Rows produced by pipeline steps");
