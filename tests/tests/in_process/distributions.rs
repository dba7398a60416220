//! Skew and distributions: a planted straggler partition is named, with DataFusion's
//! skew score; skew across threads names the busy thread; the p99 of a known per-call
//! distribution is within one bucket; the slowest call is the one the test measured as
//! slowest, with the trace of the run it ran in.

use crate::operator_labelled;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use pipetel::snapshot::skew_score;
use pipetel::{operator, pipeline_step, Config, Pipeline};
use pipetel_tests::in_memory::start;

/// Spans exported here: runs and steps have traces, as with a collector.
static SPANS: std::sync::LazyLock<InMemorySpanExporter> =
    std::sync::LazyLock::new(InMemorySpanExporter::default);

fn setup() {
    start(|| {
        Config::new()
            .collect_locally(true)
            .with_span_exporter(SPANS.clone())
    });
}

/// Work proportional to `units`, that the optimizer cannot remove.
fn work(units: u64) -> u64 {
    (0..units * 2_000).fold(0u64, |hash, n| {
        std::hint::black_box(hash.rotate_left(5) ^ n)
    })
}

/// Time spent in each partition's body, in nanoseconds, as the body itself measured it.
static IN_BODY: [std::sync::atomic::AtomicU64; 8] =
    [const { std::sync::atomic::AtomicU64::new(0) }; 8];

#[operator(node_type = "scan", node_id = "straggler", partition = partition)]
fn scan_partition(partition: usize, rows: u64) -> Vec<u64> {
    let started = Instant::now();
    work(rows);
    let out = vec![0; rows as usize];
    let took = started.elapsed().as_nanos() as u64;
    IN_BODY[partition].fetch_add(took, std::sync::atomic::Ordering::Relaxed);
    out
}

/// Exports now and returns the values of the `skew` gauge's points of node `node_id`
/// across `across` of `measure`.
fn exported_skew(node_id: &str, across: &str, measure: &str) -> Vec<f64> {
    pipetel_tests::in_memory::gauge_points("pipetel.skew")
        .into_iter()
        .filter(|(attributes, _)| {
            attributes["node.id"] == node_id
                && attributes["across"] == across
                && attributes["measure"] == measure
        })
        .map(|(_, value)| value)
        .collect()
}

#[test]
fn a_straggler_partition_is_named_with_datafusions_score() {
    pipetel_tests::own_process!();
    setup();
    let rows = |partition: usize| if partition == 3 { 100 } else { 10 };
    // Each call is timed from outside as well as inside its body: a partition's busy time
    // lies between the two, pauses of the machine included or not, so the checks below
    // hold however loaded the machine is.
    let mut around = [Duration::ZERO; 8];
    for _ in 0..5 {
        for (partition, took) in around.iter_mut().enumerate() {
            let started = Instant::now();
            scan_partition(partition, rows(partition));
            *took += started.elapsed();
        }
    }
    let op = operator_labelled("scan", "straggler");
    assert_eq!(op.skew.partitions.len(), 8);
    let skew = op.skew.across_partitions.as_ref().expect("skew");
    assert_eq!(
        (skew.count, skew.rows.min, skew.rows.median, skew.rows.max),
        (8, 50, 50, 500)
    );
    assert_eq!(skew.rows.max_at, "3");
    let per_partition: Vec<u64> = (0..8).map(|p| rows(p) * 5).collect();
    assert_eq!(skew.rows.skew, skew_score(&per_partition));
    // Exported: the gauge's point across partitions of rows is the same score.
    let exported = exported_skew("straggler", "partitions", "rows");
    assert_eq!(exported, [skew_score(&per_partition).expect("a score")]);
    // Busy time per partition: at least the body's own time, at most the time around the
    // calls. pipetel reads the TSC (quanta, calibrated against the OS clock) and the test
    // `Instant`: a microsecond a call for the reads' distance, and 2 % for the calibration.
    let mut busiest = (0, "");
    for share in &op.skew.partitions {
        let partition: usize = share.at.parse().expect("a partition number");
        let body = IN_BODY[partition].load(std::sync::atomic::Ordering::Relaxed);
        let outside = around[partition].as_nanos() as u64;
        let slack = 5_000 + outside / 50;
        assert!(
            body <= share.busy_ns + slack && share.busy_ns <= outside + slack,
            "partition {partition}: body {body} ns, busy {} ns, around {outside} ns",
            share.busy_ns
        );
        busiest = busiest.max((share.busy_ns, &share.at));
    }
    // The busiest partition named is the one with the most busy time: the straggler, 10×
    // the work, unless a pause of the machine fell on another.
    assert_eq!(skew.busy_ns.max_at, busiest.1, "{skew:#?}");
    assert_eq!(skew.busy_ns.max, busiest.0);
    let report = pipetel::Report::of(pipetel::snapshot()).to_string();
    let line = report
        .lines()
        .skip_while(|line| !line.contains("scan straggler"))
        .find(|line| line.contains("8 partitions"))
        .unwrap_or_else(|| panic!("no skew line in\n{report}"));
    assert!(line.contains("(max partition 3)"), "{line}");
    let percent = format!("skew {:.0}%", skew_score(&per_partition).unwrap() * 100.0);
    assert!(line.contains(&percent), "{line}");
    println!("{line}");
}

