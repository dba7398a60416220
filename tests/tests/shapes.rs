//! Every shape of operator: `async fn` (time inside `poll` only, cancellation on drop,
//! futures that move between threads), functions returning `impl Iterator` and
//! `impl Stream` (per-item rows and time, completion at exhaustion, cancellation on an
//! early drop), and nested operators (exclusive time that adds up).

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures::stream::{self, Stream, StreamExt};
use pipetel::{operator, Config, OperatorSnapshot};
use pipetel_tests::in_memory::{start, total, totals};

fn setup() {
    start(|| Config::new().collect_locally(true));
}

/// Keeps the CPU busy for `time` (time that must count as busy, unlike a sleep's
/// time, which still counts — `duration` is wall time — but says less).
fn spin(time: Duration) {
    let start = Instant::now();
    while start.elapsed() < time {
        std::hint::spin_loop();
    }
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

fn operator_named(node_id: &str) -> OperatorSnapshot {
    pipetel::snapshot()
        .operators
        .into_iter()
        .find(|operator| operator.node_id == node_id)
        .unwrap_or_else(|| panic!("no operator {node_id} in the snapshot"))
}

// ---- async fn ----

#[operator(node_type = "async_wait")]
async fn waits_once(batch: Vec<u32>) -> Vec<u32> {
    spin(Duration::from_millis(5));
    PendingOnce(false).await;
    spin(Duration::from_millis(5));
    batch.into_iter().filter(|n| n % 2 == 0).collect()
}

#[test]
fn async_duration_counts_time_inside_poll_and_not_time_pending() {
    setup();
    let mut future = pin!(waits_once(vec![1, 2, 3, 4, 5, 6]));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    let active = totals("async_wait");
    assert_eq!(total(&active, "task.active", "shapes::waits_once"), 1);
    std::thread::sleep(Duration::from_millis(100)); // pending: not the operator's time
    let Poll::Ready(output) = future.as_mut().poll(&mut cx) else {
        panic!("the second poll finishes");
    };
    assert_eq!(output, vec![2, 4, 6]);

    let totals = totals("async_wait");
    let id = "shapes::waits_once";
    assert_eq!(total(&totals, "rows.in", id), 6);
    assert_eq!(total(&totals, "rows.out", id), 3);
    assert_eq!(total(&totals, "task.completed", id), 1);
    assert_eq!(total(&totals, "task.active", id), 0);
    let busy = total(&totals, "duration", id);
    assert!(busy >= 10_000, "two 5 ms spins inside poll: {busy} µs");
    assert!(busy < 100_000, "100 ms pending must not count: {busy} µs");
}

#[operator(node_type = "async_cancel")]
async fn never_finishes(batch: Vec<u32>) -> usize {
    std::future::pending::<()>().await;
    batch.len()
}

#[test]
fn async_operator_dropped_before_completion_is_cancelled() {
    setup();
    let id = "shapes::never_finishes";
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
    assert_eq!(total(&totals, "task.completed", "shapes::parse_later"), 1);
    assert_eq!(total(&totals, "task.failed", "shapes::parse_later"), 1);
    let id = "shapes::panics_after_waiting";
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

#[operator(node_type = "iter_scan")]
fn scan_batches(sizes: Vec<usize>) -> impl Iterator<Item = Vec<u32>> {
    sizes.into_iter().map(|size| {
        spin(Duration::from_millis(3));
        vec![0; size]
    })
}

#[test]
fn iterator_counts_rows_per_item_and_completes_at_exhaustion() {
    setup();
    let id = "shapes::scan_batches";
    let mut batches = scan_batches(vec![2, 3, 4]);
    assert_eq!(batches.next().map(|b| b.len()), Some(2));
    let running = totals("iter_scan");
    assert_eq!(total(&running, "task.active", id), 1);
    assert_eq!(total(&running, "rows.out", id), 2);
    let mut rows = 2;
    for batch in batches.by_ref() {
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
    let busy = total(&totals, "duration", id);
    assert!(busy >= 9_000, "three 3 ms items: {busy} µs");
    assert!(
        busy < 60_000,
        "the consumer's 60 ms are not the scan's: {busy} µs"
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
fn iterator_dropped_early_is_cancelled_and_err_items_fail_it() {
    setup();
    let taken: Vec<_> = endless().take(5).collect();
    assert_eq!(taken.len(), 5);
    let from_back: Vec<_> = fallible(vec![Ok(1), Err("bad row".into()), Ok(2)])
        .rev()
        .collect();
    assert_eq!(from_back.len(), 3);
    let totals = totals("iter_cancel");
    let id = "shapes::endless";
    assert_eq!(total(&totals, "rows.out", id), 20);
    assert_eq!(total(&totals, "task.cancelled", id), 1);
    assert_eq!(total(&totals, "task.completed", id), 0);
    assert_eq!(total(&totals, "task.active", id), 0);
    let id = "shapes::fallible";
    assert_eq!(total(&totals, "task.failed", id), 1);
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
    setup();
    let all: Vec<_> = futures::executor::block_on(stream_batches(vec![1, 2, 3]).collect());
    assert_eq!(all.len(), 3);
    let first_two: Vec<_> =
        futures::executor::block_on(stream_batches(vec![5, 5, 5]).take(2).collect());
    assert_eq!(first_two.len(), 2);
    let totals = totals("stream_scan");
    let id = "shapes::stream_batches";
    assert_eq!(total(&totals, "rows.out", id), 6 + 10);
    assert_eq!(total(&totals, "task.completed", id), 1);
    assert_eq!(total(&totals, "task.cancelled", id), 1);
    assert_eq!(total(&totals, "task.active", id), 0);
}

// ---- exclusive time ----

#[operator(node_type = "fused")]
fn inner_project(batch: Vec<u32>) -> Vec<u32> {
    spin(Duration::from_millis(30));
    batch
}

#[operator(node_type = "fused")]
fn outer_filter(batch: Vec<u32>) -> Vec<u32> {
    spin(Duration::from_millis(20));
    inner_project(batch.into_iter().filter(|n| n % 2 == 1).collect())
}

#[test]
fn nested_operators_count_exclusive_time_that_adds_up() {
    setup();
    let started = Instant::now();
    let out = outer_filter(vec![1, 2, 3]);
    let wall = started.elapsed();
    assert_eq!(out, vec![1, 3]);
    let outer = operator_named("shapes::outer_filter").busy;
    let inner = operator_named("shapes::inner_project").busy;
    assert!(inner >= Duration::from_millis(30), "inner {inner:?}");
    assert!(outer >= Duration::from_millis(20), "outer {outer:?}");
    assert!(
        outer + inner <= wall,
        "{outer:?} + {inner:?} within {wall:?}"
    );
    assert!(
        wall - (outer + inner) < Duration::from_millis(2),
        "{outer:?} + {inner:?} adds up to the outer call's {wall:?}"
    );
    assert!(
        outer < wall - inner + Duration::from_micros(100),
        "outer excludes inner"
    );
}

#[operator(node_type = "fused_iter")]
fn child_scan(batches: usize) -> impl Iterator<Item = Vec<u32>> {
    (0..batches).map(|_| {
        spin(Duration::from_millis(4));
        vec![1, 2, 3, 4]
    })
}

#[operator(node_type = "fused_iter")]
fn parent_filter(child: impl Iterator<Item = Vec<u32>>) -> impl Iterator<Item = Vec<u32>> {
    child.map(|batch| {
        spin(Duration::from_millis(2));
        batch.into_iter().filter(|n| n % 2 == 0).collect()
    })
}

#[test]
fn pulling_iterators_split_time_between_parent_and_child() {
    setup();
    let started = Instant::now();
    let rows: usize = parent_filter(child_scan(5)).map(|batch| batch.len()).sum();
    let wall = started.elapsed();
    assert_eq!(rows, 10);
    let parent = operator_named("shapes::parent_filter");
    let child = operator_named("shapes::child_scan");
    assert_eq!((parent.rows_out, child.rows_out), (10, 20));
    assert_eq!((parent.tasks_completed, child.tasks_completed), (1, 1));
    assert!(
        child.busy >= Duration::from_millis(20),
        "child {:?}",
        child.busy
    );
    assert!(
        parent.busy >= Duration::from_millis(10),
        "parent {:?}",
        parent.busy
    );
    assert!(
        parent.busy < Duration::from_millis(20),
        "the parent's 10 ms of own work exclude the child's 20 ms: {:?}",
        parent.busy
    );
    assert!(parent.busy + child.busy <= wall);
}
