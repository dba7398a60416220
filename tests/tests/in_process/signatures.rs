//! Signatures real code has, each counted right: inner attributes, arguments under
//! `#[cfg]`, functions returning `!`, exits written by macros, `Result` aliases, return
//! types passed through `macro_rules!`, a trait's default method, and a step stacked
//! above an operator.

use crate::operator_named;
use std::panic::catch_unwind;

use pipetel::{operator, pipeline_step, Config};
use pipetel_tests::in_memory::start;

fn setup() {
    start(|| Config::new().collect_locally(true));
}

/// (rows in, rows out, completed, failed).
fn tallies(node_id: &str) -> (u64, u64, u64, u64) {
    let op = operator_named(node_id);
    (
        op.rows.received,
        op.rows.produced,
        op.calls.completed,
        op.calls.failed,
    )
}

#[operator(node_type = "filter", name = "inner-attributes")]
fn inner_attributes(batch: Vec<u8>) -> Vec<u8> {
    #![allow(unused_variables)]
    let unused = 1;
    batch
}

#[test]
fn inner_attributes_stay_in_the_body() {
    pipetel_tests::own_process!();
    setup();
    inner_attributes(vec![0; 3]);
    assert_eq!(tallies("inner-attributes"), (3, 3, 1, 0));
}

#[operator(node_type = "scan", name = "cfg-arguments")]
fn cfg_arguments(
    batch: Vec<u8>,
    #[cfg(any())] never_compiled: Vec<u8>,
    #[cfg(not(any()))] always: Vec<u8>,
) -> Vec<u8> {
    let _ = always;
    batch
}

#[test]
fn arguments_under_cfg_compile_and_are_not_counted() {
    pipetel_tests::own_process!();
    setup();
    cfg_arguments(vec![0; 2], vec![0; 5]);
    // Only `batch` counts: an argument under #[cfg] may not exist in another build.
    assert_eq!(tallies("cfg-arguments"), (2, 2, 1, 0));
}

#[operator(node_type = "sink", name = "never-returns")]
fn never_returns(reason: &str) -> ! {
    panic!("{reason}")
}

#[allow(dead_code)]
#[operator(node_type = "source", name = "runs-forever")]
fn runs_forever() -> ! {
    loop {
        std::thread::park();
    }
}

#[test]
fn a_function_returning_never_counts_its_panic_as_failed() {
    pipetel_tests::own_process!();
    setup();
    assert!(catch_unwind(|| never_returns("always")).is_err());
    assert_eq!(tallies("never-returns"), (0, 0, 0, 1));
}

macro_rules! fail_with {
    ($message:expr) => {
        return Err($message.to_owned())
    };
}

#[operator(node_type = "parse", name = "macro-exits")]
fn macro_exits(text: &str) -> Result<Vec<u32>, String> {
    if text.is_empty() {
        fail_with!("empty input"); // as anyhow::bail!
    }
    text.split(',')
        .map(|n| n.trim().parse::<u32>().map_err(|e| e.to_string()))
        .collect()
}

#[test]
fn a_return_written_by_a_macro_counts_as_the_error_it_returns() {
    pipetel_tests::own_process!();
    setup();
    assert_eq!(macro_exits("1, 2"), Ok(vec![1, 2]));
    assert!(macro_exits("").is_err());
    assert_eq!(tallies("macro-exits"), (0, 2, 1, 1));
}