#[operator(node_type = "transform", node_id = "threads")]
fn busy_batch(rows: u64) -> Vec<u64> {
    vec![0; rows as usize]
}

#[test]
fn skew_across_threads_names_the_thread_that_did_most() {
    pipetel_tests::own_process!();
    setup();
    // Two workers alive together, as a pool's are, until the snapshot is taken (a thread
    // that starts after another ended takes over its counters, and its name).
    let together = std::sync::Arc::new(std::sync::Barrier::new(3));
    let spawn = |name: &str, rows: u64| {
        let together = std::sync::Arc::clone(&together);
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                together.wait();
                for _ in 0..4 {
                    busy_batch(rows);
                }
                together.wait();
                together.wait(); // the snapshot was taken
            })
            .unwrap()
    };
    let threads = [spawn("light-worker", 5), spawn("heavy-worker", 50)];
    together.wait(); // both started
    together.wait(); // both done, both alive
    let op = operator_labelled("transform", "threads");
    together.wait();
    for thread in threads {
        thread.join().unwrap();
    }
    let skew = op.skew.across_threads.as_ref().expect("skew");
    assert_eq!(skew.count, 2);
    assert_eq!((skew.rows.min, skew.rows.max), (20, 200));
    // Named with its number: a pool's threads share a name.
    assert!(skew.rows.max_at.starts_with("heavy-worker:"), "{skew:#?}");
    assert_eq!(skew.rows.skew, skew_score(&[20, 200]));
    // Exported: the gauge's points of this operator across threads, rows and busy time,
    // each the snapshot's score; none across partitions (its calls named none).
    let exported: Vec<(String, String, f64)> =
        pipetel_tests::in_memory::gauge_points("pipetel.skew")
            .into_iter()
            .filter(|(attributes, _)| {
                attributes["node.type"] == "transform" && attributes["node.id"] == "threads"
            })
            .map(|(attributes, value)| {
                (
                    attributes["across"].clone(),
                    attributes["measure"].clone(),
                    value,
                )
            })
            .collect();
    let score = |measure: &str| {
        exported
            .iter()
            .find(|(across, of, _)| across == "threads" && of == measure)
            .map(|&(_, _, value)| value)
            .unwrap_or_else(|| panic!("no skew of {measure} across threads in {exported:?}"))
    };
    assert_eq!(exported.len(), 2, "{exported:?}");
    assert_eq!(Some(score("rows")), skew_score(&[20, 200]));
    // Busy time: exported from ticks, the snapshot's shares in whole nanoseconds (each
    // truncated by less than 1 ns): the exported score lies within the scores of the
    // shares moved by up to 1 ns.
    let busy: Vec<u64> = op.skew.threads.iter().map(|share| share.busy_ns).collect();
    assert_eq!(busy.len(), 2);
    let (low, high) = [(0, 0), (0, 1), (1, 0), (1, 1)]
        .into_iter()
        .filter_map(|(up0, up1)| skew_score(&[busy[0] + up0, busy[1] + up1]))
        .fold((f64::MAX, f64::MIN), |(low, high), b| {
            (low.min(b), high.max(b))
        });
    let exported_busy = score("busy");
    assert!(
        (low - 1e-12..=high + 1e-12).contains(&exported_busy),
        "{exported_busy} outside {low}..={high} ({busy:?} ns)"
    );
}

