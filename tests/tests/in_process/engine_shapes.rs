//! The shapes real engines return and write: boxed iterators and streams (`Box<dyn
//! Iterator>`, `Pin<Box<dyn Stream>>`, the same inside `Result`, an engine's alias with
//! the `stream` / `iterator` key), a hand-written `poll_next` using `ready!`, `node_type`
//! given per call (also through `macro_rules!`), and operators known only at run time
//! through [`pipetel::Operator`] — each counted exactly.

use crate::operator_labelled;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::executor::block_on;
use futures::stream::{self, Stream, StreamExt};
use pipetel::engine::Counted;
use pipetel::snapshot::OperatorSnapshot;
use pipetel::{operator, Config, Operator};
use pipetel_tests::in_memory::start;

fn setup() {
    start(|| Config::new().collect_locally(true));
}

/// (rows out, completed, failed, cancelled, active).
fn tallies(op: &OperatorSnapshot) -> (u64, u64, u64, u64, i64) {
    (
        op.rows.produced,
        op.calls.completed,
        op.calls.failed,
        op.calls.cancelled,
        op.calls.active,
    )
}

// ---- boxed iterators and streams ----

#[operator(node_type = "scan", name = "boxed-iterator")]
fn boxed_iterator(batches: usize) -> Box<dyn Iterator<Item = Vec<u8>> + Send + 'static> {
    Box::new((0..batches).map(|n| vec![0; n + 1]))
}

#[test]
fn a_boxed_iterator_counts_per_item_and_stays_boxed() {
    pipetel_tests::own_process!();
    setup();
    let iterator: Box<dyn Iterator<Item = Vec<u8>> + Send> = boxed_iterator(4);
    let op = operator_labelled("scan", "boxed-iterator");
    assert_eq!(tallies(&op), (0, 0, 0, 0, 1), "running until exhausted");
    assert_eq!(iterator.count(), 4);
    // 1 + 2 + 3 + 4 rows.
    assert_eq!(
        tallies(&operator_labelled("scan", "boxed-iterator")),
        (10, 1, 0, 0, 0)
    );
}

#[operator(node_type = "scan", name = "pinned-stream")]
fn pinned_stream<'a>(data: &'a [Vec<u8>]) -> Pin<Box<dyn Stream<Item = Vec<u8>> + Send + 'a>> {
    Box::pin(stream::iter(data.iter().cloned()))
}

#[test]
fn a_pinned_boxed_stream_counts_per_item_and_cancels_on_drop() {
    pipetel_tests::own_process!();
    setup();
    let data = vec![vec![1u8; 3], vec![2; 5], vec![3; 7]];
    let all: Vec<Vec<u8>> = block_on(pinned_stream(&data).collect());
    assert_eq!(all.len(), 3);
    let mut partial = pinned_stream(&data);
    assert_eq!(block_on(partial.next()).map(|b| b.len()), Some(3));
    drop(partial);
    // Two calls: one ran to the end (15 rows), one was dropped after 3 rows.
    assert_eq!(
        tallies(&operator_labelled("scan", "pinned-stream")),
        (18, 1, 0, 1, 0)
    );
}

#[operator(node_type = "parse", name = "result-of-iterator")]
fn parse_all(text: &str) -> Result<impl Iterator<Item = u32> + '_, String> {
    if text.is_empty() {
        return Err("no input".to_owned());
    }
    Ok(text
        .split(',')
        .map(|n| n.trim().parse::<u32>().unwrap_or(0)))
}

#[test]
fn a_result_of_an_iterator_counts_items_and_an_err_fails_the_call() {
    pipetel_tests::own_process!();
    setup();
    let parsed: Vec<u32> = parse_all("1, 2, 3").unwrap().collect();
    assert_eq!(parsed, [1, 2, 3]);
    assert!(parse_all("").is_err());
    // u32 items have no rows: the Ok call completed, the Err call failed.
    assert_eq!(
        tallies(&operator_labelled("parse", "result-of-iterator")),
        (0, 1, 1, 0, 0)
    );
}

/// An engine's own alias, as DataFusion's `SendableRecordBatchStream`.
type BatchStream<'a> = Pin<Box<dyn Stream<Item = Result<Vec<u64>, String>> + Send + 'a>>;

#[operator(node_type = "filter", name = "aliased-stream", stream)]
fn filter_batches(input: BatchStream<'_>) -> Result<BatchStream<'_>, String> {
    Ok(Box::pin(input.map(|batch| {
        batch.map(|rows| rows.into_iter().filter(|n| n % 2 == 0).collect())
    })))
}

#[test]
fn an_aliased_stream_in_a_result_counts_per_item_with_the_stream_key() {
    pipetel_tests::own_process!();
    setup();
    let input: BatchStream<'_> = Box::pin(stream::iter(vec![
        Ok(vec![1, 2, 3, 4]),
        Ok(vec![6, 7]),
        Err("bad batch".to_owned()),
    ]));
    let out: Vec<_> = block_on(filter_batches(input).unwrap().collect());
    assert_eq!(out.len(), 3);
    // 2 + 1 rows; the Err item fails the call at its end.
    assert_eq!(
        tallies(&operator_labelled("filter", "aliased-stream")),
        (3, 0, 1, 0, 0)
    );
}

// ---- a hand-written poll_next ----

struct Countdown {
    left: u32,
    pending_next: bool,
}

impl Stream for Countdown {
    type Item = Result<Vec<u8>, String>;

