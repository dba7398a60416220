//! The tracking allocator as a program uses it (`#[global_allocator]`): every block is
//! charged to the operator that allocated it — across a channel and threads, and in an
//! async operator whose polls move between a runtime's threads — wherever it is freed,
//! live bytes are never negative, threads that exit lose nothing, and the owners' counts
//! add up to the allocator's balance exactly (checked against a counter of its own
//! around the allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::SeqCst};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pipetel::alloc::{balance, Tracking};
use pipetel::snapshot::Memory;
use pipetel::Operator;

/// Counts the bytes the program holds, independently of the tracking allocator it wraps,
/// and the calls that entered and left it (a moment with none in flight is a quiet one).
struct Balance<A> {
    inner: A,
    live: AtomicI64,
    entered: AtomicU64,
    left: AtomicU64,
}

impl<A> Balance<A> {
    /// `call`, counted as entering and leaving.
    fn counted<R>(&self, call: impl FnOnce() -> R) -> R {
        self.entered.fetch_add(1, SeqCst);
        let result = call();
        self.left.fetch_add(1, SeqCst);
        result
    }
}

// SAFETY: every call is handed to `inner` unchanged.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Balance<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.counted(|| {
            // SAFETY: the caller's promises, passed on.
            let ptr = unsafe { self.inner.alloc(layout) };
            if !ptr.is_null() {
                self.live.fetch_add(layout.size() as i64, SeqCst);
            }
            ptr
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.counted(|| {
            // SAFETY: as above.
            unsafe { self.inner.dealloc(ptr, layout) };
            self.live.fetch_sub(layout.size() as i64, SeqCst);
        })
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.counted(|| {
            // SAFETY: as above.
            let ptr = unsafe { self.inner.alloc_zeroed(layout) };
            if !ptr.is_null() {
                self.live.fetch_add(layout.size() as i64, SeqCst);
            }
            ptr
        })
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.counted(|| {
            // SAFETY: as above.
            let moved = unsafe { self.inner.realloc(ptr, layout, new_size) };
            if !moved.is_null() {
                self.live
                    .fetch_add(new_size as i64 - layout.size() as i64, SeqCst);
            }
            moved
        })
    }
}

#[global_allocator]
static ALLOCATOR: Balance<Tracking<System>> = Balance {
    inner: Tracking::new(System),
    live: AtomicI64::new(0),
    entered: AtomicU64::new(0),
    left: AtomicU64::new(0),
};

/// The tests here share one allocator and one table: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The memory the snapshot gives the operator `node_type` `node_id` (none: it has not run).
fn memory_of(node_type: &str, node_id: &str) -> Memory {
    pipetel::snapshot()
        .operator(node_type, node_id)
        .and_then(|op| op.memory)
        .unwrap_or_default()
}

/// This test's turn (the tests here share one allocator and one table), telemetry on.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    let turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    telemetry();
    turn
}

/// What each partition of `op` holds now, by partition.
fn partitions_live(op: &pipetel::snapshot::OperatorSnapshot) -> Vec<(&str, u64)> {
    op.skew
        .partitions
        .iter()
        .map(|share| (&*share.at, share.memory.as_ref().expect("measured").live))
        .collect()
}

fn telemetry() {
    static TELEMETRY: std::sync::OnceLock<pipetel::Telemetry> = std::sync::OnceLock::new();
    TELEMETRY.get_or_init(|| {
        // Checks often enough that a leak shows within a test.
        let mut thresholds = pipetel::diagnose::Thresholds::default();
        thresholds.check_every = Duration::from_millis(20);
        thresholds.memory_growth_checks = 4;
        thresholds.memory_growth_min = 4 << 20;
        pipetel::Config::new()
            .collect_locally(true)
            .thresholds(thresholds)
            .init()
    });
}

const BATCHES: usize = 50;
const BATCH_BYTES: usize = 64 * 1024;