#[test]
fn skew_across_threads_adds_a_querys_work_into_each_threads_share() {
    pipetel_tests::own_process!();
    setup();
    // One node counted in a query's lane and outside it, on two threads that stay alive
    // together: the exported score is of each thread's work, both counts added.
    let query = pipetel::engine::Query::start();
    let in_query = query.operator("transform", "lane-skew");
    let outside = pipetel::Operator::new("transform", "lane-skew");
    let together = std::sync::Arc::new(std::sync::Barrier::new(3));
    let spawn = |work: Vec<(pipetel::Operator, usize)>| {
        let together = std::sync::Arc::clone(&together);
        std::thread::spawn(move || {
            together.wait();
            for (operator, rows) in work {
                operator.iter(vec![vec![0u8; rows]]).for_each(drop);
            }
            together.wait();
            together.wait(); // exported
        })
    };
    let threads = [
        spawn(vec![(in_query, 30), (outside, 20)]),
        spawn(vec![(in_query, 10)]),
    ];
    together.wait(); // both started
    together.wait(); // both done, both alive
    let exported = exported_skew("lane-skew", "threads", "rows");
    let op = operator_labelled("transform", "lane-skew");
    together.wait();
    for thread in threads {
        thread.join().unwrap();
    }
    drop(query);
    let mut rows: Vec<u64> = op.skew.threads.iter().map(|share| share.rows).collect();
    rows.sort_unstable();
    assert_eq!(rows, [10, 50], "{:#?}", op.skew);
    let score = skew_score(&[50, 10]).expect("a score");
    assert_eq!(exported, [score]);
    assert_eq!(op.skew.across_threads.expect("skew").rows.skew, Some(score));
}

#[operator(node_type = "lookup", node_id = "latency")]
fn timed_lookup(units: u64) -> Duration {
    let started = Instant::now();
    work(units);
    started.elapsed()
}

#[test]
fn the_p99_of_a_known_distribution_is_within_one_bucket() {
    pipetel_tests::own_process!();
    setup();
    // 200 calls, 1 to 200 units of work: the test measures each from inside the call
    // (its body) and around it (body and pipetel's bookkeeping, and any pause between).
    let (mut body, mut around): (Vec<Duration>, Vec<Duration>) = (1..=200)
        .map(|units| {
            let started = Instant::now();
            let body = timed_lookup(units);
            (body, started.elapsed())
        })
        .unzip();
    body.sort();
    around.sort();
    let p99 = |sorted: &[Duration]| sorted[(0.99f64 * 200.0).ceil() as usize - 1];
    let op = operator_labelled("lookup", "latency");
    let busy = op.distributions.busy_per_call.expect("distribution");
    assert_eq!(busy.count, 200);
    // pipetel's p99 is the start of the bucket holding the 198th busy time, which lies
    // between the 198th body time and the 198th time around (2 % and a microsecond for the
    // TSC's calibration against the OS clock): at most the one, and less than a quarter
    // below the other, as `Percentiles` promises (a tick bucket spans a quarter of its
    // start, and the snapshot cuts that start to its grid of nanoseconds: 4/5 · 16/17).
    let (low, high) = (p99(&body), p99(&around));
    assert!(
        busy.p99 <= high.mul_f64(1.02) + Duration::from_micros(1)
            && busy.p99.as_secs_f64() > 0.75 * 0.98 * low.as_secs_f64(),
        "p99: pipetel {:?}, body {low:?}, around {high:?}",
        busy.p99
    );
    // Rows per call are exact below 8 and for powers of two.
    let rows = op.distributions.rows_per_call.expect("rows");
    assert_eq!((rows.count, rows.p50, rows.max), (200, 0, 0));
}

#[operator(node_type = "parse", node_id = "slowest")]
fn parse_batch(units: u64) -> Duration {
    let started = Instant::now();
    work(units);
    started.elapsed()
}

/// One call of `parse_batch` as the test saw it: the wall clock before and after it, and
/// the time its body measured.
struct Seen {
    before: SystemTime,
    after: SystemTime,
    body: Duration,
}

/// The pause between two calls of `parse_batch`: a call's end, read back as a time of day,
/// is told apart from the next call's start however the TSC's calibration and the time of
/// day's own adjustments have moved the two clocks apart (a few dozen microseconds here).
const BETWEEN_CALLS: Duration = Duration::from_millis(2);

/// The pipeline whose run traces the slow call.
#[derive(Pipeline)]
#[pipeline(name = "slow_batch")]
struct SlowBatch;

impl SlowBatch {
    #[pipeline_step]
    fn parse(&self) -> (u128, Vec<Seen>) {
        let trace = opentelemetry::Context::map_current(|cx| {
            u128::from_be_bytes(cx.span().span_context().trace_id().to_bytes())
        });
        // 30 batches, apart; batch 17 is planted 20× slower.
        let calls = (0..30)
            .map(|batch| {
                std::thread::sleep(BETWEEN_CALLS);
                let before = SystemTime::now();
                let body = parse_batch(if batch == 17 { 200 } else { 10 });
                let after = SystemTime::now();
                Seen {
                    before,
                    after,
                    body,
                }
            })
            .collect();
        (trace, calls)
    }
}

