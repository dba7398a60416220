//! Instructions per call of `#[operator]` and `#[pipeline_step]`, off and on, against
//! the plain function and peers, counted by Callgrind — deterministic, so the figures
//! hold on a noisy or loaded machine where nanoseconds do not.
//!
//! ```sh
//! cargo install gungraun-runner --version 0.20.0   # once; needs valgrind
//! cargo bench -p pipetel-benches --bench instructions
//! python3 benches/instructions_table.py    # the table in BENCHMARKS.md
//! ```
//!
//! Every benchmark makes [`CALLS`] calls in a loop, so a figure divided by `CALLS` is
//! per call, loop included (the `plain` row shows what the loop and the body cost).
//! Set-up (starting telemetry, the first call that resolves a call site) runs before
//! counting starts.

use pipetel::limits::SLOWEST_CALLS;
use std::hint::black_box;

use gungraun::prelude::*;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

#[path = "common/peers.rs"]
#[allow(dead_code)]
mod peers;

use opentelemetry_sdk::metrics::SdkMeterProvider;
use peers::{
    clock, extract, operator, operator_batch_out, operator_partition, operator_slice, plain,
    plain_slice, traced, traced_slice, Batch, BoundSet, Dropping, Recorder as _, SdkSet, BATCH,
    SLICE,
};

/// Calls per benchmark.
const CALLS: u64 = 1000;
/// Step calls per benchmark (a step costs a span: fewer suffice).
const STEP_CALLS: u64 = 100;

/// A recorder of the SDK's made by `new` on a provider of its own, and called once (its
/// first call resolves what later ones reuse); the provider lives on.
fn called_once<S>(new: fn(&SdkMeterProvider) -> S, call: fn(&S, &Batch) -> u64) -> S {
    let provider = peers::meter_provider();
    let set = new(&provider);
    call(&set, &BATCH);
    std::mem::forget(provider);
    set
}

/// The SDK's bound instruments, bound and called once.
fn bound_set() -> BoundSet {
    called_once(BoundSet::new, BoundSet::call)
}

/// The SDK's instruments with their attributes given per call, called once.
fn sdk_set() -> SdkSet {
    called_once(SdkSet::new, SdkSet::call)
}

/// Telemetry on, counting for local consumers (no exporter): what every export reads.
fn telemetry_on() {
    std::mem::forget(pipetel::Config::new().collect_locally(true).init());
    operator(&BATCH);
}

#[library_benchmark]
fn per_call_plain() -> u64 {
    (0..CALLS).map(|_| plain(black_box(&BATCH))).sum()
}

#[library_benchmark]
fn per_call_operator_off() -> u64 {
    (0..CALLS).map(|_| operator(black_box(&BATCH))).sum()
}

#[library_benchmark]
fn per_call_tracing_instrument_no_subscriber() -> u64 {
    (0..CALLS).map(|_| traced(black_box(&BATCH))).sum()
}

// The clock pair `#[operator]` reads, around the same body, for reference.
#[library_benchmark]
#[bench::raw(setup = clock)]
fn per_call_tsc_clock_pair(clock: quanta::Clock) -> u64 {
    (0..CALLS)
        .map(|_| {
            let start = clock.raw();
            let sum = plain(black_box(&BATCH));
            sum.wrapping_add(clock.raw().wrapping_sub(start))
        })
        .sum()
}

#[library_benchmark]
#[bench::on(setup = telemetry_on)]
fn per_call_operator_on(_: ()) -> u64 {
    (0..CALLS).map(|_| operator(black_box(&BATCH))).sum()
}

#[library_benchmark]
#[bench::on(setup = telemetry_on)]
fn per_call_operator_on_batch_out(_: ()) -> u64 {
    (0..CALLS)
        .map(|_| operator_batch_out(black_box(&BATCH)))
        .sum()
}

#[library_benchmark]
#[bench::on(setup = telemetry_on)]
fn per_call_operator_on_partition(_: ()) -> u64 {
    (0..CALLS)
        .map(|_| operator_partition(black_box(&BATCH), black_box(3)))
        .sum()
}

/// Telemetry on, recording the timeline: every call goes to its thread's ring.
fn timeline_on() {
    std::mem::forget(
        pipetel::Config::new()
            .collect_locally(true)
            .record_timeline(true)
            .init(),
    );
    operator(&BATCH);
}

