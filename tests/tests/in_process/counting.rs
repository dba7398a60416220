//! What `#[operator]` counts, read back in-process through the SDK's in-memory exporter.
//! Each test uses node types of its own, so the tests can share one telemetry.

use std::num::ParseIntError;
use std::time::Duration;

use std::sync::Barrier;

use pipetel::{current_operator, operator, pipeline_step, Config, Rows};
use pipetel_tests::in_memory::{start, total, totals};

fn setup() {
    start(Config::new);
}

struct Batch(Vec<u32>);

impl Rows for Batch {
    fn rows(&self) -> u64 {
        self.0.len() as u64
    }
}

#[operator(node_type = "rows_of_types")]
fn rows_of_types(
    owned: Batch,
    slice: &[u8],
    array: [u8; 3],
    option: Option<Vec<u8>>,
    number: u64,
) -> Option<Batch> {
    let _ = (slice, array, option, number);
    Some(owned)
}

#[test]
fn rows_are_counted_from_every_argument_and_the_return_value() {
    pipetel_tests::own_process!();
    setup();
    rows_of_types(Batch(vec![1, 2]), &[1; 5], [0; 3], Some(vec![1; 7]), 1000);
    let totals = totals("rows_of_types");
    let id = "in_process::counting::rows_of_types";
    assert_eq!(total(&totals, "rows.in", id), 2 + 5 + 3 + 7);
    assert_eq!(total(&totals, "rows.out", id), 2);
    assert_eq!(total(&totals, "task.completed", id), 1);
}

#[operator(node_type = "overrides", rows_in = batch.len() * 10, rows_out = |out: &Vec<u32>| out.len() + 100, bytes_read = 4096u32, bytes_written = |_| 12)]
fn overridden(batch: Vec<u32>) -> Vec<u32> {
    batch
}

#[test]
fn attribute_counts_replace_the_automatic_ones() {
    pipetel_tests::own_process!();
    setup();
    overridden(vec![1, 2, 3]);
    let totals = totals("overrides");
    let id = "in_process::counting::overridden";
    assert_eq!(total(&totals, "rows.in", id), 30);
    assert_eq!(total(&totals, "rows.out", id), 103);
    assert_eq!(total(&totals, "bytes.read", id), 4096);
    assert_eq!(total(&totals, "bytes.written", id), 12);
}

#[operator(node_type = "exits")]
fn result_question_mark(text: &str) -> Result<u32, ParseIntError> {
    let value = text.parse::<u32>()?;
    Ok(value)
}

#[operator(node_type = "exits")]
fn option_question_mark(batch: &[u32]) -> Option<Vec<u32>> {
    let first = batch.first()?;
    Some(vec![*first])
}

#[operator(node_type = "exits")]
fn early_err(fail: bool) -> Result<Vec<u8>, String> {
    if fail {
        return Err("asked to".into());
    }
    Ok(vec![1, 2])
}

#[operator(node_type = "exits")]
fn panics(x: u32) -> u32 {
    assert!(x < 2, "too big");
    x
}

#[test]
fn errs_question_marks_and_panics_count_as_failed_none_does_not() {
    pipetel_tests::own_process!();
    setup();
    assert!(result_question_mark("x").is_err());
    assert_eq!(result_question_mark("5"), Ok(5));
    assert_eq!(option_question_mark(&[]), None);
    assert_eq!(option_question_mark(&[4, 5]), Some(vec![4]));
    assert!(early_err(true).is_err());
    assert_eq!(early_err(false), Ok(vec![1, 2]));
    let caught = std::panic::catch_unwind(|| panics(7));
    assert!(caught.is_err(), "the panic propagates");
    assert_eq!(panics(1), 1);

    let totals = totals("exits");
    let check = |name: &str, completed: i64, failed: i64, rows_out: i64| {
        let id = format!("in_process::counting::{name}");
        assert_eq!(
            total(&totals, "task.completed", &id),
            completed,
            "{name} completed"
        );
        assert_eq!(total(&totals, "task.failed", &id), failed, "{name} failed");
        assert_eq!(total(&totals, "task.active", &id), 0, "{name} active");
        assert_eq!(total(&totals, "rows.out", &id), rows_out, "{name} rows.out");
    };
    check("result_question_mark", 1, 1, 0);
    check("option_question_mark", 2, 0, 1);
    check("early_err", 1, 1, 2);
    check("panics", 1, 1, 0);
}

struct Join {
    id: u32,
}

impl Join {
    #[operator(node_type = "join")]
    fn probe(&self, batch: Vec<u32>) -> Vec<u32> {
        batch
    }

    #[operator(node_type = "join_instance", node_id = self.id)]
    fn instance(&self, batch: Vec<u32>) -> Vec<u32> {
        batch
    }
}

#[test]
fn methods_default_to_the_type_path_and_node_ids_separate_instances() {
    pipetel_tests::own_process!();
    setup();
    let joins = [
        Join { id: 1 },
        Join { id: 2 },
        Join { id: 3 },
        Join { id: 4 },
        Join { id: 5 },
    ];
    for round in 0..3u32 {
        for join in &joins {
            join.probe(vec![round]);
            join.instance(vec![round; join.id as usize]);
        }
    }
    let probe = totals("join");
    assert_eq!(
        total(
            &probe,
            "task.completed",
            "in_process::counting::Join::probe"
        ),
        15
    );
    let instances = totals("join_instance");
    for join in &joins {
        let id = join.id.to_string();
        assert_eq!(total(&instances, "task.completed", &id), 3);
        assert_eq!(total(&instances, "rows.in", &id), 3 * i64::from(join.id));
    }
}