#[test]
fn blocks_are_charged_to_the_operator_that_made_them_wherever_they_are_freed() {
    let _serial = one_at_a_time();
    let scan = Operator::new("scan", "alloc-pipeline");
    let filter = Operator::new("filter", "alloc-pipeline");
    let sink = Operator::new("sink", "alloc-pipeline");
    let before = |node_type: &str| memory_of(node_type, "alloc-pipeline");
    let (scan_before, filter_before) = (before("scan"), before("filter"));
    let (to_filter, filtered) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    let (to_sink, sunk) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    // Three threads: the scan makes each batch, the filter makes a half-size copy and
    // drops the scan's, the sink keeps a few of the filter's and drops the rest.
    let scanning = std::thread::spawn(move || {
        for n in 0..BATCHES {
            let batch = scan.call(|| vec![n as u8; BATCH_BYTES]);
            to_filter.send(batch).expect("the filter");
        }
    });
    let filtering = std::thread::spawn(move || {
        for batch in filtered {
            let half = filter.call(|| batch[..BATCH_BYTES / 2].to_vec());
            drop(batch); // the scan's, freed here
            to_sink.send(half).expect("the sink");
        }
    });
    let kept = std::thread::spawn(move || {
        let mut kept = Vec::new();
        for batch in sunk {
            sink.call(|| {
                if kept.len() < 5 {
                    kept.push(batch);
                }
            });
        }
        kept
    })
    .join()
    .expect("the sink");
    scanning.join().expect("the scan");
    filtering.join().expect("the filter");

    let grew = |node_type: &str, was: Memory| {
        let now = memory_of(node_type, "alloc-pipeline");
        (
            now.allocated - was.allocated,
            now.live,
            now.allocations - was.allocations,
        )
    };
    let (scan_allocated, scan_live, scan_blocks) = grew("scan", scan_before);
    let (filter_allocated, filter_live, _) = grew("filter", filter_before);
    // Every batch made in the scan's body is the scan's (at least 99 %: nothing else
    // allocates there), and all of it was freed — by the filter's thread.
    assert!(
        scan_allocated >= (BATCHES * BATCH_BYTES) as u64 * 99 / 100,
        "{scan_allocated}"
    );
    assert!(
        scan_allocated <= (BATCHES * BATCH_BYTES) as u64 * 101 / 100,
        "{scan_allocated}"
    );
    assert_eq!(scan_blocks, BATCHES as u64);
    assert_eq!(scan_live, 0, "the scan's batches were all freed");
    // The filter's copies: half as much, the five the sink kept still live and the
    // filter's, though the sink's thread holds them and the filter's thread has exited.
    assert!(filter_allocated >= (BATCHES * BATCH_BYTES / 2) as u64 * 99 / 100);
    assert_eq!(filter_live, (5 * BATCH_BYTES / 2) as u64);
    drop(kept);
    assert_eq!(memory_of("filter", "alloc-pipeline").live, 0);
}

/// Makes 40 blocks of 16 KiB, one per poll, yielding between them: each poll may run on
/// either of the runtime's workers.
#[pipetel::operator(node_type = "async-scan", node_id = "alloc-async")]
async fn keep_batches() -> Vec<Vec<u8>> {
    let mut kept = Vec::new();
    for n in 0..40u8 {
        kept.push(vec![n; 16 * 1024]);
        tokio::task::yield_now().await;
    }
    kept
}

#[test]
fn an_async_operator_is_charged_for_its_polls_on_whichever_thread_runs_them() {
    let _serial = one_at_a_time();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let kept = runtime.block_on(async { tokio::spawn(keep_batches()).await.expect("the task") });
    let charged = memory_of("async-scan", "alloc-async");
    // Every block made in its polls is its own (the vector that keeps them grows too).
    assert!(charged.allocated >= 40 * 16 * 1024, "{charged:?}");
    assert!(charged.live >= 40 * 16 * 1024, "{charged:?}");
    drop(kept);
    drop(runtime);
}