#[library_benchmark]
#[bench::on(setup = timeline_on)]
fn per_call_operator_on_timeline(_: ()) -> u64 {
    (0..CALLS).map(|_| operator(black_box(&BATCH))).sum()
}

/// Telemetry on, and a consumer operator the calls run nested in (a graph edge, seen).
fn nested_on() -> pipetel::Operator {
    telemetry_on();
    let consumer = pipetel::Operator::new("consumer", "bench");
    consumer.in_scope(|| operator(&BATCH));
    consumer
}

// Each call nested in another operator: the graph link's cached lookup and batch.
#[library_benchmark]
#[bench::on(setup = nested_on)]
fn per_call_operator_on_nested(consumer: pipetel::Operator) -> u64 {
    consumer.in_scope(|| (0..CALLS).map(|_| operator(black_box(&BATCH))).sum())
}

use pipetel::Pipeline as _;

/// A pipeline whose runs the calls below run in (each run in a lane of its own).
#[derive(pipetel::Pipeline)]
struct Lanes;

/// Telemetry on, and a run that called the operator once.
fn in_run_on() {
    telemetry_on();
    Lanes
        .run(|_| Ok::<_, String>(operator(&BATCH)))
        .expect("a run");
}

// Each call in a pipeline's run: the series of the run's lane. The run's own start and
// end are the `runs` benchmark below, taken off per call by the table.
#[library_benchmark]
#[bench::on(setup = in_run_on)]
fn per_call_operator_on_in_run(_: ()) -> u64 {
    Lanes
        .run(|_| Ok::<_, String>((0..CALLS).map(|_| operator(black_box(&BATCH))).sum()))
        .unwrap_or(0)
}

#[library_benchmark]
#[bench::on(setup = in_run_on)]
fn per_call_run_alone(_: ()) -> u64 {
    Lanes
        .run(|_| Ok::<_, String>(operator(black_box(&BATCH))))
        .unwrap_or(0)
}

#[library_benchmark]
#[bench::attributes(setup = sdk_set)]
fn per_call_sdk_instruments(set: SdkSet) -> u64 {
    (0..CALLS).map(|_| set.call(black_box(&BATCH))).sum()
}

#[library_benchmark]
#[bench::bound(setup = bound_set)]
fn per_call_sdk_bound_instruments(set: BoundSet) -> u64 {
    (0..CALLS).map(|_| set.call(black_box(&BATCH))).sum()
}

fn sdk_tracer() -> SdkTracer {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Dropping)
        .build();
    let tracer = provider.tracer("bench");
    std::mem::forget(provider);
    tracer
}

fn steps_on() {
    std::mem::forget(pipetel::Config::new().with_span_exporter(Dropping).init());
    extract(7);
}

#[library_benchmark]
#[bench::tracer(setup = sdk_tracer)]
fn per_step_sdk_span(tracer: SdkTracer) -> usize {
    (0..STEP_CALLS)
        .map(|_| {
            tracer
                .in_span("extract", |context| {
                    let rows = vec![black_box(7u64); 3];
                    context
                        .span()
                        .set_attribute(KeyValue::new("extract.rows", rows.len() as i64));
                    rows
                })
                .len()
        })
        .sum()
}

#[library_benchmark]
#[bench::on(setup = steps_on)]
fn per_step_pipeline_step(_: ()) -> usize {
    (0..STEP_CALLS).map(|_| extract(black_box(7)).len()).sum()
}

library_benchmark_group!(
    name = per_call,
    benchmarks = [
        per_call_plain,
        per_call_operator_off,
        per_call_tracing_instrument_no_subscriber,
        per_call_tsc_clock_pair,
        per_call_operator_on,
        per_call_operator_on_batch_out,
        per_call_operator_on_partition,
        per_call_operator_on_timeline,
        per_call_operator_on_nested,
        per_call_operator_on_in_run,
        per_call_run_alone,
        per_call_sdk_instruments,
        per_call_sdk_bound_instruments
    ]
);

/// A filter whose `node_id` is given per call, as a wrapper serving many plan nodes.
#[pipetel::operator(node_type = "filter", node_id = node_id)]
#[inline(never)]
fn operator_with_node_id(node_id: &str, batch: &[u64]) -> u64 {
    batch.iter().sum()
}

