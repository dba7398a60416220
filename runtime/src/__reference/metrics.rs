//! The metrics table (docs/metrics.md): every metric pipetel exports under its
//! namespace, with its instrument, unit, attributes and description as the code sends
//! them.

use crate::__reference::format::count;
use crate::names::{
    self, Instrument, MetricName, NODE_ID, NODE_TYPE, PIPELINE_NAME, RESULT, SKEW_ACROSS,
    SKEW_MEASURE, STEP, WAIT_STATE,
};

/// The attributes of an operator's metric.
const OPERATOR: &[&str] = &[NODE_TYPE, NODE_ID];

/// A metric's row: the metric, its attributes, the metric it is in Daft's duration unit
/// (when it has one), and its histogram buckets (when it is a histogram).
struct Row {
    metric: MetricName,
    attributes: &'static [&'static str],
    daft: Option<MetricName>,
    buckets: Option<&'static [f64]>,
}

/// A metric with `attributes`.
const fn row(metric: MetricName, attributes: &'static [&'static str]) -> Row {
    Row {
        metric,
        attributes,
        daft: None,
        buckets: None,
    }
}

/// A duration metric, and the same in Daft's unit.
const fn timed(metric: MetricName, attributes: &'static [&'static str], daft: MetricName) -> Row {
    Row {
        daft: Some(daft),
        ..row(metric, attributes)
    }
}

/// A histogram, with its buckets' bounds.
const fn histogram(
    metric: MetricName,
    attributes: &'static [&'static str],
    buckets: &'static [f64],
) -> Row {
    Row {
        buckets: Some(buckets),
        ..row(metric, attributes)
    }
}

/// Every metric, in the table's order.
const METRICS: &[Row] = &[
    row(names::ROWS_IN, OPERATOR),
    row(names::ROWS_OUT, OPERATOR),
    row(names::ROWS_WRITTEN, OPERATOR),
    row(names::BYTES_READ, OPERATOR),
    row(names::BYTES_WRITTEN, OPERATOR),
    timed(names::DURATION, OPERATOR, names::DURATION_MICROSECONDS),
    row(names::TASK_ACTIVE, OPERATOR),
    row(names::TASK_COMPLETED, OPERATOR),
    row(names::TASK_FAILED, OPERATOR),
    row(names::TASK_CANCELLED, OPERATOR),
    timed(
        names::WAIT,
        &[NODE_TYPE, NODE_ID, WAIT_STATE],
        names::WAIT_MICROSECONDS,
    ),
    histogram(
        names::CALL_DURATION,
        OPERATOR,
        &names::CALL_DURATION_BUCKETS,
    ),
    histogram(names::CALL_ROWS, OPERATOR, &names::CALL_ROWS_BUCKETS),
    histogram(
        names::CALL_ALLOCATED,
        OPERATOR,
        &names::CALL_ALLOCATED_BUCKETS,
    ),
    row(
        names::SKEW,
        &[NODE_TYPE, NODE_ID, SKEW_ACROSS, SKEW_MEASURE],
    ),
    row(names::PROGRESS, OPERATOR),
    row(names::ROWS_EXPECTED, OPERATOR),
    row(names::ETA, OPERATOR),
    row(names::MEMORY_ALLOCATED, OPERATOR),
    row(names::MEMORY_LIVE, OPERATOR),
    row(names::MEMORY_PEAK, OPERATOR),
    row(names::SERIES, &[]),
    row(names::PIPELINE_RUNS, &[PIPELINE_NAME, RESULT]),
    histogram(
        names::PIPELINE_STEP_DURATION,
        &[PIPELINE_NAME, STEP],
        &names::STEP_DURATION_BUCKETS,
    ),
    row(names::PIPELINE_ROWS, &[PIPELINE_NAME, STEP]),
];

/// The table of metrics, in Markdown: each metric's name after the namespace, its
/// instrument, unit, attributes and description (with its buckets, for a histogram).
pub fn metrics_markdown() -> String {
    let mut table = String::from(
        "| name | instrument | unit | attributes | description |\n|---|---|---|---|---|\n",
    );
    for Row {
        metric,
        attributes,
        daft,
        buckets,
    } in METRICS
    {
        let unit = match daft {
            Some(daft) => format!(
                "`{}` (`{}` with `DurationUnit::Microseconds`)",
                metric.unit, daft.unit
            ),
            None => format!("`{}`", metric.unit),
        };
        let attributes: Vec<String> = attributes.iter().map(|key| format!("`{key}`")).collect();
        let mut description = metric.description.to_owned();
        if let Some(buckets) = buckets {
            description.push_str(&format!(
                "; {} buckets, bounds from {} to {}",
                count(buckets.len() + 1),
                bound(buckets[0]),
                bound(buckets[buckets.len() - 1])
            ));
        }
        table.push_str(&format!(
            "| `{}` | {} | {unit} | {} | {description} |\n",
            metric.suffix,
            instrument(metric.instrument),
            attributes.join(", "),
        ));
    }
    table
}

/// An instrument as the table names it.
fn instrument(instrument: Instrument) -> &'static str {
    match instrument {
        Instrument::Counter => "counter",
        Instrument::UpDownCounter => "up-down counter",
        Instrument::Histogram => "histogram",
        Instrument::Gauge => "gauge",
    }
}

/// A bucket bound as written in the table: `1e-7`, `2.5`, `1,048,576`.
fn bound(value: f64) -> String {
    if value >= 1.0 && value.fract() == 0.0 {
        count(value as usize)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_in_the_table_once() {
        let table = metrics_markdown();
        for Row { metric, .. } in METRICS {
            let row = format!("| `{}` |", metric.suffix);
            assert_eq!(table.matches(&row).count(), 1, "{row}");
        }
        for metric in names::OPERATOR_METRICS {
            assert!(
                METRICS.iter().any(|row| row.metric.suffix == metric.suffix),
                "{}",
                metric.suffix
            );
        }
        assert_eq!(bound(1e-7), "0.0000001");
        assert_eq!(bound(1_048_576.0), "1,048,576");
    }
}