#[operator(node_type = "nested")]
fn outer(batch: Vec<u32>) -> Vec<u32> {
    current_operator().add_bytes_read(1);
    let inner_result = inner(batch);
    current_operator().add_bytes_read(10);
    inner_result
}

#[operator(node_type = "nested")]
fn inner(batch: Vec<u32>) -> Vec<u32> {
    current_operator().add_bytes_read(100);
    batch
}

#[test]
fn the_current_operator_is_the_innermost_and_is_restored_after_a_call() {
    pipetel_tests::own_process!();
    setup();
    outer(vec![1, 2]);
    let totals = totals("nested");
    assert_eq!(
        total(&totals, "bytes.read", "in_process::counting::outer"),
        11
    );
    assert_eq!(
        total(&totals, "bytes.read", "in_process::counting::inner"),
        100
    );
    assert!(!current_operator().is_recording(), "no operator runs here");
}

#[operator(node_type = "threads")]
fn shared(batch: &[u8; 4]) -> [u8; 4] {
    *batch
}

#[test]
fn eight_threads_on_one_operator_give_exact_totals() {
    pipetel_tests::own_process!();
    setup();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..25_000 {
                    std::hint::black_box(shared(std::hint::black_box(&[0; 4])));
                }
            });
        }
    });
    // Threads that exited keep their counts; new threads adopt their shards.
    std::thread::spawn(|| shared(&[0; 4]))
        .join()
        .expect("thread");
    let totals = totals("threads");
    let id = "in_process::counting::shared";
    assert_eq!(total(&totals, "task.completed", id), 200_001);
    assert_eq!(total(&totals, "rows.in", id), 800_004);
    assert_eq!(total(&totals, "rows.out", id), 800_004);
    assert_eq!(total(&totals, "task.active", id), 0);
}

#[operator(node_type = "busy")]
fn busy(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

#[test]
fn duration_is_the_wall_time_inside_the_calls() {
    pipetel_tests::own_process!();
    setup();
    let started = std::time::Instant::now();
    busy(20);
    busy(30);
    let elapsed = started.elapsed().as_micros() as i64;
    let totals = totals("busy");
    let duration = total(&totals, "duration", "in_process::counting::busy");
    assert!(duration >= 49_500, "slept 50 ms: {duration} µs");
    // Two clocks (the TSC inside, `Instant` around) agree to well within 1 %.
    assert!(
        duration <= elapsed + elapsed / 100,
        "{duration} µs inside, {elapsed} µs around"
    );
}

#[operator(node_type = "active")]
fn report_active() -> i64 {
    let totals = totals("active");
    total(
        &totals,
        "task.active",
        "in_process::counting::report_active",
    )
}

#[test]
fn a_running_call_is_active() {
    pipetel_tests::own_process!();
    setup();
    assert_eq!(report_active(), 1);
    assert_eq!(
        total(
            &totals("active"),
            "task.active",
            "in_process::counting::report_active"
        ),
        0
    );
}

static SPILLED: pipetel::engine::OperatorCounter =
    pipetel::engine::OperatorCounter::new("test.spill.bytes", "By", "Bytes spilled to disk");

struct Aggregate {
    id: u32,
}

impl Aggregate {
    #[operator(node_type = "custom_counter", node_id = self.id)]
    fn spill(&self, bytes: u64) {
        SPILLED.add(bytes);
        nested_spill();
    }
}

#[operator(node_type = "custom_counter_inner")]
fn nested_spill() {
    SPILLED.add(1);
}

#[test]
fn an_operator_counter_carries_the_running_operators_labels() {
    pipetel_tests::own_process!();
    setup();
    SPILLED.add(1_000_000); // outside any operator: counts nothing
    let (a, b) = (Aggregate { id: 1 }, Aggregate { id: 2 });
    a.spill(100);
    b.spill(7);
    a.spill(20);
    std::thread::spawn(move || b.spill(3))
        .join()
        .expect("thread");
    let totals = totals("custom_counter");
    assert_eq!(total(&totals, "test.spill.bytes", "1"), 120);
    assert_eq!(total(&totals, "test.spill.bytes", "2"), 10);
    let inner = totals_inner();
    assert_eq!(
        total(
            &inner,
            "test.spill.bytes",
            "in_process::counting::nested_spill"
        ),
        4
    );
}

fn totals_inner() -> std::collections::BTreeMap<(String, String), i64> {
    totals("custom_counter_inner")
}

#[operator(node_type = "in_one_step")]
fn filed(batch: Vec<u8>) -> Vec<u8> {
    batch
}

#[pipeline_step]
fn fan_in(both_inside: &Barrier) -> usize {
    both_inside.wait();
    filed(vec![1, 2, 3]).len()
}

#[test]
fn an_operator_running_in_one_step_on_two_threads_is_filed_under_that_step() {
    pipetel_tests::own_process!();
    setup();
    let both_inside = Barrier::new(2);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                fan_in(&both_inside);
                // Both threads stay alive, each with its own record of the step.
                both_inside.wait();
            });
        }
    });
    let snapshot = pipetel::snapshot();
    let operator = snapshot
        .operators
        .iter()
        .find(|op| op.node_type == "in_one_step")
        .expect("the operator");
    assert_eq!(operator.calls.completed, 2);
    assert_eq!(operator.step.as_deref(), Some("fan_in"), "{operator:?}");
    assert_eq!(operator.pipeline, None, "the step ran outside any run");
}
