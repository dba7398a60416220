//! Where each operator's time goes — busy, starved, blocked, queued — and the bottleneck
//! named from them, on planted pipelines: a slow sink and a slow source in a three-stage
//! pipeline of threads joined by pipetel channels (the slow stage waiting, as on I/O), a
//! Volcano chain of iterators with a slow scan, async operators joined by a Tokio
//! channel, and a stream polled on a runtime kept busy (queued time). For every
//! operator, the four states add up to its wall time, which lies between the time the
//! test measured inside the operator's work and the time it measured around it, within
//! 2 % (so that a pause of the machine between the test's clock and the operator's
//! cannot fail it).
//!
//! The tests of this binary take turns (`one_at_a_time`) and read what happened in
//! between with `Snapshot::since`, so that each bottleneck is found among its own
//! pipeline's operators only.

use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use futures::stream::{Stream, StreamExt};
use pipetel::channel::{sync_channel, Receiver, SyncSender};
use pipetel::snapshot::{OperatorSnapshot, Snapshot};
use pipetel::{operator, Config};
use pipetel_tests::in_memory::start;

fn setup() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    start(|| Config::new().collect_locally(true));
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A stage's work on a batch: a slow stage's (a millisecond or more) waits, as on I/O,
/// leaving the cores to the other stages — spinning, it competed with them for the
/// machine's two cores, and on a loaded machine the stages that feed it or drain it ran
/// late, so that the slow stage waited on them too; a fast stage's spins.
fn work(time: Duration) {
    if time >= Duration::from_millis(1) {
        thread::sleep(time);
    } else {
        spin(time);
    }
}

/// Keeps the CPU busy for `time`.
fn spin(time: Duration) {
    let start = Instant::now();
    while start.elapsed() < time {
        std::hint::spin_loop();
    }
}

fn operator_of<'a>(snapshot: &'a Snapshot, node_type: &str, node_id: &str) -> &'a OperatorSnapshot {
    snapshot
        .operator(node_type, node_id)
        .unwrap_or_else(|| panic!("no {node_type} {node_id} in {:#?}", snapshot.operators))
}

/// The share of `op`'s wall time that `part` is.
fn share(op: &OperatorSnapshot, part: Duration) -> f64 {
    part.as_secs_f64() / op.time.wall.as_secs_f64()
}

/// Busy + starved + blocked + queued is the operator's wall time, which lies between
/// `inside` (what the test timed inside the operator's work) and `around` (what it timed
/// around the operator's whole life), within 2 % and 1 µs: the TSC's calibration against
/// `Instant`.
fn assert_adds_up(op: &OperatorSnapshot, inside: Duration, around: Duration) {
    let sum = op.time.busy + op.time.starved + op.time.blocked + op.time.queued;
    assert_eq!(op.time.wall, sum, "{op:#?}");
    let slack = |time: Duration| time.mul_f64(0.02) + Duration::from_micros(1);
    assert!(
        inside.saturating_sub(slack(inside)) <= sum && sum <= around + slack(around),
        "{} {}: busy {:?} + starved {:?} + blocked {:?} + queued {:?} = {sum:?}, not \
         between {inside:?} inside and {around:?} around, within 2 %",
        op.node_type,
        op.node_id,
        op.time.busy,
        op.time.starved,
        op.time.blocked,
        op.time.queued,
    );
}

/// Runs `work`, adding the time it took to `inside`.
fn time_inside<R>(inside: &Mutex<Duration>, work: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let result = work();
    *inside.lock().unwrap() += start.elapsed();
    result
}

/// Runs `stage` on a thread of its own and returns the time it took.
fn timed(stage: impl FnOnce() + Send + 'static) -> thread::JoinHandle<Duration> {
    thread::spawn(move || {
        let start = Instant::now();
        stage();
        start.elapsed()
    })
}

// ---- three stages joined by bounded channels ----

const BATCHES: u64 = 60;

