//! What runs per `#[pipeline_step]` call: a span named after the step, child of the
//! current run (a root span outside any run), with `<step>.rows` and, on failure, an
//! `exception` event; and the `pipeline.step.duration` and `pipeline.rows` metrics.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, ContextGuard, KeyValue};

use crate::error_report::ErrorReport;
use crate::names;
use crate::pipeline_state::{self, PipelineTelemetry};
use crate::span_record::{current_run, end_span, record_error, start_span, RunScope, StepName};

/// One step call in progress. Created on entry; closed by [`finish`](Self::finish) on
/// return, or by `Drop` on a panic (or, for an async step, a future dropped early).
#[doc(hidden)]
pub struct StepGuard {
    telemetry: &'static PipelineTelemetry,
    context: Context,
    step: &'static str,
    rows_key: &'static str,
    run: Option<Arc<RunScope>>,
    /// When the step started, if a duration metric is recorded.
    started: Option<Instant>,
    finished: bool,
    is_async: bool,
}

impl std::fmt::Debug for StepGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepGuard")
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl StepGuard {
    /// Starts the step `step`, whose row count goes to the span attribute `rows_key`.
    /// For an async step, a drop before the end is a cancellation; for a sync one it is
    /// an early exit (a `?` on an `Option`), which is not a failure.
    #[inline]
    pub fn start(step: &'static str, rows_key: &'static str, is_async: bool) -> Option<Self> {
        let telemetry = pipeline_state::current()?;
        let run = current_run();
        let context = start_span(telemetry, step, Vec::new());
        let context = match telemetry.step_names {
            true => context.with_value(StepName(step)),
            false => context,
        };
        Some(StepGuard {
            started: telemetry.instruments.as_ref().map(|_| Instant::now()),
            telemetry,
            context,
            step,
            rows_key,
            run,
            finished: false,
            is_async,
        })
    }

    /// Makes the step's span current on this thread until the guard drops.
    pub fn attach(&self) -> ContextGuard {
        self.context.clone().attach()
    }

    /// The step's context, to make current while an async step is polled.
    pub fn context(&self) -> Context {
        self.context.clone()
    }

    /// Closes a step that returned: its rows, and its error if it returned one.
    pub fn finish(mut self, rows: u64, error: Option<ErrorReport>) {
        self.finished = true;
        self.close(rows, error);
    }

    fn close(&self, rows: u64, error: Option<ErrorReport>) {
        let span = self.context.span();
        span.set_attribute(KeyValue::new(self.rows_key, rows as i64));
        if let Some(error) = &error {
            record_error(&self.context, error);
        }
        end_span(&self.context);
        if let Some(run) = &self.run {
            run.rows.fetch_add(rows, Relaxed);
        }
        if let (Some(instruments), Some(started)) = (&self.telemetry.instruments, self.started) {
            let mut attributes = Vec::with_capacity(2);
            if let Some(run) = &self.run {
                attributes.push(KeyValue::new(names::PIPELINE_NAME, run.pipeline));
            }
            attributes.push(KeyValue::new(names::STEP, self.step));
            instruments
                .step_duration
                .record(started.elapsed().as_secs_f64(), &attributes);
            instruments.rows.add(rows, &attributes);
        }
    }
}

impl Drop for StepGuard {
    fn drop(&mut self) {
        if !self.finished {
            let error = if std::thread::panicking() {
                Some(ErrorReport::other("panic", "the step panicked"))
            } else if self.is_async {
                Some(ErrorReport::other(
                    "cancelled",
                    "the step was dropped before it finished",
                ))
            } else {
                None
            };
            self.close(0, error);
        }
    }
}
