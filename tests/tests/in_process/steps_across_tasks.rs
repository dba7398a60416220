//! Work that leaves the step's thread still belongs to the step: an operator on a spawned
//! tokio task or a worker thread while the step runs, and a stream made in a step and
//! polled elsewhere. One test per process state: each test here runs its steps alone
//! (a lock), since work on a thread with no step goes to the latest step running.

use crate::operator_named;
use std::sync::{Mutex, MutexGuard};

use futures::stream::{self, StreamExt};
use pipetel::{operator, pipeline_step, Config, Operator};
use pipetel_tests::in_memory::start;

fn setup() -> MutexGuard<'static, ()> {
    static ALONE: Mutex<()> = Mutex::new(());
    start(|| Config::new().collect_locally(true));
    ALONE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[operator(node_type = "work", node_id = name)]
fn work(name: &str, batch: Vec<u8>) -> Vec<u8> {
    batch
}

#[pipeline_step]
async fn fan_out(runtime: &tokio::runtime::Handle) -> usize {
    let tasks: Vec<_> = (0..4)
        .map(|_| runtime.spawn(async { work("spawned-task", vec![0; 3]).len() }))
        .collect();
    let mut rows = 0;
    for task in tasks {
        rows += task.await.unwrap();
    }
    rows + std::thread::spawn(|| work("worker-thread", vec![0; 2]).len())
        .join()
        .unwrap()
}

#[test]
fn operators_on_spawned_tasks_and_threads_are_filed_under_the_running_step() {
    pipetel_tests::own_process!();
    let _alone = setup();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let handle = runtime.handle().clone();
    assert_eq!(runtime.block_on(fan_out(&handle)), 14);
    for node_id in ["spawned-task", "worker-thread"] {
        let op = operator_named(node_id);
        assert_eq!(op.step.as_deref(), Some("fan_out"), "{node_id}");
    }
    // After the step, nothing runs: new work is outside any step.
    std::thread::spawn(|| work("after-the-step", vec![0; 1]))
        .join()
        .unwrap();
    assert_eq!(operator_named("after-the-step").step, None);
}

#[pipeline_step]
fn make_stream(source: Operator) -> impl futures::Stream<Item = Vec<u8>> + Send {
    source.stream(stream::iter(vec![vec![0u8; 2], vec![0; 3]]))
}

#[pipeline_step]
fn other_step() -> usize {
    1
}

#[test]
fn a_stream_keeps_the_step_it_was_made_in() {
    pipetel_tests::own_process!();
    let _alone = setup();
    let source = Operator::new("made_in_step", "stream-made-in-step");
    let stream = make_stream(source);
    // Polled on another thread, after its step ended, while another step is not running.
    let rows: usize = std::thread::spawn(move || {
        futures::executor::block_on(stream.map(|batch| batch.len()).collect::<Vec<_>>())
            .into_iter()
            .sum()
    })
    .join()
    .unwrap();
    assert_eq!(rows, 5);
    other_step();
    let op = operator_named("stream-made-in-step");
    assert_eq!((op.rows.produced, op.calls.completed), (5, 1));
    assert_eq!(op.step.as_deref(), Some("make_stream"));
}
