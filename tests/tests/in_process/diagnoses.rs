//! The built-in diagnoses, each fired by a planted pipeline — a stall, a straggler
//! partition, a row explosion, rows lost in a channel, a dominant operator, failures,
//! cancellations, series folded into `other` — in the snapshot, in the report, and as
//! one log record each the first time; and a clean pipeline where none fires.
//! (Failing exports: `tests/tests/end_to_end/export.rs`, with a real unreachable collector.)
//!
//! The tests take turns and read what happened in between with `Snapshot::since`, so
//! that each sees its own pipeline only. The log records come from snapshots of the whole
//! process: the dominant operator is dominant there too (100 ms of work against a few of
//! all the others).

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use pipetel::diagnose::{Diagnosis, DiagnosisKind, Thresholds};
use pipetel::snapshot::Snapshot;
use pipetel::{operator, Config};
use pipetel_tests::in_memory::start;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::Layer;

/// The `diagnosis` field of every log record pipetel sent, with its operator and level.
type Records = Arc<Mutex<Vec<(String, String, tracing::Level, String)>>>;

struct Capture(Records);

#[derive(Default)]
struct Fields {
    diagnosis: String,
    node_id: String,
    message: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "diagnosis" => self.diagnosis = value.to_owned(),
            "node.id" => self.node_id = value.to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == pipetel::diagnose::DIAGNOSIS_TARGET {
            let mut fields = Fields::default();
            event.record(&mut fields);
            self.0.lock().unwrap().push((
                fields.diagnosis,
                fields.node_id,
                *event.metadata().level(),
                fields.message,
            ));
        }
    }
}

static RECORDS: OnceLock<Records> = OnceLock::new();

const STALL_AFTER: Duration = Duration::from_millis(300);
/// How often the watcher looks, and so sends a diagnosis's log record.
const CHECK_EVERY: Duration = Duration::from_millis(50);

fn setup() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    RECORDS.get_or_init(|| {
        let records = Records::default();
        let subscriber = tracing_subscriber::registry().with(Capture(records.clone()));
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        records
    });
    start(|| {
        let mut thresholds = Thresholds::default();
        thresholds.stall_after = STALL_AFTER;
        thresholds.check_every = CHECK_EVERY;
        // The log records come from snapshots of the whole process, where the other
        // tests' operators take their share of the busy time too.
        thresholds.skew_min_busy_share = 0.01;
        Config::new()
            .collect_locally(true)
            .max_node_ids_per_type(20)
            .thresholds(thresholds)
    });
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The log records sent for `kind` about operator `node_id`.
fn records(kind: DiagnosisKind, node_id: &str) -> Vec<(tracing::Level, String)> {
    RECORDS
        .get()
        .unwrap()
        .lock()
        .unwrap()
        .iter()
        .filter(|(diagnosis, id, _, _)| diagnosis == kind.name() && id == node_id)
        .map(|(_, _, level, message)| (*level, message.clone()))
        .collect()
}

/// The log records sent for `kind` about `node_id`, once the watcher has sent one: it
/// looks every `check_every` (50 ms here), a snapshot of the test's own sends none.
/// Waits 30 s at the most, then returns what there is.
fn sent_records(kind: DiagnosisKind, node_id: &str) -> Vec<(tracing::Level, String)> {
    let started = Instant::now();
    while records(kind, node_id).is_empty() && started.elapsed() < Duration::from_secs(30) {
        thread::sleep(Duration::from_millis(10));
    }
    // A few more looks of the watcher: a second record would show.
    thread::sleep(CHECK_EVERY * 3);
    records(kind, node_id)
}

/// The diagnoses of `kind` about operators with `node_id`.
fn found<'a>(snapshot: &'a Snapshot, kind: DiagnosisKind, node_id: &str) -> Vec<&'a Diagnosis> {
    snapshot
        .diagnoses
        .iter()
        .filter(|d| d.kind == kind && d.node.as_ref().is_some_and(|n| n.node_id == node_id))
        .collect()
}

/// Keeps the calling thread busy for `time`.
fn busy_for(time: Duration) {
    let start = Instant::now();
    while start.elapsed() < time {
        std::hint::spin_loop();
    }
}

/// Runs `pipeline` and returns what happened while it ran (the watcher's next look sends
/// the log records).
fn view_of(pipeline: impl FnOnce()) -> Snapshot {
    let before = pipetel::snapshot();
    pipeline();
    pipetel::snapshot().since(&before)
}

