//! Instructions per poll and per item of async and streaming operators while the
//! timeline records — each segment and the gap before it kept in the thread's ring —
//! against the same operators with telemetry on and no timeline, counted by Callgrind.
//! A binary of its own: the shapes' code in `instructions` is inlined into its
//! benchmarks, and other benchmarks beside them move their counts by their own codegen.
//!
//! ```sh
//! cargo bench -p pipetel-benches --bench timeline_instructions
//! python3 benches/instructions_table.py    # its table follows the others
//! ```

use std::hint::black_box;

use gungraun::prelude::*;

/// Async calls per benchmark; polls per async call; items per iterator.
const CALLS: u64 = 100;
const POLLS: u64 = 16;
const ITEMS: u64 = 1024;

type Batch = [u64; 4];
const BATCH: Batch = [1, 2, 3, 4];

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

#[pipetel::operator(node_type = "iter_bench")]
fn operator_items(items: u64) -> impl Iterator<Item = Batch> {
    (0..items).map(|n| [n, n + 1, n + 2, n + 3])
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

/// Telemetry on, counting for local consumers; the operators called once.
fn telemetry_on() {
    std::mem::forget(pipetel::Config::new().collect_locally(true).init());
    warm();
}

/// [`telemetry_on`], recording the timeline.
fn timeline_on() {
    std::mem::forget(
        pipetel::Config::new()
            .collect_locally(true)
            .record_timeline(true)
            .init(),
    );
    warm();
}

fn warm() {
    black_box(run(operator_async(BATCH)));
    black_box(operator_items(4).count());
}

fn polls() -> u64 {
    (0..CALLS)
        .map(|_| run(operator_async(black_box(BATCH))))
        .sum()
}

fn items() -> u64 {
    operator_items(ITEMS)
        .map(|batch| black_box(batch).iter().sum::<u64>())
        .sum()
}

// An async call of 16 polls, each after a wake.
#[library_benchmark]
#[bench::on(setup = telemetry_on)]
#[bench::timeline(setup = timeline_on)]
fn per_poll(_: ()) -> u64 {
    polls()
}

// An iterator of 1,024 items.
#[library_benchmark]
#[bench::on(setup = telemetry_on)]
#[bench::timeline(setup = timeline_on)]
fn per_item(_: ()) -> u64 {
    items()
}

library_benchmark_group!(name = shapes, benchmarks = [per_poll, per_item]);

main!(library_benchmark_groups = shapes);
