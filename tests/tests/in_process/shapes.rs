//! Every shape of operator: `async fn` (time inside `poll` only, cancellation on drop,
//! futures that move between threads), functions returning `impl Iterator` and
//! `impl Stream` (per-item rows and time, completion at exhaustion, cancellation on an
//! early drop), and nested operators (exclusive time that adds up).

use crate::operator_named;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures::stream::{self, Stream, StreamExt};
use pipetel::{operator, Config};
use pipetel_tests::in_memory::{start, total, totals};

fn setup() {
    start(|| Config::new().collect_locally(true));
}

/// Keeps the CPU busy for `time` (time that must count as busy, unlike a sleep's
/// time, which still counts — `duration` is wall time — but says less), and adds the
/// time it really took (more on a loaded machine) to `spun`.
fn spin(time: Duration, spun: &AtomicU64) {
    let start = Instant::now();
    while start.elapsed() < time {
        std::hint::spin_loop();
    }
    spun.fetch_add(start.elapsed().as_nanos() as u64, Relaxed);
}

/// What `spin` added up.
fn spun(total: &AtomicU64) -> Duration {
    Duration::from_nanos(total.load(Relaxed))
}

/// Time inside an operator is read from the TSC, time around it from `Instant`: two
/// clocks, which agree to well within 1 %. `at_least(a, b)`: `a` is no less than `b`.
fn at_least(a: Duration, b: Duration) -> bool {
    a + a / 100 >= b
}

/// A future that is pending once, then ready: the point where an async operator waits.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

// ---- async fn ----

static ASYNC_SPUN: AtomicU64 = AtomicU64::new(0);

#[operator(node_type = "async_wait")]
async fn waits_once(batch: Vec<u32>) -> Vec<u32> {
    spin(Duration::from_millis(5), &ASYNC_SPUN);
    PendingOnce(false).await;
    spin(Duration::from_millis(5), &ASYNC_SPUN);
    batch.into_iter().filter(|n| n % 2 == 0).collect()
}

#[test]
fn async_duration_counts_time_inside_poll_and_not_time_pending() {
    pipetel_tests::own_process!();
    setup();
    let mut future = pin!(waits_once(vec![1, 2, 3, 4, 5, 6]));
    let mut cx = Context::from_waker(Waker::noop());
    let first = Instant::now();
    assert!(future.as_mut().poll(&mut cx).is_pending());
    let first = first.elapsed();
    let active = totals("async_wait");
    assert_eq!(
        total(&active, "task.active", "in_process::shapes::waits_once"),
        1
    );
    std::thread::sleep(Duration::from_millis(100)); // pending: not the operator's time
    let second = Instant::now();
    let Poll::Ready(output) = future.as_mut().poll(&mut cx) else {
        panic!("the second poll finishes");
    };
    let second = second.elapsed();
    assert_eq!(output, vec![2, 4, 6]);

    let totals = totals("async_wait");
    let id = "in_process::shapes::waits_once";
    assert_eq!(total(&totals, "rows.in", id), 6);
    assert_eq!(total(&totals, "rows.out", id), 3);
    assert_eq!(total(&totals, "task.completed", id), 1);
    assert_eq!(total(&totals, "task.active", id), 0);
    let busy = Duration::from_micros(total(&totals, "duration", id) as u64);
    let spun = spun(&ASYNC_SPUN);
    assert!(
        at_least(busy, spun),
        "the spins inside poll ({spun:?}): {busy:?}"
    );
    assert!(
        at_least(first + second, busy),
        "only the polls ({first:?} + {second:?}) count, not the 100 ms pending: {busy:?}"
    );
}

#[operator(node_type = "async_cancel")]
async fn never_finishes(batch: Vec<u32>) -> usize {
    std::future::pending::<()>().await;
    batch.len()
}

#[test]
fn async_operator_dropped_before_completion_is_cancelled() {
    pipetel_tests::own_process!();
    setup();
    let id = "in_process::shapes::never_finishes";
    {
        let mut future = Box::pin(never_finishes(vec![1, 2, 3]));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert!(future.as_mut().poll(&mut cx).is_pending());
    }
    // Created but never polled: the body never started, so nothing is counted.
    drop(never_finishes(vec![1]));
    let totals = totals("async_cancel");
    assert_eq!(total(&totals, "task.cancelled", id), 1);
    assert_eq!(total(&totals, "task.active", id), 0);
    assert_eq!(total(&totals, "rows.in", id), 3);
    assert_eq!(total(&totals, "task.completed", id), 0);
    assert_eq!(total(&totals, "task.failed", id), 0);
}

