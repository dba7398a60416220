//! [`Pipeline`]: one root span per run, current while the run's steps execute, ended
//! with the run's outcome, duration and total rows; and the `pipeline.runs` metric.

use std::fmt::Display;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, KeyValue};

use crate::counters::lanes::{self, LaneLease, NO_LANE};
use crate::counters::thread_state::this_thread;
use crate::names;
use crate::operator::clock;
use crate::operator::recording::enabled;
use crate::pipeline::error_report::ErrorReport;
use crate::pipeline::history;
use crate::pipeline::recorder::{self, PipelineRecorder};
use crate::pipeline::spans::{end_span, record_error, start_span, InLane, PolledInLane, RunScope};
use crate::pipeline::totals;
use crate::timeline::{self, Span, SpanKind};

/// A data pipeline whose runs are traced: derive it with `#[derive(Pipeline)]`.
///
/// [`run`](Self::run) executes a closure inside a root span named `run <name>`
/// (a child of the caller's span when `TRACEPARENT` is set), with the attributes
/// `pipeline.name` and those of the struct's `#[pipeline(attribute)]` fields. Steps
/// (`#[pipeline_step]`) called inside become its children. The span ends with
/// `pipeline.result` (`success` or `failure`, with `error.type` and an `exception`
/// event on failure) and `pipeline.rows` (the rows of its steps); `pipeline.runs`
/// counts the run by `pipeline.name` and `result`. A panic counts as a failure and
/// propagates.
///
/// ```
/// use pipetel::{pipeline_step, Pipeline};
///
/// #[derive(Pipeline)]
/// #[pipeline(name = "orders")]
/// struct Orders {
///     #[pipeline(attribute)]
///     destination: String, // span attribute pipeline.destination
/// }
///
/// impl Orders {
///     #[pipeline_step]
///     fn extract(&self) -> Result<Vec<u32>, String> {
///         Ok(vec![1, 2, 3]) // extract.rows = 3
///     }
///
///     #[pipeline_step(name = "load")]
///     fn write(&self, rows: Vec<u32>) -> Result<usize, String> {
///         Ok(rows.len())
///     }
/// }
///
/// let orders = Orders { destination: "warehouse".into() };
/// let loaded = orders.run(|p| {
///     let rows = p.extract()?;
///     p.write(rows)
/// });
/// assert_eq!(loaded, Ok(3));
/// ```
pub trait Pipeline {
    /// The `pipeline.name`: `#[pipeline(name = "…")]`, or the struct's name in snake case.
    fn pipeline_name(&self) -> &'static str;

    /// The run span's attributes from the struct's fields (`pipeline.<field>` by default).
    fn pipeline_attributes(&self) -> Vec<KeyValue>;

    /// Runs `body` as one run of this pipeline.
    fn run<T, E: Display>(&self, body: impl FnOnce(&Self) -> Result<T, E>) -> Result<T, E>
    where
        Self: Sized,
    {
        let Some(run) = RunGuard::start(self) else {
            return body(self);
        };
        let result = {
            let _current = run.context.clone().attach();
            let _lane = InLane::enter(run.scope.lane());
            body(self)
        };
        run.finish(result.as_ref().err().map(ErrorReport::of_display));
        result
    }

    /// Runs the future `body` as one run of this pipeline; the run span is current
    /// whenever the future is polled.
    ///
    /// ```
    /// # use pipetel::Pipeline;
    /// # #[derive(Pipeline)]
    /// # struct Nightly;
    /// # async fn work() -> Result<(), std::io::Error> { Ok(()) }
    /// # async fn example() -> Result<(), std::io::Error> {
    /// let nightly = Nightly;
    /// nightly.run_async(async { work().await }).await
    /// # }
    /// ```
    fn run_async<T, E: Display>(
        &self,
        body: impl Future<Output = Result<T, E>>,
    ) -> impl Future<Output = Result<T, E>>
    where
        Self: Sized,
    {
        let run = RunGuard::start(self);
        async move {
            let Some(run) = run else {
                return body.await;
            };
            let lane = run.scope.lane();
            let result = PolledInLane { future: body, lane }
                .with_context(run.context.clone())
                .await;
            run.finish(result.as_ref().err().map(ErrorReport::of_display));
            result
        }
    }
}

/// One run in progress; a drop without [`finish`](Self::finish) is a panic or a
/// cancelled future.
struct RunGuard {
    telemetry: &'static PipelineRecorder,
    context: Context,
    scope: Arc<RunScope>,
    /// The clock when the run started, in raw ticks (as a step's).
    started: u64,
    finished: bool,
}

impl RunGuard {
    fn start<P: Pipeline + ?Sized>(pipeline: &P) -> Option<Self> {
        let telemetry = recorder::current()?;
        let name = pipeline.pipeline_name();
        let mut attributes = vec![KeyValue::new(names::PIPELINE_NAME, name)];
        attributes.extend(pipeline.pipeline_attributes());
        let context = start_span(telemetry, format!("run {name}"), attributes);
        let span_context = context.span().span_context().clone();
        let trace_id = span_context
            .is_valid()
            .then(|| span_context.trace_id().to_string());
        let thread = this_thread();
        let parent = match thread.lane() {
            NO_LANE => None,
            lane => lanes::holder(lane),
        };
        // A lane only while operators count: with traces alone there is nothing to view.
        let lease = enabled()
            .then(|| LaneLease::take(parent, thread.current_step(), None))
            .flatten();
        let scope = Arc::new(RunScope {
            pipeline: name,
            number: history::run_started(name, lease.as_ref().map(|l| l.id()), trace_id),
            rows: AtomicU64::new(0),
            lease,
        });
        let context = context.with_value(scope.clone());
        totals::run_started(name);
        Some(RunGuard {
            telemetry,
            context,
            scope,
            started: clock::ticks(),
            finished: false,
        })
    }

    fn finish(mut self, error: Option<ErrorReport>) {
        self.finished = true;
        self.close(error);
    }

    fn close(&self, error: Option<ErrorReport>) {
        let rows = self.scope.rows.load(Relaxed);
        let end = clock::ticks().max(self.started);
        let time = Duration::from_nanos(clock::ticks_to_nanos(end - self.started));
        timeline::record_span(Span {
            start: self.started,
            end,
            kind: SpanKind::Run,
            name: self.scope.pipeline,
            pipeline: Some(self.scope.pipeline),
            failed: error.is_some(),
        });
        totals::run_ended(self.scope.pipeline, time, rows, error.is_some());
        history::run_ended(self.scope.number, time, rows, error.as_ref());
        let span = self.context.span();
        span.set_attribute(KeyValue::new(names::RUN_ROWS, rows as i64));
        let result = if error.is_some() {
            names::FAILURE
        } else {
            names::SUCCESS
        };
        span.set_attribute(KeyValue::new(names::RUN_RESULT, result));
        if let Some(error) = &error {
            record_error(&self.context, error);
        }
        end_span(&self.context);
        if let Some(instruments) = &self.telemetry.instruments {
            instruments.runs.add(
                1,
                &[
                    KeyValue::new(names::PIPELINE_NAME, self.scope.pipeline),
                    KeyValue::new(names::RESULT, result),
                ],
            );
        }
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if !self.finished {
            let error = if std::thread::panicking() {
                ErrorReport::other("panic", "the run panicked")
            } else {
                ErrorReport::other("cancelled", "the run was dropped before it finished")
            };
            self.close(Some(error));
        }
    }
}