#[test]
fn the_owners_add_up_to_the_allocators_balance_exactly() {
    let _serial = one_at_a_time();
    // Threads that allocate for an operator and exit, leaving some blocks behind.
    let op = Operator::new("maker", "alloc-balance");
    let left: Vec<Vec<u8>> = (0..4)
        .map(|n| {
            std::thread::spawn(move || op.call(|| vec![n as u8; 1000 + n]))
                .join()
                .expect("a thread")
        })
        .collect();
    // Nothing else allocates while the two are read (this test holds the lock; the
    // telemetry's own threads may: read until two readings agree).
    let mut agreed = false;
    for _ in 0..1000 {
        // A quiet moment: no call in the allocator as it starts, none entering during it.
        let left = ALLOCATOR.left.load(SeqCst);
        let entered = ALLOCATOR.entered.load(SeqCst);
        let counted = ALLOCATOR.live.load(SeqCst);
        let tracked = balance();
        if left == entered && ALLOCATOR.entered.load(SeqCst) == entered {
            assert_eq!(tracked.live() as i64, counted, "{tracked:?}");
            assert!(tracked.allocated >= tracked.freed);
            agreed = true;
            break;
        }
        std::thread::yield_now();
    }
    assert!(
        agreed,
        "the process never stopped allocating long enough to compare"
    );
    let maker = memory_of("maker", "alloc-balance");
    assert_eq!(maker.live, (0..4).map(|n| 1000 + n as u64).sum::<u64>());
    drop(left);
}

#[test]
fn the_snapshot_and_the_report_show_what_each_operator_holds_held_at_most_and_retained() {
    let _serial = one_at_a_time();
    let builder = Operator::new("builder", "alloc-peak");
    let before = pipetel::snapshot();
    // A call returns 2 MiB, live when it ends (a sample of the peak), freed after.
    let big = builder.call(|| vec![1u8; 2 << 20]);
    drop(big);
    // A call keeps 256 KiB in a buffer it fills, held after its end: what it retains.
    let mut kept: Vec<Vec<u8>> = Vec::new();
    builder.call(|| kept.push(vec![2u8; 256 << 10]));
    let snapshot = pipetel::snapshot();

    let memory = snapshot
        .operator("builder", "alloc-peak")
        .and_then(|op| op.memory)
        .expect("the builder's memory");
    // The kept buffer, and the vector holding it (4 slots of 24 bytes: its first growth).
    let held = (256 << 10) + 4 * 24;
    assert_eq!(memory.live, held, "{memory:?}");
    assert_eq!(memory.retained, held, "nothing moved since its last call");
    assert_eq!(memory.peak, 2 << 20, "the 2 MiB returned by the first call");
    assert_eq!(memory.allocated, (2 << 20) + held);
    assert_eq!((memory.allocations, memory.frees), (3, 1));
    assert!(snapshot.unattributed_memory.is_some());

    // What happened in between: all of it; a view keeps what is held now.
    let between = snapshot.since(&before);
    let view = between.operator("builder", "alloc-peak").unwrap();
    assert_eq!(view.memory, Some(memory));
    // The snapshot format carries it.
    let back =
        pipetel::snapshot::Snapshot::from_json(&pipetel::Report::of(snapshot.clone()).json())
            .expect("the snapshot's JSON");
    assert_eq!(
        back.operator("builder", "alloc-peak").unwrap().memory,
        Some(memory)
    );

    let report = pipetel::Report::of(snapshot).to_string();
    let header = report
        .lines()
        .find(|line| line.starts_with("RUN / STEP / OPERATOR"))
        .expect("the table");
    assert!(header.ends_with("MEMORY"), "{header}");
    let row = report
        .lines()
        .find(|line| line.trim_start().starts_with("builder"))
        .expect("the builder's row");
    assert!(row.ends_with("256.1 KiB / 2.0 MiB"), "live / peak: {row}");
    assert!(
        report.contains(
            "· memory: allocated 2.3 MiB in 3 blocks, freed 2.0 MiB, retained 256.1 KiB after its last call that allocated"
        ),
        "{report}"
    );
    drop(kept);
    let after = pipetel::snapshot();
    let memory = after
        .operator("builder", "alloc-peak")
        .unwrap()
        .memory
        .unwrap();
    assert_eq!(
        (memory.live, memory.retained, memory.peak),
        (0, held, 2 << 20)
    );
}