#[operator(node_type = "source", node_id = node_id)]
fn source(node_id: &str, tx: SyncSender<Vec<u64>>, per_batch: Duration, inside: &Mutex<Duration>) {
    let _ = node_id;
    time_inside(inside, || {
        for batch in 0..BATCHES {
            work(per_batch);
            tx.send(vec![batch; 100]).unwrap();
        }
    });
}

#[operator(node_type = "transform", node_id = node_id)]
fn transform(
    node_id: &str,
    rx: Receiver<Vec<u64>>,
    tx: SyncSender<Vec<u64>>,
    inside: &Mutex<Duration>,
) {
    let _ = node_id;
    time_inside(inside, || {
        for batch in rx {
            tx.send(batch.into_iter().map(|n| n * 2).collect()).unwrap();
        }
    });
}

#[operator(node_type = "sink", node_id = node_id)]
fn sink(
    node_id: &str,
    rx: Receiver<Vec<u64>>,
    per_batch: Duration,
    inside: &Mutex<Duration>,
) -> u64 {
    let _ = node_id;
    time_inside(inside, || {
        let mut rows = 0;
        for batch in rx {
            work(per_batch);
            rows += batch.len() as u64;
        }
        rows
    })
}

/// Runs source → transform → sink on three threads, with `source_work` and `sink_work`
/// per batch; returns what happened and each stage's time measured inside and around it.
fn three_stages(
    id: &'static str,
    source_work: Duration,
    sink_work: Duration,
) -> (Snapshot, [(Duration, Duration); 3]) {
    let before = pipetel::snapshot();
    let (to_transform, from_source) = sync_channel(1);
    let (to_sink, from_transform) = sync_channel(1);
    static INSIDE: [Mutex<Duration>; 3] = [const { Mutex::new(Duration::ZERO) }; 3];
    for inside in &INSIDE {
        *inside.lock().unwrap() = Duration::ZERO;
    }
    let stages = [
        timed(move || source(id, to_transform, source_work, &INSIDE[0])),
        timed(move || transform(id, from_source, to_sink, &INSIDE[1])),
        timed(move || {
            assert_eq!(
                sink(id, from_transform, sink_work, &INSIDE[2]),
                BATCHES * 100
            )
        }),
    ];
    let around = stages.map(|stage| stage.join().unwrap());
    let mut measured = [(Duration::ZERO, Duration::ZERO); 3];
    for (stage, (inside, around)) in INSIDE.iter().zip(around).enumerate() {
        measured[stage] = (*inside.lock().unwrap(), around);
    }
    (pipetel::snapshot().since(&before), measured)
}

#[test]
fn a_slow_sink_is_the_bottleneck_and_both_upstreams_are_blocked() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let (snapshot, measured) = three_stages(
        "slow-sink",
        Duration::from_micros(50),
        Duration::from_millis(2),
    );
    let [source, transform, sink] = ["source", "transform", "sink"]
        .map(|node_type| operator_of(&snapshot, node_type, "slow-sink"));
    for (op, (inside, around)) in [source, transform, sink].into_iter().zip(measured) {
        assert_adds_up(op, inside, around);
    }
    assert!(share(source, source.time.blocked) > 0.5, "{source:#?}");
    assert!(
        share(transform, transform.time.blocked) > 0.5,
        "{transform:#?}"
    );
    assert!(share(sink, sink.time.busy) > 0.5, "{sink:#?}");
    let bottleneck = snapshot.bottleneck.expect("a bottleneck");
    assert_eq!(
        (
            bottleneck.node.node_type.as_str(),
            bottleneck.node.node_id.as_str()
        ),
        ("sink", "slow-sink"),
        "{bottleneck:#?}"
    );
    assert!(
        bottleneck
            .reason
            .contains("upstream transform slow-sink blocked"),
        "{}",
        bottleneck.reason
    );
}