/// How many numbers each plan node's first [`SLOWEST_CALLS`] calls sum, in the set-up
/// (and how long each sleeps, through `pipetel::Operator`): each takes longer than any
/// call counted, so that they are the node's slowest calls and no call counted is one
/// (which a warm-up of ordinary calls cannot ensure: Callgrind runs the code it counts
/// slower than the set-up it does not). So every counted call takes the path of nearly
/// every call of a node that has run a while; a node's first calls and, later, about
/// one in twenty of its 100th ones are kept among its slowest, for about 250
/// instructions more (BENCHMARKS.md).
const SLOWEST_KEPT_SUM: usize = 1 << 20;
const SLOWEST_KEPT_TAKE: std::time::Duration = std::time::Duration::from_micros(500);

/// Rounds of ordinary calls of every node in the set-up, after its slowest: each node's
/// buckets for calls like those counted exist (a series' buckets are allocated as its
/// segments first count in them), as in a node that has run a while.
const WARM_ROUNDS: usize = 2;

/// Telemetry on, and `ids` node ids, each called once (resolved at the call site) and
/// given its slowest calls, then ordinary ones.
fn rotating_ids(ids: usize) -> Vec<String> {
    telemetry_on();
    let ids: Vec<String> = (0..ids).map(|id| format!("plan-node-{id}")).collect();
    let long = vec![1; SLOWEST_KEPT_SUM];
    for _ in 0..SLOWEST_CALLS {
        for id in &ids {
            operator_with_node_id(id, &long);
        }
    }
    for _ in 0..WARM_ROUNDS {
        for id in &ids {
            operator_with_node_id(id, &BATCH[..]);
        }
    }
    ids
}

// One call site, `node_id` rotating through 1 … 1,000 ids: the cost must not depend on
// the number of ids.
#[library_benchmark]
#[benches::ids(args = [1, 4, 5, 16, 1000], setup = rotating_ids)]
fn per_call_rotating_node_ids(ids: Vec<String>) -> u64 {
    let sum = (0..CALLS as usize)
        .map(|call| operator_with_node_id(black_box(&ids[call % ids.len()]), black_box(&BATCH[..])))
        .sum();
    // Freeing 1,000 strings is not a call's cost.
    std::mem::forget(ids);
    sum
}

/// Telemetry on, and `ids` run-time operators, resolved once, each given its slowest
/// calls, then ordinary ones.
fn run_time_operators(ids: usize) -> Vec<pipetel::Operator> {
    telemetry_on();
    let operators: Vec<pipetel::Operator> = (0..ids)
        .map(|id| pipetel::Operator::new("filter", &format!("plan-node-{id}")))
        .collect();
    for _ in 0..SLOWEST_CALLS {
        for operator in &operators {
            operator.call(|| std::thread::sleep(SLOWEST_KEPT_TAKE));
        }
    }
    for _ in 0..WARM_ROUNDS {
        for operator in &operators {
            operator.call(|| plain(black_box(&BATCH)));
        }
    }
    operators
}

// The same through run-time operators resolved once per plan node (pipetel::Operator).
#[library_benchmark]
#[benches::operators(args = [1, 1000], setup = run_time_operators)]
fn per_call_run_time_operator(operators: Vec<pipetel::Operator>) -> u64 {
    (0..CALLS as usize)
        .map(|call| operators[call % operators.len()].call(|| plain(black_box(&BATCH))))
        .sum()
}

library_benchmark_group!(
    name = per_node_id,
    benchmarks = [per_call_rotating_node_ids, per_call_run_time_operator]
);

library_benchmark_group!(
    name = per_step,
    benchmarks = [per_step_sdk_span, per_step_pipeline_step]
);

/// Polls per async call; items per iterator.
const POLLS: u64 = 16;
const ITEMS: u64 = 1024;

/// Pending once (waking itself), then ready: one more poll of the awaiting operator.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

async fn plain_async(batch: Batch) -> u64 {
    let mut total = 0;
    for step in 0..POLLS {
        total += black_box(batch).iter().sum::<u64>();
        if step + 1 < POLLS {
            YieldOnce(false).await;
        }
    }
    total
}