#[test]
fn an_operator_that_keeps_what_it_allocates_is_memory_growth_and_one_that_frees_it_is_not() {
    use pipetel::diagnose::DiagnosisKind;
    let _serial = one_at_a_time();
    let leaky = Operator::new("leaky", "alloc-growth");
    let steady = Operator::new("steady", "alloc-growth");
    let mut leaked: Vec<Vec<u8>> = Vec::new();
    let started = Instant::now();
    let found = loop {
        // Each call of the leaky one keeps 128 KiB; the steady one frees what it makes.
        leaky.call(|| leaked.push(vec![1u8; 128 << 10]));
        steady.call(|| drop(std::hint::black_box(vec![2u8; 128 << 10])));
        let diagnoses = pipetel::snapshot().diagnoses;
        let about = |node_type: &str| {
            diagnoses
                .iter()
                .find(|d| {
                    d.kind == DiagnosisKind::MemoryGrowth
                        && d.node
                            .as_ref()
                            .is_some_and(|node| node.node_type == node_type)
                })
                .cloned()
        };
        assert_eq!(about("steady"), None, "it frees all it makes");
        if let Some(found) = about("leaky") {
            break found;
        }
        // Four checks 20 ms apart fire within a second on an idle machine; a minute is
        // a loaded one's.
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no memory growth after {} leaked calls",
            leaked.len()
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(
        found
            .message
            .starts_with("memory growth: leaky alloc-growth holds "),
        "{}",
        found.message
    );
    assert!(found
        .message
        .ends_with(": a leak, or a buffer with no bound"));
    assert!(
        leaked.len() * (128 << 10) >= 4 << 20,
        "it grew past the threshold"
    );
}

#[test]
fn a_block_grown_in_a_call_raises_its_owners_peak_as_the_call_returns() {
    let _serial = one_at_a_time();
    let grower = Operator::new("grower", "alloc-realloc");
    let mut buffer: Vec<u8> = grower.call(|| Vec::with_capacity(1024));
    // Grown in place or moved, one block still: no allocation in the call, only growth.
    grower.call(|| buffer.reserve_exact(4 << 20));
    // Given back outside any call: no call of it returns while it is this large again.
    buffer.shrink_to(1024);
    let memory = memory_of("grower", "alloc-realloc");
    assert_eq!(memory.allocations, 1, "{memory:?}");
    assert!(
        memory.peak >= 4 << 20,
        "the grown block, as its call returned: {memory:?}"
    );
    assert!(memory.live < 1 << 20, "{memory:?}");
    drop(buffer);
}

#[test]
fn each_call_counts_the_bytes_it_allocated_itself_not_those_of_operators_nested_in_it() {
    let _serial = one_at_a_time();
    let query = pipetel::engine::Query::start();
    let outer = query.operator("outer", "alloc-per-call");
    let inner = query.operator("inner", "alloc-per-call");
    // What a call costs pipetel's own tables the first time (a thread's cells, a
    // series' block, the link between the two) is not the calls': one call first.
    let call = |own: usize| {
        outer.call(|| {
            let mine = vec![1u8; own];
            let nested = inner.call(|| vec![2u8; 64 << 10]);
            mine.len() + nested.len()
        })
    };
    call(1);
    let before = pipetel::snapshot();
    let view_before = query.id().expect("a lane").snapshot().expect("its view");
    // Nine calls in ten allocate 1 KiB, one in ten 1 MiB; each calls `inner`, which
    // allocates 64 KiB every time.
    for n in 0..100 {
        call(if n % 10 == 0 { 1 << 20 } else { 1 << 10 });
    }
    let per_call = |snapshot: &pipetel::snapshot::Snapshot, node_type: &str| {
        let op = snapshot
            .operator(node_type, "alloc-per-call")
            .expect("it ran");
        let p = op.distributions.allocated_per_call.expect("bytes per call");
        (p.count, p.p50, p.p90, p.p99, p.max)
    };
    let since = pipetel::snapshot().since(&before);
    assert_eq!(
        per_call(&since, "outer"),
        (100, 1 << 10, 1 << 10, 1 << 20, 1 << 20),
        "its own bytes, without the 64 KiB its nested call allocated"
    );
    assert_eq!(
        per_call(&since, "inner"),
        (100, 64 << 10, 64 << 10, 64 << 10, 64 << 10)
    );
    // The query's own view has them too.
    let view = query
        .id()
        .expect("a lane")
        .snapshot()
        .expect("its view")
        .since(&view_before);
    assert_eq!(per_call(&view, "outer"), per_call(&since, "outer"));
    let report = pipetel::Report::of(since).to_string();
    assert!(
        report.contains("· memory per call: p50 1.0 KiB, p90 1.0 KiB, p99 1.0 MiB, max 1.0 MiB"),
        "{report}"
    );
}

#[test]
fn each_partition_holds_its_own_memory_and_the_operator_holds_their_sum() {
    let _serial = one_at_a_time();
    let join = Operator::new("hash_join", "alloc-partitions");
    // Four partitions build a table each, partition 2's ten times the others', kept
    // after the calls; partition 3's on another thread.
    let mut tables: Vec<Vec<u8>> = Vec::with_capacity(4);
    for partition in 0..3 {
        let bytes = if partition == 2 { 10 << 20 } else { 1 << 20 };
        tables.push(join.partition(partition).call(|| vec![0u8; bytes]));
    }
    let other = std::thread::spawn(move || join.partition(3).call(|| vec![0u8; 1 << 20]));
    tables.push(other.join().expect("partition 3"));

    let snapshot = pipetel::snapshot();
    let op = snapshot
        .operator("hash_join", "alloc-partitions")
        .expect("it ran");
    let memory = op.memory.expect("measured");
    assert_eq!(memory.live, 13 << 20, "the partitions' sum: {memory:?}");
    assert_eq!(memory.peak, 13 << 20, "all held at once at the reading");
    let parts = partitions_live(op);
    assert_eq!(
        parts,
        [
            ("0", 1 << 20),
            ("1", 1 << 20),
            ("2", 10 << 20),
            ("3", 1 << 20)
        ]
    );
    let peak = op
        .skew
        .across_partitions
        .as_ref()
        .and_then(|skew| skew.memory_peak.clone())
        .expect("memory across partitions");
    assert_eq!((peak.max, peak.max_at.as_str()), (10 << 20, "2"));
    assert_eq!((peak.min, peak.median), (1 << 20, 1 << 20));
    let report = pipetel::Report::of(snapshot).to_string();
    assert!(
        report.contains(
            "· 4 partitions: memory peak 1.0 MiB / 1.0 MiB / 10.0 MiB (max partition 2), skew 79%"
        ),
        "{report}"
    );

    drop(tables);
    let after = pipetel::snapshot();
    let op = after.operator("hash_join", "alloc-partitions").unwrap();
    let memory = op.memory.unwrap();
    assert_eq!((memory.live, memory.peak), (0, 13 << 20));
    let big = op.skew.partitions[2].memory.as_ref().expect("measured");
    assert_eq!((big.live, big.peak, big.retained), (0, 10 << 20, 10 << 20));
}

/// `Pending` once, then `Ready`: a poll boundary that leaves the future free to move.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

/// Makes 40 blocks of 16 KiB, one per poll.
#[pipetel::operator(node_type = "moving-scan", node_id = "alloc-moving")]
async fn keep_batches_polled_anywhere() -> Vec<Vec<u8>> {
    let mut kept = Vec::with_capacity(40);
    for n in 0..40u8 {
        kept.push(vec![n; 16 * 1024]);
        YieldOnce(false).await;
    }
    kept
}

#[test]
fn a_future_polled_by_two_workers_in_turn_is_charged_for_every_poll_on_both() {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};
    type Moving = Pin<Box<dyn Future<Output = Vec<Vec<u8>>> + Send>>;

    let _serial = one_at_a_time();
    // Two workers, each polling whatever future it is handed once and handing it back.
    let (back, returned) = std::sync::mpsc::channel::<(Moving, Option<Vec<Vec<u8>>>)>();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (hand, handed) = std::sync::mpsc::channel::<Moving>();
            let back = back.clone();
            let worker = std::thread::spawn(move || {
                for mut future in handed {
                    let mut context = Context::from_waker(Waker::noop());
                    let done = match future.as_mut().poll(&mut context) {
                        Poll::Ready(kept) => Some(kept),
                        Poll::Pending => None,
                    };
                    back.send((future, done)).expect("the test");
                }
            });
            (hand, worker)
        })
        .collect();
    let mut future: Moving = Box::pin(keep_batches_polled_anywhere());
    let mut kept = None;
    for turn in 0..100 {
        workers[turn % 2].0.send(future).expect("a worker");
        let (again, done) = returned.recv().expect("the future back");
        future = again;
        if done.is_some() {
            kept = done;
            break;
        }
    }
    let kept = kept.expect("done within 100 polls");
    for (hand, worker) in workers {
        drop(hand);
        worker.join().expect("a worker");
    }

    let snapshot = pipetel::snapshot();
    let op = snapshot
        .operator("moving-scan", "alloc-moving")
        .expect("it ran");
    assert_eq!(op.skew.threads.len(), 2, "polled on both workers");
    let memory = op.memory.expect("measured");
    // Every block made in its polls is its own (at least 99 %: its body allocates only
    // them and the vector that keeps them), still held after both workers exited.
    let made = 40 * 16 * 1024 + 40 * 24;
    assert!(memory.allocated >= made * 99 / 100, "{memory:?}");
    assert!(memory.allocated <= made * 101 / 100, "{memory:?}");
    assert_eq!(memory.live, memory.allocated, "nothing freed yet");
    let per_call = op.distributions.allocated_per_call.expect("per poll");
    assert_eq!((per_call.count, per_call.max), (41, 16 * 1024));
    drop(kept);
    let after = memory_of("moving-scan", "alloc-moving");
    assert_eq!(after.live, 0);
}