#[operator(node_type = "async_never_returns")]
async fn serves(batch: Vec<u32>) -> ! {
    let _ = batch;
    loop {
        std::future::pending::<()>().await;
    }
}

#[test]
fn async_operator_that_never_returns_is_cancelled_when_dropped() {
    pipetel_tests::own_process!();
    setup();
    let id = "in_process::shapes::serves";
    {
        let mut future = Box::pin(serves(vec![1, 2]));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
    }
    let totals = totals("async_never_returns");
    assert_eq!(total(&totals, "task.cancelled", id), 1);
    assert_eq!(total(&totals, "task.active", id), 0);
    assert_eq!(total(&totals, "rows.in", id), 2);
    assert_eq!(total(&totals, "task.completed", id), 0);
}

#[operator(node_type = "async_outcomes")]
async fn parse_later(text: String) -> Result<u32, std::num::ParseIntError> {
    PendingOnce(false).await;
    let value = text.parse::<u32>()?;
    Ok(value)
}

#[operator(node_type = "async_outcomes")]
async fn panics_after_waiting(fail: bool) -> u8 {
    PendingOnce(false).await;
    assert!(!fail, "operator failed on purpose");
    1
}

#[test]
fn async_errors_and_panics_count_as_failed_and_panics_propagate() {
    pipetel_tests::own_process!();
    setup();
    assert_eq!(futures::executor::block_on(parse_later("7".into())), Ok(7));
    assert!(futures::executor::block_on(parse_later("x".into())).is_err());
    assert_eq!(futures::executor::block_on(panics_after_waiting(false)), 1);
    let panicked = catch_unwind(|| futures::executor::block_on(panics_after_waiting(true)));
    assert!(panicked.is_err(), "the panic reaches the caller");

    // A panic caught by the executor, the future dropped afterwards (as tokio does).
    let mut future = Box::pin(panics_after_waiting(true));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    let caught = catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)));
    assert!(caught.is_err());
    drop(future);

    let totals = totals("async_outcomes");
    assert_eq!(
        total(&totals, "task.completed", "in_process::shapes::parse_later"),
        1
    );
    assert_eq!(
        total(&totals, "task.failed", "in_process::shapes::parse_later"),
        1
    );
    let id = "in_process::shapes::panics_after_waiting";
    assert_eq!(total(&totals, "task.completed", id), 1);
    assert_eq!(total(&totals, "task.failed", id), 2);
    assert_eq!(total(&totals, "task.cancelled", id), 0);
    assert_eq!(total(&totals, "task.active", id), 0);
}

struct Worker {
    id: u32,
}

impl Worker {
    #[operator(node_type = "async_threads", node_id = self.id)]
    async fn work(&self, batch: Vec<u64>) -> Vec<u64> {
        let mut out = Vec::with_capacity(batch.len());
        for value in batch {
            tokio::task::yield_now().await;
            out.push(value * 2);
        }
        out
    }
}

#[test]
fn async_operators_moving_between_threads_count_exactly() {
    pipetel_tests::own_process!();
    setup();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .expect("runtime");
    let tasks = 64u64;
    let outputs = runtime.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                tokio::spawn(async move {
                    let worker = Worker { id: (i % 2) as u32 };
                    worker.work((0..10).collect()).await
                })
            })
            .collect();
        let mut outputs = Vec::new();
        for handle in handles {
            outputs.push(handle.await.expect("task"));
        }
        outputs
    });
    assert!(outputs.iter().all(|out| out.len() == 10));
    let totals = totals("async_threads");
    for id in ["0", "1"] {
        assert_eq!(total(&totals, "task.completed", id), tasks as i64 / 2);
        assert_eq!(total(&totals, "task.active", id), 0);
        assert_eq!(total(&totals, "rows.in", id), 10 * tasks as i64 / 2);
        assert_eq!(total(&totals, "rows.out", id), 10 * tasks as i64 / 2);
    }
}

// ---- impl Iterator ----

static SCAN_SPUN: AtomicU64 = AtomicU64::new(0);

#[operator(node_type = "iter_scan")]
fn scan_batches(sizes: Vec<usize>) -> impl Iterator<Item = Vec<u32>> {
    sizes.into_iter().map(|size| {
        spin(Duration::from_millis(3), &SCAN_SPUN);
        vec![0; size]
    })
}

