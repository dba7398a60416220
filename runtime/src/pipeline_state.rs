//! What runs and steps record into, set by `init` and cleared when telemetry stops: the
//! tracer (when traces are exported) and the pipeline instruments (when metrics are).
//! Read under a read lock once per run or step — coarse operations, so this is fine.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use crate::names;

/// The pipeline instruments.
pub(crate) struct PipelineInstruments {
    pub(crate) runs: Counter<u64>,
    pub(crate) step_duration: Histogram<f64>,
    pub(crate) rows: Counter<u64>,
}

impl PipelineInstruments {
    pub(crate) fn new(meter: &Meter, namespace: &str) -> Self {
        let name = |metric: &names::MetricName| names::full_name(namespace, metric);
        PipelineInstruments {
            runs: meter
                .u64_counter(name(&names::PIPELINE_RUNS))
                .with_unit(names::PIPELINE_RUNS.unit)
                .with_description(names::PIPELINE_RUNS.description)
                .build(),
            step_duration: meter
                .f64_histogram(name(&names::PIPELINE_STEP_DURATION))
                .with_unit(names::PIPELINE_STEP_DURATION.unit)
                .with_description(names::PIPELINE_STEP_DURATION.description)
                .build(),
            rows: meter
                .u64_counter(name(&names::PIPELINE_ROWS))
                .with_unit(names::PIPELINE_ROWS.unit)
                .with_description(names::PIPELINE_ROWS.description)
                .build(),
        }
    }
}

/// The tracer and instruments of the running telemetry.
pub(crate) struct PipelineTelemetry {
    pub(crate) tracer: Option<SdkTracer>,
    pub(crate) instruments: Option<PipelineInstruments>,
}

impl PipelineTelemetry {
    pub(crate) fn new(
        traces: Option<&SdkTracerProvider>,
        instruments: Option<PipelineInstruments>,
    ) -> Self {
        PipelineTelemetry {
            tracer: traces.map(|provider| provider.tracer(names::PIPELINE_SCOPE)),
            instruments,
        }
    }
}

static ON: AtomicBool = AtomicBool::new(false);
static STATE: RwLock<Option<Arc<PipelineTelemetry>>> = RwLock::new(None);

/// Whether runs and steps record anything. One relaxed load.
#[inline(always)]
pub fn pipelines_enabled() -> bool {
    ON.load(Relaxed)
}

/// The running telemetry, if any.
pub(crate) fn current() -> Option<Arc<PipelineTelemetry>> {
    if !pipelines_enabled() {
        return None;
    }
    STATE
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

/// Starts recording into `telemetry` (or stops, with `None`).
pub(crate) fn install(telemetry: Option<PipelineTelemetry>) {
    let on = telemetry.is_some();
    *STATE
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = telemetry.map(Arc::new);
    ON.store(on, Relaxed);
}