/// The one diagnosis of `kind` about `node_id` in `view`, also in the report, and sent
/// as exactly one log record at `level` whatever the snapshots taken.
fn assert_fired(
    view: &Snapshot,
    kind: DiagnosisKind,
    node_id: &str,
    level: tracing::Level,
) -> String {
    let diagnoses = found(view, kind, node_id);
    assert_eq!(
        diagnoses.len(),
        1,
        "{kind:?} {node_id}: {:#?}",
        view.diagnoses
    );
    let diagnosis = diagnoses[0];
    assert_eq!(diagnosis.severity, kind.severity());
    let report = pipetel::Report::of(view.clone()).to_string();
    assert!(report.contains(&diagnosis.message), "{report}");
    for _ in 0..3 {
        let _ = pipetel::snapshot();
    }
    // The record says what the process-wide snapshot found (a share may differ from the
    // view's: other operators ran before).
    let process = pipetel::snapshot();
    let in_process = found(&process, kind, node_id);
    assert_eq!(in_process.len(), 1, "{:#?}", process.diagnoses);
    let sent = sent_records(kind, node_id);
    assert_eq!(sent.len(), 1, "one log record: {sent:?}");
    assert_eq!(sent[0].0, level);
    assert_eq!(sent[0].1, in_process[0].message);
    diagnosis.message.clone()
}

// ---- a stall ----

#[operator(node_type = "wait", node_id = "stalled", rows_out = |_| 0u64)]
fn wait_for(rx: pipetel::channel::Receiver<Vec<u64>>) -> u64 {
    rx.recv().map_or(0, |batch| batch[0])
}

#[test]
fn an_operator_that_makes_no_progress_while_it_runs_is_a_stall() {
    pipetel_tests::own_process!();
    let _turn = setup();
    // Nothing runs for longer than a stall takes, the watcher looking: time with no call
    // running is no stall, so the clock starts with the waiting call below.
    thread::sleep(STALL_AFTER * 2);
    let (tx, rx) = pipetel::channel::channel();
    let waiting = thread::spawn(move || wait_for(rx));
    // Until the stall shows in this loop's snapshots (the watcher's looks start its
    // clock), at most 20 s.
    let started = Instant::now();
    let stall = loop {
        let snapshot = pipetel::snapshot();
        if let Some(stall) = snapshot
            .diagnoses
            .iter()
            .find(|d| d.kind == DiagnosisKind::Stall)
        {
            break stall.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no stall: {:#?}",
            snapshot.diagnoses
        );
        thread::sleep(Duration::from_millis(20));
    };
    assert!(started.elapsed() >= STALL_AFTER);
    // The watcher sends the record at its next look, while the stall lasts.
    assert_eq!(sent_records(DiagnosisKind::Stall, "stalled").len(), 1);
    tx.send(vec![7]).unwrap();
    assert_eq!(waiting.join().unwrap(), 7);
    assert!(stall.message.contains("wait stalled"), "{}", stall.message);
    assert!(stall
        .message
        .starts_with("stall: no operator handled a row or ended a call for "));
    // Moving again: the stall is over.
    let snapshot = pipetel::snapshot();
    assert!(snapshot
        .diagnoses
        .iter()
        .all(|d| d.kind != DiagnosisKind::Stall));
}

// ---- skew: a straggler partition ----

#[operator(node_type = "scan", node_id = "straggler", partition = partition)]
fn scan_partition(partition: usize, rows: usize) -> Vec<u64> {
    busy_for(Duration::from_micros(5 * rows as u64));
    vec![0; rows]
}

#[test]
fn a_straggler_partition_is_named() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let view = view_of(|| {
        for partition in 0..8 {
            scan_partition(partition, if partition == 3 { 1_000 } else { 100 });
        }
    });
    let message = assert_fired(
        &view,
        DiagnosisKind::Skew,
        "straggler",
        tracing::Level::WARN,
    );
    assert!(
        message.starts_with("skew: partition 3 of scan straggler handled 10.0× the median rows"),
        "{message}"
    );
    assert!(message.contains("of 8 partitions"), "{message}");
}

// ---- a row explosion ----

#[operator(node_type = "explode", node_id = "exploding")]
fn explode(batch: Vec<u64>) -> Vec<u64> {
    batch.iter().flat_map(|&n| [n; 20]).collect()
}

#[test]
fn an_operator_that_multiplies_its_rows_is_a_row_explosion() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let view = view_of(|| {
        explode(vec![1, 2, 3]);
    });
    let message = assert_fired(
        &view,
        DiagnosisKind::RowExplosion,
        "exploding",
        tracing::Level::WARN,
    );
    assert_eq!(
        message,
        "row explosion: explode exploding hands out 20.00 rows per row in (60 from 3)"
    );
}

// ---- rows lost in a channel ----

#[operator(node_type = "produce", node_id = "leaking")]
fn produce(n: u64) -> Vec<u64> {
    vec![n; 10]
}