#[test]
fn iterator_counts_rows_per_item_and_completes_at_exhaustion() {
    pipetel_tests::own_process!();
    setup();
    let id = "in_process::shapes::scan_batches";
    // The wall time of the call and of every `next()`: the operator's, at most.
    let mut inside = Duration::ZERO;
    let mut timed = |step: &mut dyn FnMut() -> Option<Vec<u32>>| {
        let started = Instant::now();
        let item = step();
        inside += started.elapsed();
        item
    };
    let mut batches = None;
    timed(&mut || {
        batches = Some(scan_batches(vec![2, 3, 4]));
        None
    });
    let mut batches = batches.expect("the iterator");
    assert_eq!(timed(&mut || batches.next()).map(|b| b.len()), Some(2));
    let running = totals("iter_scan");
    assert_eq!(total(&running, "task.active", id), 1);
    assert_eq!(total(&running, "rows.out", id), 2);
    let mut rows = 2;
    while let Some(batch) = timed(&mut || batches.next()) {
        std::thread::sleep(Duration::from_millis(30)); // the consumer's time
        rows += batch.len();
    }
    assert_eq!(rows, 9);
    assert_eq!(batches.next(), None);

    let totals = totals("iter_scan");
    assert_eq!(total(&totals, "rows.in", id), 3);
    assert_eq!(total(&totals, "rows.out", id), 9);
    assert_eq!(total(&totals, "task.completed", id), 1);
    assert_eq!(total(&totals, "task.active", id), 0);
    let busy = Duration::from_micros(total(&totals, "duration", id) as u64);
    let spun = spun(&SCAN_SPUN);
    assert!(at_least(busy, spun), "three items ({spun:?}): {busy:?}");
    assert!(
        at_least(inside, busy),
        "the call and its next()s ({inside:?}), not the consumer's 60 ms: {busy:?}"
    );
}

#[operator(node_type = "iter_cancel")]
fn endless() -> impl Iterator<Item = [u8; 4]> {
    std::iter::repeat([0; 4])
}

#[operator(node_type = "iter_cancel")]
fn fallible(items: Vec<Result<u8, String>>) -> impl DoubleEndedIterator<Item = Result<u8, String>> {
    items.into_iter()
}

#[test]
fn iterator_dropped_early_is_cancelled_and_err_items_fail_it_ended_or_dropped() {
    pipetel_tests::own_process!();
    setup();
    let taken: Vec<_> = endless().take(5).collect();
    assert_eq!(taken.len(), 5);
    let from_back: Vec<_> = fallible(vec![Ok(1), Err("bad row".into()), Ok(2)])
        .rev()
        .collect();
    assert_eq!(from_back.len(), 3);
    // A consumer that stops at the first error drops the iterator there: it failed.
    let until_error: Vec<u8> = fallible(vec![Ok(1), Err("bad row".into()), Ok(2)])
        .map_while(Result::ok)
        .collect();
    assert_eq!(until_error, [1]);
    let totals = totals("iter_cancel");
    let id = "in_process::shapes::endless";
    assert_eq!(total(&totals, "rows.out", id), 20);
    assert_eq!(total(&totals, "task.cancelled", id), 1);
    assert_eq!(total(&totals, "task.completed", id), 0);
    assert_eq!(total(&totals, "task.active", id), 0);
    let id = "in_process::shapes::fallible";
    assert_eq!(total(&totals, "task.failed", id), 2);
    assert_eq!(total(&totals, "task.cancelled", id), 0);
    assert_eq!(total(&totals, "task.active", id), 0);
}

// ---- impl Stream ----

#[operator(node_type = "stream_scan")]
fn stream_batches(sizes: Vec<usize>) -> impl Stream<Item = Vec<u8>> {
    stream::iter(sizes).then(|size| async move {
        PendingOnce(false).await;
        vec![1; size]
    })
}

#[test]
fn stream_counts_rows_per_item_completes_at_the_end_and_cancels_on_drop() {
    pipetel_tests::own_process!();
    setup();
    let all: Vec<_> = futures::executor::block_on(stream_batches(vec![1, 2, 3]).collect());
    assert_eq!(all.len(), 3);
    let first_two: Vec<_> =
        futures::executor::block_on(stream_batches(vec![5, 5, 5]).take(2).collect());
    assert_eq!(first_two.len(), 2);
    let totals = totals("stream_scan");
    let id = "in_process::shapes::stream_batches";
    assert_eq!(total(&totals, "rows.out", id), 6 + 10);
    assert_eq!(total(&totals, "task.completed", id), 1);
    assert_eq!(total(&totals, "task.cancelled", id), 1);
    assert_eq!(total(&totals, "task.active", id), 0);
}

