//! Process metrics under the OpenTelemetry semantic conventions, read with `sysinfo` at
//! collection time only (never per call): `process.memory.usage` (resident memory, By)
//! and `process.cpu.time` (CPU seconds used by the process, s). On whenever metrics are
//! exported, unless [`Config::process_metrics`](crate::Config::process_metrics) turns
//! them off.

use std::sync::{Arc, Mutex};

use opentelemetry::metrics::Meter;

use crate::process_usage::UsageReader;

/// `process.memory.usage`, as the semantic conventions name it.
pub(crate) const PROCESS_MEMORY_USAGE: &str = "process.memory.usage";
/// `process.cpu.time`, as the semantic conventions name it.
pub(crate) const PROCESS_CPU_TIME: &str = "process.cpu.time";

/// Registers the two observable instruments on `meter`; nothing if the process cannot
/// be found (an unsupported platform).
pub(crate) fn register(meter: &Meter) {
    let Some(reader) = UsageReader::new() else {
        return;
    };
    let reader = Arc::new(Mutex::new(reader));
    let read = move || {
        let usage = reader.lock().ok().and_then(|mut reader| reader.read())?;
        Some((usage.resident, usage.cpu_ms))
    };
    let read_memory = read.clone();
    meter
        .i64_observable_up_down_counter(PROCESS_MEMORY_USAGE)
        .with_unit("By")
        .with_description("The amount of physical memory in use")
        .with_callback(move |observer| {
            if let Some((memory, _)) = read_memory() {
                observer.observe(i64::try_from(memory).unwrap_or(i64::MAX), &[]);
            }
        })
        .build();
    meter
        .f64_observable_counter(PROCESS_CPU_TIME)
        .with_unit("s")
        .with_description("Total CPU seconds used by the process")
        .with_callback(move |observer| {
            if let Some((_, cpu_ms)) = read() {
                observer.observe(cpu_ms as f64 / 1000.0, &[]);
            }
        })
        .build();
}