#[pipetel::operator(node_type = "async_bench")]
async fn operator_async(batch: Batch) -> u64 {
    let mut total = 0;
    for step in 0..POLLS {
        total += black_box(batch).iter().sum::<u64>();
        if step + 1 < POLLS {
            YieldOnce(false).await;
        }
    }
    total
}

/// Polls `future` to completion on this thread, with a waker that does nothing.
fn run<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

// An async call of 16 polls, each after a wake: per poll, the segment, the gap's wait
// state and the waker pipetel polls the body with.
#[library_benchmark]
#[bench::plain()]
fn per_poll_plain_async() -> u64 {
    (0..CALLS / 10)
        .map(|_| run(plain_async(black_box(BATCH))))
        .sum()
}

#[library_benchmark]
#[bench::on(setup = telemetry_on)]
fn per_poll_operator_async_on(_: ()) -> u64 {
    (0..CALLS / 10)
        .map(|_| run(operator_async(black_box(BATCH))))
        .sum()
}

fn plain_items(items: u64) -> impl Iterator<Item = Batch> {
    (0..items).map(|n| [n, n + 1, n + 2, n + 3])
}

#[pipetel::operator(node_type = "iter_bench")]
fn operator_items(items: u64) -> impl Iterator<Item = Batch> {
    (0..items).map(|n| [n, n + 1, n + 2, n + 3])
}

// An iterator of 1,024 items: per item, the segment and the gap's wait state.
#[library_benchmark]
#[bench::plain()]
fn per_item_plain_iterator() -> u64 {
    plain_items(ITEMS)
        .map(|batch| black_box(batch).iter().sum::<u64>())
        .sum()
}

#[library_benchmark]
#[bench::on(setup = telemetry_on)]
fn per_item_operator_iterator_on(_: ()) -> u64 {
    operator_items(ITEMS)
        .map(|batch| black_box(batch).iter().sum::<u64>())
        .sum()
}

library_benchmark_group!(
    name = per_poll,
    benchmarks = [
        per_poll_plain_async,
        per_poll_operator_async_on,
        per_item_plain_iterator,
        per_item_operator_iterator_on
    ]
);

// The second body: eight numbers summed from a slice, which keeps more registers live
// across the call (see `common/peers.rs`).
#[library_benchmark]
fn slice_plain() -> u64 {
    (0..CALLS).map(|_| plain_slice(black_box(&SLICE))).sum()
}

#[library_benchmark]
fn slice_operator_off() -> u64 {
    (0..CALLS).map(|_| operator_slice(black_box(&SLICE))).sum()
}

#[library_benchmark]
fn slice_tracing_instrument_no_subscriber() -> u64 {
    (0..CALLS).map(|_| traced_slice(black_box(&SLICE))).sum()
}

#[library_benchmark]
#[bench::raw(setup = clock)]
fn slice_tsc_clock_pair(clock: quanta::Clock) -> u64 {
    (0..CALLS)
        .map(|_| {
            let start = clock.raw();
            let sum = plain_slice(black_box(&SLICE));
            sum.wrapping_add(clock.raw().wrapping_sub(start))
        })
        .sum()
}

/// Telemetry on, the slice operator called once.
fn slice_on() {
    telemetry_on();
    operator_slice(&SLICE);
}

#[library_benchmark]
#[bench::on(setup = slice_on)]
fn slice_operator_on(_: ()) -> u64 {
    (0..CALLS).map(|_| operator_slice(black_box(&SLICE))).sum()
}

#[library_benchmark]
#[bench::attributes(setup = sdk_set)]
fn slice_sdk_instruments(set: SdkSet) -> u64 {
    (0..CALLS).map(|_| set.call_slice(black_box(&SLICE))).sum()
}

#[library_benchmark]
#[bench::bound(setup = bound_set)]
fn slice_sdk_bound_instruments(set: BoundSet) -> u64 {
    (0..CALLS).map(|_| set.call_slice(black_box(&SLICE))).sum()
}

library_benchmark_group!(
    name = per_call_slice,
    benchmarks = [
        slice_plain,
        slice_operator_off,
        slice_tracing_instrument_no_subscriber,
        slice_tsc_clock_pair,
        slice_operator_on,
        slice_sdk_instruments,
        slice_sdk_bound_instruments
    ]
);

main!(
    library_benchmark_groups = per_call,
    per_call_slice,
    per_node_id,
    per_step,
    per_poll
);