#[test]
fn a_slow_source_is_the_bottleneck_and_the_downstreams_are_starved() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let (snapshot, measured) = three_stages(
        "slow-source",
        Duration::from_millis(2),
        Duration::from_micros(50),
    );
    let [source, transform, sink] = ["source", "transform", "sink"]
        .map(|node_type| operator_of(&snapshot, node_type, "slow-source"));
    for (op, (inside, around)) in [source, transform, sink].into_iter().zip(measured) {
        assert_adds_up(op, inside, around);
    }
    assert!(share(source, source.time.busy) > 0.5, "{source:#?}");
    assert!(
        share(transform, transform.time.starved) > 0.5,
        "{transform:#?}"
    );
    assert!(share(sink, sink.time.starved) > 0.5, "{sink:#?}");
    let bottleneck = snapshot.bottleneck.expect("a bottleneck");
    assert_eq!(
        (
            bottleneck.node.node_type.as_str(),
            bottleneck.node.node_id.as_str()
        ),
        ("source", "slow-source"),
        "{bottleneck:#?}"
    );
    assert!(
        bottleneck
            .reason
            .contains("downstream transform slow-source starved"),
        "{}",
        bottleneck.reason
    );
}

// ---- a Volcano chain of iterators on one thread ----

#[operator(node_type = "scan", node_id = "volcano-waits")]
fn scan(batches: u64) -> impl Iterator<Item = Vec<u64>> {
    (0..batches).map(|batch| {
        spin(Duration::from_micros(500));
        vec![batch; 100]
    })
}

#[operator(node_type = "filter", node_id = "volcano-waits")]
fn filter(input: impl Iterator<Item = Vec<u64>>) -> impl Iterator<Item = Vec<u64>> {
    input.map(|batch| batch.into_iter().filter(|n| n % 2 == 0).collect())
}

#[operator(node_type = "count", node_id = "volcano-waits", rows_out = |_| 0u64)]
fn count(input: impl Iterator<Item = Vec<u64>>, inside: &Mutex<Duration>) -> u64 {
    time_inside(inside, || input.map(|batch| batch.len() as u64).sum())
}

#[test]
fn in_a_volcano_chain_the_consumers_of_a_slow_scan_are_starved() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let before = pipetel::snapshot();
    let inside = Mutex::new(Duration::ZERO);
    let start = Instant::now();
    let rows = count(filter(scan(100)), &inside);
    let around = start.elapsed();
    assert_eq!(rows, 50 * 100);
    let snapshot = pipetel::snapshot().since(&before);
    let [scan, filter, count] = ["scan", "filter", "count"]
        .map(|node_type| operator_of(&snapshot, node_type, "volcano-waits"));
    // The scan and the filter live from before the count's body to its last pull.
    let inside = *inside.lock().unwrap();
    for op in [scan, filter, count] {
        assert_adds_up(op, inside, around);
    }
    // Between its items the scan waits for the filter to ask again: blocked, briefly.
    assert!(share(scan, scan.time.busy) > 0.5, "{scan:#?}");
    assert!(share(filter, filter.time.starved) > 0.5, "{filter:#?}");
    assert!(share(count, count.time.starved) > 0.5, "{count:#?}");
    let bottleneck = snapshot.bottleneck.expect("a bottleneck");
    assert_eq!(bottleneck.node.node_type, "scan", "{bottleneck:#?}");
}

// ---- async: a Tokio channel, a full one, and a runtime kept busy ----

#[operator(node_type = "produce", node_id = "async-waits")]
async fn produce(tx: pipetel::channel::tokio::Sender<Vec<u8>>, batches: usize) -> Duration {
    let start = Instant::now();
    for n in 0..batches {
        tx.send(vec![0; n % 7 + 1]).await.unwrap();
    }
    start.elapsed()
}

#[operator(node_type = "consume", node_id = "async-waits", rows_out = |_| 0u64)]
async fn consume(mut rx: pipetel::channel::tokio::Receiver<Vec<u8>>) -> (usize, Duration) {
    let start = Instant::now();
    let mut rows = 0;
    while let Some(batch) = rx.recv().await {
        spin(Duration::from_millis(1));
        rows += batch.len();
    }
    (rows, start.elapsed())
}

