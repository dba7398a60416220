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

/// Every metric, with its attributes, its unit with Daft's duration unit when it has
/// one, and its histogram buckets when it is a histogram.
const METRICS: &[(MetricName, &[&str], Option<MetricName>, Option<&[f64]>)] = &[
    (names::ROWS_IN, OPERATOR, None, None),
    (names::ROWS_OUT, OPERATOR, None, None),
    (names::ROWS_WRITTEN, OPERATOR, None, None),
    (names::BYTES_READ, OPERATOR, None, None),
    (names::BYTES_WRITTEN, OPERATOR, None, None),
    (
        names::DURATION,
        OPERATOR,
        Some(names::DURATION_MICROSECONDS),
        None,
    ),
    (names::TASK_ACTIVE, OPERATOR, None, None),
    (names::TASK_COMPLETED, OPERATOR, None, None),
    (names::TASK_FAILED, OPERATOR, None, None),
    (names::TASK_CANCELLED, OPERATOR, None, None),
    (
        names::WAIT,
        &[NODE_TYPE, NODE_ID, WAIT_STATE],
        Some(names::WAIT_MICROSECONDS),
        None,
    ),
    (
        names::CALL_DURATION,
        OPERATOR,
        None,
        Some(&names::CALL_DURATION_BUCKETS),
    ),
    (
        names::CALL_ROWS,
        OPERATOR,
        None,
        Some(&names::CALL_ROWS_BUCKETS),
    ),
    (
        names::CALL_ALLOCATED,
        OPERATOR,
        None,
        Some(&names::CALL_ALLOCATED_BUCKETS),
    ),
    (
        names::SKEW,
        &[NODE_TYPE, NODE_ID, SKEW_ACROSS, SKEW_MEASURE],
        None,
        None,
    ),
    (names::PROGRESS, OPERATOR, None, None),
    (names::ROWS_EXPECTED, OPERATOR, None, None),
    (names::ETA, OPERATOR, None, None),
    (names::MEMORY_ALLOCATED, OPERATOR, None, None),
    (names::MEMORY_LIVE, OPERATOR, None, None),
    (names::MEMORY_PEAK, OPERATOR, None, None),
    (names::SERIES, &[], None, None),
    (names::PIPELINE_RUNS, &[PIPELINE_NAME, RESULT], None, None),
    (
        names::PIPELINE_STEP_DURATION,
        &[PIPELINE_NAME, STEP],
        None,
        Some(&names::STEP_DURATION_BUCKETS),
    ),
    (names::PIPELINE_ROWS, &[PIPELINE_NAME, STEP], None, None),
];

/// The table of metrics, in Markdown: each metric's name after the namespace, its
/// instrument, unit, attributes and description (with its buckets, for a histogram).
pub fn metrics_markdown() -> String {
    let mut table = String::from(
        "| name | instrument | unit | attributes | description |\n|---|---|---|---|---|\n",
    );
    for (metric, attributes, daft, buckets) in METRICS {
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
        for (metric, ..) in METRICS {
            let row = format!("| `{}` |", metric.suffix);
            assert_eq!(table.matches(&row).count(), 1, "{row}");
        }
        for metric in names::OPERATOR_METRICS {
            assert!(
                METRICS
                    .iter()
                    .any(|(listed, ..)| listed.suffix == metric.suffix),
                "{}",
                metric.suffix
            );
        }
        assert_eq!(bound(1e-7), "0.0000001");
        assert_eq!(bound(1_048_576.0), "1,048,576");
    }
}
