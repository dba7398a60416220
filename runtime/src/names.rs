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
/// Wall-clock time spent inside the operator, in microseconds.
pub const DURATION: MetricName = counter(
    "duration",
    "us",
    "Wall-clock time spent inside the operator's calls",
);
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

/// Every operator metric.
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

/// The full metric name: `<namespace>.<suffix>`.
///
/// ```
/// assert_eq!(pipetel::names::full_name("daft", &pipetel::names::ROWS_IN), "daft.rows.in");
/// ```
pub fn full_name(namespace: &str, metric: &MetricName) -> String {
    format!("{namespace}.{}", metric.suffix)
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
/// Time spent in each step, by `pipeline.name` and `step` (a histogram, in seconds).
pub const PIPELINE_STEP_DURATION: MetricName = metric(
    Instrument::Histogram,
    "pipeline.step.duration",
    "s",
    "Duration of pipeline steps",
);
/// Rows produced by each step, by `pipeline.name` and `step`.
pub const PIPELINE_ROWS: MetricName =
    counter("pipeline.rows", "{row}", "Rows produced by pipeline steps");
