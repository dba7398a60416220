//! What runs and steps share: starting a span under the right parent, recording a
//! failure on it, the run scope steps add their rows to, and the run's lane made current.

use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use opentelemetry::trace::{Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};

use crate::counters::lanes::{Lane, LaneLease, NO_LANE};
use crate::counters::thread_state::this_thread;
use crate::names;
use crate::pipeline::error_report::ErrorReport;
use crate::pipeline::propagation::parent_context;
use crate::pipeline::recorder::PipelineRecorder;

/// The run a step belongs to: its pipeline's name, its number, the rows its steps
/// produced, and the lane it counts in (none past `MAX_LANES`).
#[derive(Debug)]
pub(crate) struct RunScope {
    pub(crate) pipeline: &'static str,
    /// The run's number in the history (`pipeline::history`).
    pub(crate) number: u64,
    pub(crate) rows: AtomicU64,
    pub(crate) lease: Option<Arc<LaneLease>>,
}

impl RunScope {
    /// The run's lane, or [`NO_LANE`].
    pub(crate) fn lane(&self) -> Lane {
        self.lease.as_ref().map_or(NO_LANE, |lease| lease.lane)
    }
}

/// The step a context belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepName(pub(crate) &'static str);

/// The step of the current context, if a step is active.
pub(crate) fn current_step_name() -> Option<&'static str> {
    Context::map_current(|context| context.get::<StepName>().map(|step| step.0))
}

/// The run scope of the current context, if a run is active.
pub(crate) fn current_run() -> Option<Arc<RunScope>> {
    Context::map_current(|context| context.get::<Arc<RunScope>>().cloned())
}

/// A context holding a new span named `name` (when traces are on), child of the current
/// span or of the environment's trace context.
pub(crate) fn start_span(
    telemetry: &PipelineRecorder,
    name: impl Into<std::borrow::Cow<'static, str>>,
    attributes: Vec<KeyValue>,
) -> Context {
    let parent = parent_context();
    match &telemetry.tracer {
        Some(tracer) => {
            let span = tracer
                .span_builder(name)
                .with_attributes(attributes)
                .start_with_context(tracer, &parent);
            parent.with_span(span)
        }
        None => parent,
    }
}

/// Records `error` on the context's span: an `exception` event, `error.type`, and the
/// Error status with the message.
pub(crate) fn record_error(context: &Context, error: &ErrorReport) {
    let span = context.span();
    let sources: Vec<StringValue> = error
        .sources
        .iter()
        .cloned()
        .map(StringValue::from)
        .collect();
    span.add_event(
        names::EXCEPTION_EVENT,
        vec![
            KeyValue::new(names::EXCEPTION_TYPE, error.error_type.clone()),
            KeyValue::new(names::EXCEPTION_MESSAGE, error.message.clone()),
            KeyValue::new(
                names::EXCEPTION_SOURCES,
                Value::Array(Array::String(sources)),
            ),
        ],
    );
    span.set_attribute(KeyValue::new(names::ERROR_TYPE, error.error_type.clone()));
    let description = if error.message.is_empty() {
        error.error_type.clone()
    } else {
        error.message.clone()
    };
    span.set_status(Status::error(description));
}

/// Ends the context's span (no-op without one).
pub(crate) fn end_span(context: &Context) {
    context.span().end();
}

/// A run's lane made the thread's until dropped (what the thread had back then).
pub(crate) struct InLane(Lane);

impl InLane {
    pub(crate) fn enter(lane: Lane) -> InLane {
        InLane(this_thread().swap_lane(lane))
    }
}

impl Drop for InLane {
    fn drop(&mut self) {
        this_thread().swap_lane(self.0);
    }
}

pin_project_lite::pin_project! {
    /// A future polled with a run's lane current.
    pub(crate) struct PolledInLane<F> {
        #[pin]
        pub(crate) future: F,
        pub(crate) lane: Lane,
    }
}

impl<F: Future> Future for PolledInLane<F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        let _lane = InLane::enter(*this.lane);
        this.future.poll(cx)
    }
}
