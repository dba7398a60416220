//! The memory per operator at collection time, with the tracking allocator (feature
//! `alloc`): `<namespace>.memory.allocated` (a counter), `memory.live` and `memory.peak`
//! (gauges), in bytes, by `node.type` and `node.id`; the memory allocated outside any
//! operator under both labels [`UNATTRIBUTED`](names::UNATTRIBUTED).
//!
//! Observable instruments: their callbacks read the allocator's table, a few dozen loads
//! per series, only when the SDK collects. One callback reads for the two gauges; the
//! counter's reads again (the SDK gives each observable instrument its own).

use opentelemetry::metrics::Meter;
use opentelemetry::KeyValue;

use crate::counters::registry;
use crate::insight::memory::MemoryReading;
use crate::insight::snapshot::Memory;
use crate::names::{self, MetricName};

/// Registers the memory instruments under `namespace`.
pub(crate) fn register(meter: &Meter, namespace: &str) {
    let build = |metric: MetricName| names::described(namespace, &metric);
    let (name, unit, description) = build(names::MEMORY_PEAK);
    let peak = meter
        .u64_gauge(name)
        .with_unit(unit)
        .with_description(description)
        .build();
    let (name, unit, description) = build(names::MEMORY_LIVE);
    meter
        .u64_observable_gauge(name)
        .with_unit(unit)
        .with_description(description)
        .with_callback(move |observer| {
            for (attributes, memory) in by_operator() {
                observer.observe(memory.live, &attributes);
                peak.record(memory.peak, &attributes);
            }
        })
        .build();
    let (name, unit, description) = build(names::MEMORY_ALLOCATED);
    meter
        .u64_observable_counter(name)
        .with_unit(unit)
        .with_description(description)
        .with_callback(|observer| {
            for (attributes, memory) in by_operator() {
                observer.observe(memory.allocated, &attributes);
            }
        })
        .build();
}

/// Each operator's memory (its queries' series added up) that allocated, and the
/// unattributed, with the attributes they go out with; nothing when the allocator does
/// not track.
fn by_operator() -> Vec<([KeyValue; 2], Memory)> {
    let Some(mut reading) = MemoryReading::read(registry::series_count()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    registry::with_labels(|labels| {
        reading.fold_lanes(labels);
        // Each canonical series is one operator, with the attributes every operator
        // metric of it goes out with.
        for (series, label) in labels.iter().enumerate() {
            let memory = reading.of(series);
            // An operator that never allocated has no memory series.
            if label.canonical as usize == series && memory.allocations > 0 {
                found.push((label.attributes.clone(), memory));
            }
        }
    });
    // In the SDK's sorted order, as the operator metrics' attributes are.
    found.push((
        [
            KeyValue::new(names::NODE_ID, names::UNATTRIBUTED),
            KeyValue::new(names::NODE_TYPE, names::UNATTRIBUTED),
        ],
        reading.unattributed,
    ));
    found
}
