//! Steps in-process, read back through the SDK's in-memory span exporter: an async step
//! dropped before it finished, `trace_env()` inside a step, a `return` inside a step,
//! steps that never return (`-> !`), and steps outside any run. One telemetry per
//! process, so one test function.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use opentelemetry::trace::{Status, TraceContextExt as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use pipetel::{pipeline_step, Config, Pipeline};

/// Pending once, then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

#[pipeline_step]
async fn slow_load(rows: Vec<u8>) -> Result<Vec<u8>, String> {
    YieldOnce(false).await;
    Ok(rows)
}

#[pipeline_step]
fn spawn_worker() -> Vec<(&'static str, String)> {
    pipetel::otel::trace_env()
}

#[pipeline_step]
fn early(rows: Vec<u8>) -> Result<Vec<u8>, String> {
    if rows.is_empty() {
        return Err("no rows".into());
    }
    Ok(rows)
}

/// Never returns: it panics, and the step fails.
#[pipeline_step]
fn abort(reason: &str) -> ! {
    panic!("{reason}")
}

/// Never returns: it waits for ever, and is cancelled when dropped.
#[pipeline_step]
async fn serve() -> ! {
    loop {
        YieldOnce(false).await;
    }
}

#[derive(Pipeline)]
struct Nightly;

fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

fn span<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|span| span.name == name)
        .unwrap_or_else(|| panic!("no span {name}"))
}

#[test]
fn steps_record_cancellation_context_and_early_returns() {
    pipetel_tests::own_process!();
    let exporter = InMemorySpanExporter::default();
    let telemetry = Config::new().with_span_exporter(exporter.clone()).init();
    assert!(telemetry.traces_enabled() && !telemetry.metrics_enabled());

    // An async step dropped while pending is cancelled.
    {
        let mut future = pin!(slow_load(vec![1, 2]));
        assert!(poll_once(future.as_mut()).is_pending());
    }
    // The same step polled to the end is fine.
    let mut future = pin!(slow_load(vec![1, 2, 3]));
    assert!(poll_once(future.as_mut()).is_pending());
    assert_eq!(poll_once(future.as_mut()), Poll::Ready(Ok(vec![1, 2, 3])));

    // Inside a run's step, trace_env() names that step's span.
    let env = Nightly
        .run(|_| Ok::<_, String>(spawn_worker()))
        .expect("run");
    // Early returns reach the span.
    assert!(early(Vec::new()).is_err());
    assert_eq!(early(vec![4]), Ok(vec![4]));
    // Steps that never return: a panic fails the step, a drop cancels it.
    assert!(std::panic::catch_unwind(|| abort("disk full")).is_err());
    {
        let mut future = pin!(serve());
        for _ in 0..3 {
            assert!(poll_once(future.as_mut()).is_pending());
        }
    }

    telemetry.flush();
    let spans = exporter.get_finished_spans().expect("spans");
    let loads: Vec<&SpanData> = spans
        .iter()
        .filter(|span| span.name == "slow_load")
        .collect();
    assert_eq!(loads.len(), 2);
    let cancelled = loads
        .iter()
        .find(|span| span.status != Status::Unset)
        .expect("the dropped one");
    assert_eq!(
        cancelled.status,
        Status::error("the step was dropped before it finished")
    );
    let completed = loads
        .iter()
        .find(|span| span.status == Status::Unset)
        .expect("the finished one");
    assert!(completed
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "slow_load.rows" && kv.value == 3i64.into()));
    assert_eq!(
        loads
            .iter()
            .filter(|span| span.parent_span_id == opentelemetry::trace::SpanId::INVALID)
            .count(),
        2,
        "outside a run, a step is a root span"
    );

    let worker = span(&spans, "spawn_worker");
    let run = span(&spans, "run nightly");
    assert_eq!(worker.parent_span_id, run.span_context.span_id());
    let traceparent = &env
        .iter()
        .find(|(name, _)| *name == "TRACEPARENT")
        .expect("TRACEPARENT")
        .1;
    assert_eq!(
        *traceparent,
        format!(
            "00-{}-{}-01",
            worker.span_context.trace_id(),
            worker.span_context.span_id()
        )
    );

    assert_eq!(
        span(&spans, "abort").status,
        Status::error("the step panicked")
    );
    assert_eq!(
        span(&spans, "serve").status,
        Status::error("the step was dropped before it finished")
    );

    let early_spans: Vec<&SpanData> = spans.iter().filter(|span| span.name == "early").collect();
    assert_eq!(early_spans.len(), 2);
    assert!(early_spans
        .iter()
        .any(|span| span.status == Status::error("no rows")));
    assert!(early_spans.iter().any(|span| span.status == Status::Unset));
    assert!(
        !opentelemetry::Context::current().has_active_span(),
        "no span stays current"
    );
}