// ---- exclusive time ----
//
// The bounds come from what the test measured (the time the spins really took, the wall
// time around and inside the calls), never fixed milliseconds: on a loaded machine every
// stretch grows, and each bound grows with what it bounds.

static INNER_SPUN: AtomicU64 = AtomicU64::new(0);
static OUTER_SPUN: AtomicU64 = AtomicU64::new(0);
/// The wall time of the outer operator's body, measured inside it.
static OUTER_BODY: AtomicU64 = AtomicU64::new(0);

#[operator(node_type = "fused")]
fn inner_project(batch: Vec<u32>) -> Vec<u32> {
    spin(Duration::from_millis(30), &INNER_SPUN);
    batch
}

#[operator(node_type = "fused")]
fn outer_filter(batch: Vec<u32>) -> Vec<u32> {
    let started = Instant::now();
    spin(Duration::from_millis(20), &OUTER_SPUN);
    let out = inner_project(batch.into_iter().filter(|n| n % 2 == 1).collect());
    OUTER_BODY.store(started.elapsed().as_nanos() as u64, Relaxed);
    out
}

#[test]
fn nested_operators_count_exclusive_time_that_adds_up() {
    pipetel_tests::own_process!();
    setup();
    let started = Instant::now();
    let out = outer_filter(vec![1, 2, 3]);
    let wall = started.elapsed();
    assert_eq!(out, vec![1, 3]);
    let outer = operator_named("in_process::shapes::outer_filter").time.busy;
    let inner = operator_named("in_process::shapes::inner_project")
        .time
        .busy;
    let (inner_spun, outer_spun) = (spun(&INNER_SPUN), spun(&OUTER_SPUN));
    let body = spun(&OUTER_BODY);
    assert!(
        at_least(inner, inner_spun),
        "inner {inner:?} < {inner_spun:?}"
    );
    assert!(
        at_least(outer, outer_spun),
        "outer {outer:?} < {outer_spun:?}"
    );
    assert!(
        at_least(wall, outer + inner),
        "{outer:?} + {inner:?} within the call's {wall:?}"
    );
    assert!(
        at_least(outer + inner, body),
        "{outer:?} + {inner:?} add up to the outer body's {body:?}"
    );
    // Had the outer operator counted the inner one's time, it would be at least both
    // spins.
    assert!(
        !at_least(outer, outer_spun + inner_spun),
        "outer {outer:?} excludes inner ({outer_spun:?} + {inner_spun:?})"
    );
}

static CHILD_SPUN: AtomicU64 = AtomicU64::new(0);
static PARENT_SPUN: AtomicU64 = AtomicU64::new(0);

#[operator(node_type = "fused_iter")]
fn child_scan(batches: usize) -> impl Iterator<Item = Vec<u32>> {
    (0..batches).map(|_| {
        spin(Duration::from_millis(4), &CHILD_SPUN);
        vec![1, 2, 3, 4]
    })
}

#[operator(node_type = "fused_iter")]
fn parent_filter(child: impl Iterator<Item = Vec<u32>>) -> impl Iterator<Item = Vec<u32>> {
    child.map(|batch| {
        spin(Duration::from_millis(2), &PARENT_SPUN);
        batch.into_iter().filter(|n| n % 2 == 0).collect()
    })
}

#[test]
fn pulling_iterators_split_time_between_parent_and_child() {
    pipetel_tests::own_process!();
    setup();
    let started = Instant::now();
    let rows: usize = parent_filter(child_scan(5)).map(|batch| batch.len()).sum();
    let wall = started.elapsed();
    assert_eq!(rows, 10);
    let parent = operator_named("in_process::shapes::parent_filter");
    let child = operator_named("in_process::shapes::child_scan");
    assert_eq!((parent.rows.produced, child.rows.produced), (10, 20));
    assert_eq!((parent.calls.completed, child.calls.completed), (1, 1));
    let (child_spun, parent_spun) = (spun(&CHILD_SPUN), spun(&PARENT_SPUN));
    assert!(
        at_least(child.time.busy, child_spun),
        "child {:?} < {child_spun:?}",
        child.time.busy
    );
    assert!(
        at_least(parent.time.busy, parent_spun),
        "parent {:?} < {parent_spun:?}",
        parent.time.busy
    );
    // Had the parent counted the time of the child it pulls from, it would be at least
    // both spins.
    assert!(
        !at_least(parent.time.busy, parent_spun + child_spun),
        "the parent's {:?} exclude the child's work ({parent_spun:?} + {child_spun:?})",
        parent.time.busy
    );
    assert!(at_least(wall, parent.time.busy + child.time.busy));
}