    #[operator(node_type = "source", name = "hand-written-poll-next")]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        std::task::ready!(self.as_mut().wait(cx));
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        if self.left == 1 {
            return Poll::Ready(Some(Err("the second-last batch is bad".to_owned())));
        }
        Poll::Ready(Some(Ok(vec![0; 10])))
    }
}

impl Countdown {
    /// Pending every other poll, as a source waiting on I/O.
    fn wait(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.pending_next = !this.pending_next;
        if this.pending_next {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

#[test]
fn a_pending_poll_is_neither_a_finished_call_nor_a_failure() {
    pipetel_tests::own_process!();
    setup();
    let stream = Countdown {
        left: 4,
        pending_next: false,
    };
    let items: Vec<_> = block_on(stream.collect());
    assert_eq!(items.len(), 4);
    // 5 ready polls (3 Ok batches of 10 rows, 1 Err, the end), 5 pending ones not counted.
    assert_eq!(
        tallies(&operator_labelled("source", "hand-written-poll-next")),
        (30, 4, 1, 0, 0)
    );
}

// ---- node_type given per call ----

struct PlanNode {
    kind: String,
    id: u32,
}

impl PlanNode {
    #[operator(node_type = self.kind, node_id = self.id)]
    fn run(&self, batch: Vec<u8>) -> Vec<u8> {
        batch
    }
}

macro_rules! literal_operator {
    ($name:ident, $kind:literal) => {
        #[operator(node_type = $kind, name = "macro-literal")]
        fn $name(batch: Vec<u8>) -> Vec<u8> {
            batch
        }
    };
}
literal_operator!(through_literal, "macro_scan");

macro_rules! expr_operator {
    ($name:ident, $kind:expr) => {
        #[operator(node_type = $kind, name = "macro-expr")]
        fn $name(batch: Vec<u8>) -> Vec<u8> {
            batch
        }
    };
}
expr_operator!(through_literal_expr, "macro_filter");
expr_operator!(through_computed_expr, format!("macro_{}", "join"));

#[test]
fn node_type_can_be_a_value_and_a_macro_argument() {
    pipetel_tests::own_process!();
    setup();
    for (kind, id) in [("plan_scan", 1), ("plan_filter", 2), ("plan_scan", 3)] {
        let node = PlanNode {
            kind: kind.to_owned(),
            id,
        };
        for _ in 0..2 {
            node.run(vec![0; 5]);
        }
    }
    for (kind, id) in [("plan_scan", "1"), ("plan_filter", "2"), ("plan_scan", "3")] {
        assert_eq!(tallies(&operator_labelled(kind, id)), (10, 2, 0, 0, 0));
    }
    through_literal(vec![0; 1]);
    through_literal_expr(vec![0; 2]);
    through_computed_expr(vec![0; 3]);
    assert_eq!(
        operator_labelled("macro_scan", "macro-literal")
            .rows
            .produced,
        1
    );
    assert_eq!(
        operator_labelled("macro_filter", "macro-expr")
            .rows
            .produced,
        2
    );
    assert_eq!(
        operator_labelled("macro_join", "macro-expr").rows.produced,
        3
    );
}

// ---- operators known only at run time ----

#[test]
fn a_run_time_operator_counts_calls_iterators_streams_and_rows_in() {
    pipetel_tests::own_process!();
    setup();
    let source = Operator::new("runtime_source", "api-source");
    let sink = Operator::new("runtime_sink", &7u32);
    assert_eq!(source, Operator::new("runtime_source", "api-source"));

    let batches = source.iter((0..3u64).map(|n| vec![n; 4]));
    let received: Vec<Vec<u64>> = sink.call(|| {
        batches
            .inspect(|batch| sink.add_rows_in(batch.len() as u64))
            .collect()
    });
    assert_eq!(received.len(), 3);
    let failing: Result<Vec<u8>, String> = sink.try_call(|| Err("disk full".to_owned()));
    assert!(failing.is_err());

    let items = source.try_iter(vec![Ok(vec![1u8; 2]), Err("bad"), Ok(vec![2; 3])]);
    assert_eq!(items.count(), 3);
    let counted = source.iter_counted(["a,b", "c"], |line| {
        Counted::rows(line.split(',').count()).with_bytes(line.len())
    });
    assert_eq!(counted.count(), 2);
    let streamed: Vec<Vec<u8>> =
        block_on(source.stream(stream::iter(vec![vec![0u8; 6]])).collect());
    assert_eq!(streamed.len(), 1);
    source.in_scope(|| pipetel::current_operator().add_bytes_read(100));

    let source = operator_labelled("runtime_source", "api-source");
    // iter 12 rows + try_iter 5 + iter_counted 3 + stream 6; one call failed (the Err item).
    assert_eq!(tallies(&source), (26, 3, 1, 0, 0));
    assert_eq!(source.bytes.read, 100);
    assert_eq!(source.bytes.written, 4);
    let sink = operator_labelled("runtime_sink", "7");
    assert_eq!(
        (sink.rows.received, sink.calls.completed, sink.calls.failed),
        (12, 1, 1)
    );
}

#[test]
fn many_node_ids_through_one_site_each_keep_their_series() {
    pipetel_tests::own_process!();
    setup();
    #[operator(node_type = "rotating", node_id = id)]
    fn rotating(id: u32, batch: Vec<u8>) -> Vec<u8> {
        batch
    }
    for round in 0..3 {
        for id in 0..40u32 {
            rotating(id, vec![0; round + 1]);
        }
    }
    for id in 0..40 {
        assert_eq!(
            tallies(&operator_labelled("rotating", &id.to_string())),
            (6, 3, 0, 0, 0)
        );
    }
}