#[test]
fn an_async_producer_held_back_by_a_full_channel_is_blocked() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let before = pipetel::snapshot();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (rows, produced, consumed) = runtime.block_on(async {
        let (tx, rx) = pipetel::channel::tokio::channel(1);
        let producer = tokio::spawn(async move {
            let start = Instant::now();
            let inside = produce(tx, 50).await;
            (inside, start.elapsed())
        });
        let start = Instant::now();
        let (rows, inside) = consume(rx).await;
        let consumed = (inside, start.elapsed());
        (rows, producer.await.unwrap(), consumed)
    });
    assert_eq!(rows, (0..50).map(|n| n % 7 + 1).sum::<usize>());
    let snapshot = pipetel::snapshot().since(&before);
    let produce = operator_of(&snapshot, "produce", "async-waits");
    let consume = operator_of(&snapshot, "consume", "async-waits");
    assert_adds_up(produce, produced.0, produced.1);
    assert_adds_up(consume, consumed.0, consumed.1);
    assert!(share(produce, produce.time.blocked) > 0.5, "{produce:#?}");
    assert!(share(consume, consume.time.busy) > 0.5, "{consume:#?}");
    assert_eq!(
        snapshot.bottleneck.expect("a bottleneck").node.node_type,
        "consume"
    );
}

#[operator(node_type = "numbers", node_id = "queued")]
fn numbers(
    rx: pipetel::channel::tokio::Receiver<Vec<u64>>,
    polled: &'static Mutex<(Option<Instant>, Option<Instant>)>,
) -> impl Stream<Item = Vec<u64>> {
    // Notes when its first poll starts and when its input ends: inside its life.
    futures::stream::unfold(rx, move |mut rx| async move {
        polled.lock().unwrap().0.get_or_insert_with(Instant::now);
        let next = rx.recv().await;
        if next.is_none() {
            polled.lock().unwrap().1 = Some(Instant::now());
        }
        next.map(|n| (n, rx))
    })
}

#[test]
fn a_stream_woken_on_a_busy_runtime_waits_queued_between_wake_and_poll() {
    pipetel_tests::own_process!();
    let _turn = setup();
    static POLLED: Mutex<(Option<Instant>, Option<Instant>)> = Mutex::new((None, None));
    let before = pipetel::snapshot();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let measured = runtime.block_on(async {
        let (tx, rx) = pipetel::channel::tokio::channel(4);
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        // Sends from another thread (the stream is woken from there) while a task on the
        // runtime's only thread keeps it busy: between the wake and the poll, queued.
        let sender = thread::spawn(move || {
            for n in 0..30 {
                thread::sleep(Duration::from_millis(2));
                tx.blocking_send(vec![n]).unwrap();
            }
        });
        let hog_done = done.clone();
        let hog = tokio::spawn(async move {
            while !hog_done.load(std::sync::atomic::Ordering::Relaxed) {
                spin(Duration::from_micros(500));
                tokio::task::yield_now().await;
            }
        });
        let start = Instant::now();
        let sum: u64 = numbers(rx, &POLLED)
            .fold(0, |sum, batch| async move { sum + batch[0] })
            .await;
        let measured = start.elapsed();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        hog.await.unwrap();
        sender.join().unwrap();
        assert_eq!(sum, (0..30).sum::<u64>());
        measured
    });
    let snapshot = pipetel::snapshot().since(&before);
    let numbers = operator_of(&snapshot, "numbers", "queued");
    let (Some(first), Some(end)) = *POLLED.lock().unwrap() else {
        panic!("the stream was polled and ended");
    };
    assert_adds_up(numbers, end - first, measured);
    assert!(numbers.time.starved > Duration::ZERO, "{numbers:#?}");
    assert!(numbers.time.queued > Duration::ZERO, "{numbers:#?}");
}
