//! What runs and steps record into, set by `init` and cleared when telemetry stops: the
//! tracer (when traces are exported), the pipeline instruments (when metrics are), and
//! whether log records want the step name in the context (when logs are).

use std::ptr;
use std::sync::atomic::{
    AtomicBool, AtomicPtr, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry::metrics::{BoundCounter, BoundHistogram, Counter, Histogram, Meter};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use crate::names;

/// The pipeline instruments.
#[derive(Clone)]
pub(crate) struct PipelineInstruments {
    pub(crate) runs: Counter<u64>,
    step_duration: Histogram<f64>,
    rows: Counter<u64>,
    /// Each step's instruments, bound to its attributes, by (pipeline, step).
    steps: Arc<Mutex<HashMap<StepKey, StepInstruments>>>,
}

type StepKey = (Option<&'static str>, &'static str);

/// One step's instruments, bound to its `pipeline.name` and `step`.
#[derive(Clone)]
pub(crate) struct StepInstruments {
    pub(crate) duration: BoundHistogram<f64>,
    pub(crate) rows: BoundCounter<u64>,
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
                .with_boundaries(names::STEP_DURATION_BUCKETS.to_vec())
                .build(),
            rows: meter
                .u64_counter(name(&names::PIPELINE_ROWS))
                .with_unit(names::PIPELINE_ROWS.unit)
                .with_description(names::PIPELINE_ROWS.description)
                .build(),
            steps: Arc::default(),
        }
    }

    /// The instruments of `step` in `pipeline`, bound on the step's first call. From then
    /// on the step has a point in every export, at zero until a call ends, so that a
    /// scraper sees its first call as an increase (`rate()` does not count a series'
    /// first sample).
    pub(crate) fn step(
        &self,
        pipeline: Option<&'static str>,
        step: &'static str,
    ) -> StepInstruments {
        let mut steps = self.steps.lock().unwrap_or_else(PoisonError::into_inner);
        steps
            .entry((pipeline, step))
            .or_insert_with(|| {
                let mut attributes = Vec::with_capacity(2);
                if let Some(pipeline) = pipeline {
                    attributes.push(KeyValue::new(names::PIPELINE_NAME, pipeline));
                }
                attributes.push(KeyValue::new(names::STEP, step));
                StepInstruments {
                    duration: self.step_duration.bind(&attributes),
                    rows: self.rows.bind(&attributes),
                }
            })
            .clone()
    }
}

/// The tracer and instruments of the running telemetry.
#[derive(Clone)]
pub(crate) struct PipelineRecorder {
    pub(crate) tracer: Option<SdkTracer>,
    pub(crate) instruments: Option<PipelineInstruments>,
    /// Whether steps put their name in the context, for log records.
    pub(crate) step_names: bool,
}

impl PipelineRecorder {
    pub(crate) fn new(
        traces: Option<&SdkTracerProvider>,
        instruments: Option<PipelineInstruments>,
        step_names: bool,
    ) -> Self {
        PipelineRecorder {
            tracer: traces.map(|provider| provider.tracer(names::PIPELINE_SCOPE)),
            instruments,
            step_names,
        }
    }
}

static ON: AtomicBool = AtomicBool::new(false);
/// The running telemetry. Each `init` leaks one small `PipelineRecorder` (its providers
/// are shut down when the guard drops), so that runs and steps borrow it for `'static`
/// with one atomic load — no lock, no reference count.
static STATE: AtomicPtr<PipelineRecorder> = AtomicPtr::new(ptr::null_mut());

/// Whether runs and steps record anything. One relaxed load.
#[inline(always)]
pub fn pipelines_enabled() -> bool {
    cfg!(feature = "enabled") && ON.load(Relaxed)
}

/// The running telemetry, if any.
#[inline]
pub(crate) fn current() -> Option<&'static PipelineRecorder> {
    if !pipelines_enabled() {
        return None;
    }
    // SAFETY: a non-null pointer comes from `Box::leak` in `install` and is never freed.
    unsafe { STATE.load(Acquire).as_ref() }
}

/// Starts recording into `telemetry` (or stops, with `None`).
pub(crate) fn install(telemetry: Option<PipelineRecorder>) {
    let on = telemetry.is_some();
    let leaked = telemetry.map_or(ptr::null_mut(), |telemetry| {
        ptr::from_mut(Box::leak(Box::new(telemetry)))
    });
    STATE.store(leaked, Release);
    ON.store(on, Relaxed);
}
