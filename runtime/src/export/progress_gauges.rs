//! Progress at collection time: `<namespace>.progress`, `<namespace>.rows.expected` and
//! `<namespace>.eta`, gauges by `node.type` and `node.id` for every operator with an
//! expected total (`insight::estimates`).
//!
//! Estimates need the graph, the selectivities and the smoothed rates: a snapshot. The
//! `progress` gauge's callback takes one only when some operator said what to expect
//! (without that no operator has an estimate, and a collection costs nothing more), and
//! records the two others, synchronous gauges the SDK reads after every callback ran.

use opentelemetry::metrics::{Gauge, Meter};
use opentelemetry::KeyValue;

use crate::counters::registry;
use crate::insight::read_snapshot::observe;
use crate::names::{self, MetricName};

/// Registers the progress gauges under `namespace`.
pub(crate) fn register(meter: &Meter, namespace: &str) {
    let build = |metric: MetricName| names::described(namespace, &metric);
    let (name, unit, description) = build(names::ROWS_EXPECTED);
    let expected: Gauge<u64> = meter
        .u64_gauge(name)
        .with_unit(unit)
        .with_description(description)
        .build();
    let (name, unit, description) = build(names::ETA);
    let eta: Gauge<f64> = meter
        .f64_gauge(name)
        .with_unit(unit)
        .with_description(description)
        .build();
    let (name, unit, description) = build(names::PROGRESS);
    meter
        .f64_observable_gauge(name)
        .with_unit(unit)
        .with_description(description)
        .with_callback(move |observer| {
            if !registry::any_expected() {
                return;
            }
            for op in observe().operators {
                let Some(estimate) = op.estimate else {
                    continue;
                };
                // In the SDK's sorted order, as the series' own are: given in another,
                // the SDK keeps each point under both orders.
                let attributes = [
                    KeyValue::new(names::NODE_ID, op.node_id),
                    KeyValue::new(names::NODE_TYPE, op.node_type),
                ];
                observer.observe(estimate.fraction, &attributes);
                expected.record(estimate.expected_rows, &attributes);
                if let Some(left) = estimate.eta {
                    eta.record(left.as_secs_f64(), &attributes);
                }
            }
        })
        .build();
}