#[derive(Debug)]
struct EngineError(String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EngineError {}

impl From<std::num::ParseIntError> for EngineError {
    fn from(error: std::num::ParseIntError) -> Self {
        EngineError(error.to_string())
    }
}

/// An engine's own alias, as Daft's `DaftResult<T>`.
type EngineResult<T> = Result<T, EngineError>;

#[operator(node_type = "parse", name = "alias-result")]
fn parse_alias(text: &str) -> EngineResult<Vec<u64>> {
    Ok(vec![text.parse::<u64>()?])
}

#[operator(node_type = "read", name = "io-result")]
fn read_io(fail: bool) -> std::io::Result<Vec<u8>> {
    if fail {
        Err(std::io::Error::other("disk"))?;
    }
    Ok(vec![0; 4])
}

#[test]
fn a_failing_question_mark_in_a_result_alias_fails_the_call() {
    pipetel_tests::own_process!();
    setup();
    assert!(parse_alias("7").is_ok());
    assert!(parse_alias("x").is_err());
    assert_eq!(tallies("alias-result"), (0, 1, 1, 1));
    assert!(read_io(false).is_ok());
    assert!(read_io(true).is_err());
    assert_eq!(tallies("io-result"), (0, 4, 1, 1));
}

macro_rules! operator_returning {
    ($name:ident, $id:literal, $batch:ident, $ret:ty, $body:block) => {
        #[operator(node_type = "generated", name = $id)]
        fn $name($batch: Vec<u32>) -> $ret $body
    };
}

operator_returning!(first_even, "ty-option", batch, Option<u32>, {
    let first = batch.first()?;
    (first % 2 == 0).then_some(*first)
});
operator_returning!(
    each_batch,
    "ty-iterator",
    batch,
    impl Iterator<Item = Vec<u32>>,
    { batch.into_iter().map(|n| vec![n; 2]) }
);

#[test]
fn return_types_through_macro_rules_keep_their_meaning() {
    pipetel_tests::own_process!();
    setup();
    assert_eq!(first_even(vec![]), None); // `?` on None: not a failure
    assert_eq!(first_even(vec![4]), Some(4));
    assert_eq!(tallies("ty-option"), (1, 0, 2, 0)); // u32 has no rows
    assert_eq!(each_batch(vec![1, 2, 3]).count(), 3); // per item: 3 × 2 rows
    assert_eq!(tallies("ty-iterator"), (3, 6, 1, 0));
}

trait Stage {
    #[operator(node_type = "stage")]
    fn run(&self, batch: Vec<u8>) -> Vec<u8> {
        batch
    }
}

struct Extract;
struct Load;
impl Stage for Extract {}
impl Stage for Load {}

#[test]
fn a_default_method_is_named_after_each_implementing_type() {
    pipetel_tests::own_process!();
    setup();
    Extract.run(vec![0; 1]);
    Load.run(vec![0; 2]);
    Load.run(vec![0; 2]);
    let node_id = |ty: &str| format!("in_process::signatures::{ty}::run");
    assert_eq!(tallies(&node_id("Extract")), (1, 1, 1, 0));
    assert_eq!(tallies(&node_id("Load")), (4, 4, 2, 0));
}

#[pipeline_step]
#[operator(node_type = "transform", name = "stacked")]
fn stacked(text: &str) -> Result<Vec<u64>, std::num::ParseIntError> {
    let n = text.parse::<u64>()?;
    Ok(vec![n; 3])
}

/// The same with the `?` inside a macro's arguments, where the attributes cannot see it.
#[pipeline_step]
#[operator(node_type = "transform", name = "stacked-in-macro")]
fn stacked_in_macro(text: &str) -> Result<Vec<u64>, std::num::ParseIntError> {
    Ok(vec![text.parse::<u64>()?; 3])
}

#[test]
fn a_step_above_an_operator_records_the_error_both_ways() {
    pipetel_tests::own_process!();
    setup();
    assert!(stacked("5").is_ok());
    assert!(stacked("five").is_err());
    assert_eq!(tallies("stacked"), (0, 3, 1, 1));
    let snapshot = pipetel::snapshot();
    let step = snapshot
        .steps
        .iter()
        .find(|step| step.step == "stacked")
        .expect("the step");
    assert_eq!((step.calls, step.failed), (2, 1));

    assert!(stacked_in_macro("5").is_ok());
    assert!(stacked_in_macro("five").is_err());
    assert_eq!(tallies("stacked-in-macro"), (0, 3, 1, 1));
    let snapshot = pipetel::snapshot();
    let step = snapshot
        .steps
        .iter()
        .find(|step| step.step == "stacked_in_macro")
        .expect("the step");
    assert_eq!((step.calls, step.failed), (2, 1));
}
