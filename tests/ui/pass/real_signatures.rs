//! Signatures real code has, under `#![deny(warnings)]`: inner attributes, arguments under
//! `#[cfg]`, functions returning `!`, exits written by macros, `Result` aliases, return
//! types through `macro_rules!`, a trait's default method, a step stacked above an
//! operator, boxed and aliased streams, a hand-written `poll_next`, and `node_type` given
//! per call. tests/tests/in_process/signatures.rs and engine_shapes.rs count each.
#![deny(warnings)]

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use pipetel::{operator, pipeline_step};

#[operator(node_type = "filter")]
fn inner_attributes(batch: Vec<u8>) -> Vec<u8> {
    #![allow(unused_variables)]
    let unused = 1;
    batch
}

#[operator(node_type = "scan")]
fn cfg_arguments(batch: Vec<u8>, #[cfg(any())] never: Vec<u8>) -> Vec<u8> {
    batch
}

#[operator(node_type = "sink")]
fn never_returns() -> ! {
    panic!("always")
}

#[operator(node_type = "source")]
fn runs_forever() -> ! {
    loop {
        std::thread::park();
    }
}

#[operator(node_type = "source")]
async fn listens_forever() -> ! {
    loop {
        std::future::pending::<()>().await;
    }
}

macro_rules! fail_with {
    ($message:expr) => {
        return Err($message.to_owned())
    };
}

#[operator(node_type = "parse")]
fn macro_exit(text: &str) -> Result<usize, String> {
    if text.is_empty() {
        fail_with!("empty");
    }
    Ok(text.len())
}

type EngineResult<T> = Result<T, std::num::ParseIntError>;

#[operator(node_type = "parse")]
fn alias_result(text: &str) -> EngineResult<u64> {
    Ok(text.parse::<u64>()?)
}

#[operator(node_type = "read")]
fn io_result(path: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

macro_rules! returning {
    ($name:ident, $ret:ty, $body:block) => {
        #[operator(node_type = "generated")]
        fn $name() -> $ret $body
    };
}
returning!(maybe, Option<u32>, { Some(1) });
returning!(numbers, impl Iterator<Item = u32>, { 0..3 });

trait Stage {
    #[operator(node_type = "stage")]
    fn run(&self, batch: Vec<u8>) -> Vec<u8> {
        batch
    }
}

struct Extract;
impl Stage for Extract {}

#[pipeline_step]
#[operator(node_type = "transform")]
fn stacked(text: &str) -> Result<Vec<u64>, std::num::ParseIntError> {
    Ok(vec![text.parse::<u64>()?; 3])
}

type BatchStream<'a> = Pin<Box<dyn Stream<Item = Result<Vec<u64>, String>> + Send + 'a>>;

#[operator(node_type = "filter", stream)]
fn aliased(input: BatchStream<'_>) -> Result<BatchStream<'_>, String> {
    Ok(input)
}

#[operator(node_type = "scan")]
fn boxed(n: usize) -> Box<dyn Iterator<Item = Vec<u8>> + Send> {
    Box::new((0..n).map(|i| vec![0; i]))
}

struct Ticks(u32);

impl Stream for Ticks {
    type Item = Vec<u8>;

    #[operator(node_type = "source")]
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Vec<u8>>> {
        std::task::ready!(Poll::Ready(()));
        self.0 = self.0.saturating_sub(1);
        Poll::Ready((self.0 > 0).then(|| vec![0; 4]))
    }
}

struct Node {
    kind: &'static str,
}

impl Node {
    #[operator(node_type = self.kind, node_id = 3u32)]
    fn run(&self, batch: Vec<u8>) -> Vec<u8> {
        batch
    }
}

fn main() {
    let _ = (inner_attributes(vec![]), cfg_arguments(vec![]), macro_exit(""));
    let _ = (alias_result("1"), io_result("/nonexistent"), maybe(), numbers().count());
    let _ = (Extract.run(vec![]), stacked("2"), boxed(2).count());
    let _ = aliased(Box::pin(futures::stream::empty()));
    let _ = Ticks(2);
    let _ = Node { kind: "scan" }.run(vec![]);
    drop(listens_forever());
    if std::env::args().count() > 99 {
        never_returns();
    }
    if std::env::args().count() > 100 {
        runs_forever();
    }
}