#[test]
fn a_call_that_grows_a_buffer_made_outside_it_has_not_allocated_it() {
    let _serial = one_at_a_time();
    let op = Operator::new("filler", "alloc-foreign");
    // Made outside any operator: unattributed, and so is its growth inside the call.
    let mut buffer: Vec<u8> = Vec::with_capacity(16);
    op.call(|| buffer.extend_from_slice(&[7; 4096]));
    let own = op.call(|| vec![1u8; 100]);
    let snapshot = pipetel::snapshot();
    let filler = snapshot
        .operator("filler", "alloc-foreign")
        .expect("it ran");
    let memory = filler.memory.expect("measured");
    assert_eq!((memory.allocated, memory.allocations), (100, 1));
    let per_call = filler.distributions.allocated_per_call.expect("per call");
    // 0 and 100 bytes: the second's bucket starts at 96.
    assert_eq!((per_call.count, per_call.p50, per_call.max), (2, 0, 96));
    drop((buffer, own));
}

#[test]
fn the_partitions_of_queries_counted_apart_add_up_in_the_processs_operator() {
    let _serial = one_at_a_time();
    // Two queries of one plan at once: each counts its operator (and its partitions)
    // apart; the process's snapshot adds them, partition by partition.
    let (first, second) = (
        pipetel::engine::Query::start(),
        pipetel::engine::Query::start(),
    );
    let mut kept = Vec::with_capacity(4);
    for (query, scale) in [(&first, 1), (&second, 2)] {
        let join = query.operator("hash_join", "alloc-lanes");
        for partition in 0..2 {
            let bytes = (scale * (partition + 1)) << 20;
            kept.push(join.partition(partition).call(|| vec![0u8; bytes]));
        }
    }
    let snapshot = pipetel::snapshot();
    let op = snapshot
        .operator("hash_join", "alloc-lanes")
        .expect("it ran");
    let parts = partitions_live(op);
    // Partition 0: 1 MiB + 2 MiB; partition 1: 2 MiB + 4 MiB.
    assert_eq!(parts, [("0", 3 << 20), ("1", 6 << 20)]);
    assert_eq!(op.memory.expect("measured").live, 9 << 20);
    drop((kept, first, second));
}