#[test]
fn rows_left_in_a_dropped_channel_are_rows_lost() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let view = view_of(|| {
        let (tx, rx) = pipetel::channel::channel();
        for n in 0..3 {
            tx.send(produce(n)).unwrap();
        }
        drop(rx);
    });
    let lost: Vec<&Diagnosis> = view
        .diagnoses
        .iter()
        .filter(|d| d.kind == DiagnosisKind::RowsLost)
        .collect();
    assert_eq!(lost.len(), 1, "{:#?}", view.diagnoses);
    assert!(lost[0].message.contains("30 rows"), "{}", lost[0].message);
}

// ---- a dominant operator ----

#[operator(node_type = "heavy", node_id = "dominant")]
fn heavy() {
    busy_for(Duration::from_millis(100));
}

#[operator(node_type = "light", node_id = "dominant")]
fn light() {}

#[test]
fn an_operator_with_most_of_the_busy_time_is_dominant() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let view = view_of(|| {
        heavy();
        light();
    });
    let message = assert_fired(
        &view,
        DiagnosisKind::DominantOperator,
        "dominant",
        tracing::Level::INFO,
    );
    assert!(
        message.starts_with("dominant operator: heavy dominant takes "),
        "{message}"
    );
    assert_eq!(
        found(&view, DiagnosisKind::DominantOperator, "dominant").len(),
        1
    );
}

// ---- failures and cancellations ----

#[operator(node_type = "parse", node_id = "failing")]
fn parse(text: &str) -> Result<u64, std::num::ParseIntError> {
    text.parse()
}

#[operator(node_type = "numbers", node_id = "cancelled")]
fn numbers() -> impl Iterator<Item = Vec<u64>> {
    (0..10).map(|n| vec![n])
}

#[test]
fn failed_and_cancelled_calls_are_said() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let view = view_of(|| {
        let _ = parse("1");
        let _ = parse("x");
        let _ = parse("2");
        let _ = numbers().take(2).count();
    });
    let failed = assert_fired(
        &view,
        DiagnosisKind::Failures,
        "failing",
        tracing::Level::WARN,
    );
    assert_eq!(failed, "failures: 1 of 3 calls of parse failing failed");
    let cancelled = assert_fired(
        &view,
        DiagnosisKind::Cancellations,
        "cancelled",
        tracing::Level::INFO,
    );
    assert_eq!(
        cancelled,
        "cancellations: 1 of 1 calls of numbers cancelled were dropped before they ended"
    );
}

// ---- series folded into `other` ----

#[operator(node_type = "folded", node_id = id)]
fn per_id(id: u64) -> u64 {
    id
}

#[test]
fn ids_past_the_cap_folded_into_other_are_said() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let view = view_of(|| {
        for id in 0..30 {
            per_id(id);
        }
    });
    let message = assert_fired(
        &view,
        DiagnosisKind::SeriesFolded,
        "other",
        tracing::Level::WARN,
    );
    assert!(
        message.starts_with("series folded: node.type \"folded\""),
        "{message}"
    );
}

// ---- a clean pipeline ----

/// What each call of the clean pipeline's operators works: 10 ms an operator over its 50
/// calls, so that the machine pausing one of them does not make it dominant (its busy
/// time would need to be four times the others' together: a pause of 70 ms).
const CLEAN_CALL: Duration = Duration::from_micros(200);

#[operator(node_type = "source", node_id = "clean")]
fn source(batch: u64) -> Vec<u64> {
    busy_for(CLEAN_CALL);
    (0..100).map(|n| batch * 100 + n).collect()
}

#[operator(node_type = "double", node_id = "clean")]
fn double(batch: Vec<u64>) -> Vec<u64> {
    busy_for(CLEAN_CALL);
    batch.into_iter().map(|n| n * 2).collect()
}

#[operator(node_type = "sum", node_id = "clean", rows_out = |_| 0u64)]
fn sum(batch: Vec<u64>) -> u64 {
    busy_for(CLEAN_CALL);
    batch.iter().sum()
}

#[test]
fn a_clean_pipeline_fires_nothing() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let view = view_of(|| {
        let (to_double, from_source) = pipetel::channel::sync_channel(4);
        let (to_sum, from_double) = pipetel::channel::sync_channel(4);
        let sources = thread::spawn(move || {
            for batch in 0..50 {
                to_double.send(source(batch)).unwrap();
            }
        });
        let doubles = thread::spawn(move || {
            for batch in from_source {
                to_sum.send(double(batch)).unwrap();
            }
        });
        let total: u64 = from_double.iter().map(sum).sum();
        sources.join().unwrap();
        doubles.join().unwrap();
        assert_eq!(total, 2 * (0..5_000u64).sum::<u64>());
    });
    assert!(view.operators.len() == 3, "{:#?}", view.operators);
    // Three operators of about the same cost: none dominates, nothing is lost, nothing
    // failed, no operator is skewed across the threads (each ran on one).
    assert!(view.diagnoses.is_empty(), "{:#?}", view.diagnoses);
}
