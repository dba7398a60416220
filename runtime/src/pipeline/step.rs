//! What runs per `#[pipeline_step]` call: a span named after the step, child of the
//! current run (a root span outside any run), with `<step>.rows` and, on failure, an
//! `exception` event; the `pipeline.step.duration` and `pipeline.rows` metrics; and the
//! step's local statistics (for the snapshot and the report), with the step made the
//! current one on this thread so operators called inside are filed under it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, ContextGuard, KeyValue};

use crate::counters::lanes::Lane;
use crate::counters::step_slot::StepCall;
use crate::counters::thread_state::this_thread;
use crate::operator::clock;
use crate::pipeline::error_report::ErrorReport;
use crate::pipeline::history;
use crate::pipeline::recorder::{self, StepInstruments};
use crate::pipeline::spans::{
    current_run, end_span, record_error, start_span, InLane, RunScope, StepName,
};
use crate::pipeline::totals::{CountedStep, StepSite};
use crate::timeline::{self, Span, SpanKind};

/// One step call in progress. Created on entry; closed by [`finish`](Self::finish) on
/// return, or by `Drop` on a panic (or, for an async step, a future dropped early).
#[doc(hidden)]
pub struct StepGuard {
    context: Context,
    site: &'static StepSite,
    counted: CountedStep,
    run: Option<Arc<RunScope>>,
    /// The call's place among its run's steps in the history, when kept there.
    kept: Option<usize>,
    /// The step's metric instruments, when metrics are exported.
    instruments: Option<StepInstruments>,
    /// The clock when the step started, in raw ticks.
    started: u64,
    finished: bool,
    is_async: bool,
    /// A sync step declared to return `Result`: leaving it without finishing (a `?` or a
    /// `return` written by a macro, which the attribute cannot rewrite) is an error.
    early_exit_fails: bool,
}

impl std::fmt::Debug for StepGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepGuard")
            .field("step", &self.site.name)
            .finish_non_exhaustive()
    }
}

impl StepGuard {
    /// Starts a call of the step of `site`. For an async step, a drop before the end is
    /// a cancellation; for a sync one it is an early exit: a failure when
    /// `early_exit_fails` (a step returning `Result`, left by a `?` or `return` inside a
    /// macro), else not (a `?` on an `Option`).
    #[inline]
    pub fn start(site: &'static StepSite, is_async: bool, early_exit_fails: bool) -> Option<Self> {
        let telemetry = recorder::current()?;
        let run = current_run();
        let counted = site.start(run.as_ref().map(|run| run.pipeline));
        let instruments = telemetry
            .instruments
            .as_ref()
            .map(|instruments| instruments.step(run.as_ref().map(|run| run.pipeline), site.name));
        let context = start_span(telemetry, site.name, Vec::new());
        let context = match telemetry.step_names {
            true => context.with_value(StepName(site.name)),
            false => context,
        };
        let kept = run
            .as_ref()
            .and_then(|run| history::step_started(run.number, site.name));
        Some(StepGuard {
            context,
            site,
            counted,
            run,
            kept,
            instruments,
            started: clock::ticks(),
            finished: false,
            is_async,
            early_exit_fails,
        })
    }

    /// Makes the step current on this thread — its span, and the step operators are filed
    /// under — until the returned guard drops.
    pub fn attach(&self) -> StepAttachment {
        StepAttachment {
            _context: self.context.clone().attach(),
            _lane: InLane::enter(self.lane()),
            previous_step: swap_step(self.counted.call),
        }
    }

    /// The lane of the step's run: its own, or where the step runs outside any run, the
    /// thread's.
    fn lane(&self) -> Lane {
        match &self.run {
            Some(run) => run.lane(),
            None => this_thread().lane(),
        }
    }

    /// `future`, with the step current on the polling thread at every poll.
    pub fn in_step<F: Future>(&self, future: F) -> InStep<F> {
        InStep {
            future,
            context: self.context.clone(),
            step: self.counted.call,
            lane: self.lane(),
        }
    }

    /// Closes a step that returned: its rows, and its error if it returned one.
    pub fn finish(mut self, rows: u64, error: Option<ErrorReport>) {
        self.finished = true;
        self.close(rows, error);
    }

    fn close(&self, rows: u64, error: Option<ErrorReport>) {
        let end = clock::ticks();
        let ticks = end.saturating_sub(self.started);
        timeline::record_span(Span {
            start: self.started,
            end: self.started + ticks,
            kind: SpanKind::Step,
            name: self.site.name,
            pipeline: self.run.as_ref().map(|run| run.pipeline),
            failed: error.is_some(),
        });
        self.counted.end(ticks, rows, error.is_some());
        let span = self.context.span();
        span.set_attribute(KeyValue::new(self.site.rows_key, rows as i64));
        if let Some(error) = &error {
            record_error(&self.context, error);
        }
        end_span(&self.context);
        if let Some(run) = &self.run {
            run.rows.fetch_add(rows, Relaxed);
            if let Some(place) = self.kept {
                let time = std::time::Duration::from_nanos(clock::ticks_to_nanos(ticks));
                history::step_ended(run.number, place, time, rows, error.as_ref());
            }
        }
        if let Some(instruments) = &self.instruments {
            let seconds = clock::ticks_to_nanos(ticks) as f64 / 1e9;
            instruments.duration.record(seconds);
            instruments.rows.add(rows);
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
            } else if self.early_exit_fails {
                Some(ErrorReport::other(
                    "early exit",
                    "the step returned early from inside a macro (a `?` or `return` there): \
                     an error in a step returning Result",
                ))
            } else {
                None
            };
            self.close(0, error);
        }
    }
}

fn swap_step(step: StepCall) -> StepCall {
    this_thread().swap_step(step)
}

/// A sync step made current; restores what was current when dropped.
#[doc(hidden)]
pub struct StepAttachment {
    _context: ContextGuard,
    _lane: InLane,
    previous_step: StepCall,
}

impl Drop for StepAttachment {
    fn drop(&mut self) {
        swap_step(self.previous_step);
    }
}

pin_project_lite::pin_project! {
    /// An async step's body, polled with the step current.
    #[doc(hidden)]
    pub struct InStep<F> {
        #[pin]
        future: F,
        context: Context,
        step: StepCall,
        lane: Lane,
    }
}

impl<F: Future> Future for InStep<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _context = this.context.clone().attach();
        let previous_step = swap_step(*this.step);
        let _lane = InLane::enter(*this.lane);
        let polled = this.future.poll(cx);
        swap_step(previous_step);
        polled
    }
}