#[test]
fn the_slowest_call_is_found_with_the_trace_it_ran_in() {
    pipetel_tests::own_process!();
    setup();
    let (trace, calls) = SlowBatch
        .run(|pipeline| Ok::<_, String>(pipeline.parse()))
        .unwrap();
    assert_ne!(trace, 0, "the run has a trace");
    let op = operator_labelled("parse", "slowest");
    assert_eq!(
        op.distributions.slowest_calls.len(),
        pipetel::limits::SLOWEST_CALLS
    );
    // Each call kept is one the test made: it ended while that call ran (to within a
    // quarter of the pause between calls, for the two clocks' distance), and its busy time
    // is at least that call's body's (pipetel reads the TSC, calibrated against the OS
    // clock: 2 % and a microsecond for the calibration and the reads' distance).
    let at_least = |body: Duration| body.mul_f64(0.98).saturating_sub(Duration::from_micros(1));
    let near = BETWEEN_CALLS / 4;
    for kept in &op.distributions.slowest_calls {
        let call = calls
            .iter()
            .find(|call| call.before - near <= kept.ended && kept.ended <= call.after + near)
            .unwrap_or_else(|| panic!("{kept:?} ended during none of the calls"));
        assert!(
            kept.busy >= at_least(call.body),
            "{kept:?}, body {:?}",
            call.body
        );
        assert_eq!(kept.trace_id, Some(format!("{trace:032x}")));
    }
    // The slowest kept took at least as long as the longest body: the planted batch's,
    // unless the machine paused another for longer. Slowest first.
    let longest = calls.iter().map(|call| call.body).max().unwrap();
    let slowest = &op.distributions.slowest_calls[0];
    assert!(
        slowest.busy >= at_least(longest),
        "{slowest:?} vs {longest:?}"
    );
    assert!(op
        .distributions
        .slowest_calls
        .windows(2)
        .all(|pair| pair[0].busy >= pair[1].busy));
}

#[operator(node_type = "count", node_id = "read_while_running")]
fn counted_call(rows: usize) -> Vec<u8> {
    vec![0; rows]
}

/// Readers take in only the series' blocks that changed since the previous read:
/// snapshots taken while four threads call never count a call twice, leave out at most a
/// list of segments per thread, and count every call once the threads end.
#[test]
fn snapshots_taken_while_threads_call_count_every_call_once() {
    pipetel_tests::own_process!();
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    setup();
    const THREADS: u64 = 4;
    const CALLS: u64 = 20_000;
    // (calls in the distribution of busy time, hand-overs in that of rows, calls)
    let counts = || {
        let snapshot = pipetel::snapshot();
        let op = snapshot
            .operators
            .iter()
            .find(|op| op.node_type == "count" && op.node_id == "read_while_running");
        op.map_or((0, 0, 0), |op| {
            let busy = op
                .distributions
                .busy_per_call
                .as_ref()
                .map_or(0, |b| b.count);
            let rows = op
                .distributions
                .rows_per_call
                .as_ref()
                .map_or(0, |r| r.count);
            (busy, rows, op.calls.completed)
        })
    };
    // Calls returned, and calls started (an upper bound of what any read may count).
    let (returned, started) = (AtomicU64::new(0), AtomicU64::new(0));
    // The callers go on until the reader has read a few times while they ran (however the
    // machine schedules the two), within a bound.
    const READS: u64 = 5;
    let (reads, done) = (AtomicU64::new(0), AtomicU64::new(0));
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                let mut call = 0;
                while call < CALLS || (reads.load(SeqCst) < READS && call < 100 * CALLS) {
                    started.fetch_add(1, SeqCst);
                    counted_call(call as usize % 3);
                    returned.fetch_add(1, SeqCst);
                    call += 1;
                }
                done.fetch_add(1, SeqCst);
            });
        }
        while done.load(SeqCst) < THREADS && reads.load(SeqCst) < 100_000 {
            let at_least = returned.load(SeqCst);
            let (busy, rows, _) = counts();
            let at_most = started.load(SeqCst);
            // Each distribution counts every call that returned before the read began
            // and none that had not started when it ended: a list of segments per thread
            // (32) may be left out, emptied after the blocks were read and before the
            // lists were. (The two are not read at one
            // instant: the series' block, shared by the four threads emptying their
            // lists into it, may give a segment's busy time and not yet its rows, by as
            // many as they empty while the reader is held up.)
            for (counted, what) in [(busy, "busy times"), (rows, "rows")] {
                assert!(
                    counted + 32 * THREADS >= at_least && counted <= at_most,
                    "{counted} {what} counted, {at_least}..={at_most} returned"
                );
            }
            reads.fetch_add(1, SeqCst);
        }
    });
    assert!(
        reads.load(SeqCst) >= READS,
        "the reader read while the threads ran"
    );
    let all = returned.load(SeqCst);
    for _ in 0..2 {
        assert_eq!(counts(), (all, all, all));
    }
}
