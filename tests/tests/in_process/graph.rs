//! The operator graph from the annotations alone: a Volcano-style iterator pipeline
//! (edges by nesting), a push pipeline of threads joined by pipetel channels (std,
//! crossbeam and Tokio), function operators calling each other, and stated links — each
//! equal to the known plan, every edge found, none spurious, rows exact; and pipelines
//! that lose rows between two operators, flagged by the conservation check.

use std::collections::BTreeSet;
use std::thread;

use pipetel::snapshot::{EdgeSnapshot, EdgeVia, Imbalance, Snapshot};
use pipetel::{operator, Config, Operator};
use pipetel_tests::in_memory::start;
use pipetel_tests::laid_out;

fn setup() {
    start(|| Config::new().collect_locally(true));
}

/// The edges among operators whose `node.id` is `id`, as (from type, to type, via, rows,
/// batches), sorted.
fn edges_of(snapshot: &Snapshot, id: &str) -> Vec<(String, String, EdgeVia, u64, u64)> {
    let mut edges: Vec<_> = snapshot
        .edges
        .iter()
        .filter(|edge| edge.from.node_id == id || edge.to.node_id == id)
        .map(|edge: &EdgeSnapshot| {
            (
                edge.from.node_type.clone(),
                edge.to.node_type.clone(),
                edge.via,
                edge.rows,
                edge.batches,
            )
        })
        .collect();
    edges.sort();
    edges
}

/// The imbalances involving operators whose `node.id` is `id` (the tests of this binary
/// share the process).
fn imbalances_of<'a>(snapshot: &'a Snapshot, id: &str) -> Vec<&'a Imbalance> {
    snapshot
        .imbalances
        .iter()
        .filter(|imbalance| {
            imbalance
                .from
                .iter()
                .chain(&imbalance.to)
                .any(|node| node.node_id == id)
        })
        .collect()
}

fn edge(
    from: &str,
    to: &str,
    via: EdgeVia,
    rows: u64,
    batches: u64,
) -> (String, String, EdgeVia, u64, u64) {
    (from.to_owned(), to.to_owned(), via, rows, batches)
}

// ---- pull: a Volcano-style iterator pipeline ----

#[operator(node_type = "scan", node_id = "volcano")]
fn volcano_scan(batches: u64) -> impl Iterator<Item = Vec<u64>> {
    (0..batches).map(|batch| (0..100).map(|n| batch * 100 + n).collect())
}

#[operator(node_type = "filter", node_id = "volcano")]
fn volcano_filter(input: impl Iterator<Item = Vec<u64>>) -> impl Iterator<Item = Vec<u64>> {
    input.map(|batch| batch.into_iter().filter(|n| n % 4 == 0).collect())
}

#[operator(node_type = "explode", node_id = "volcano")]
fn volcano_explode(input: impl Iterator<Item = Vec<u64>>) -> impl Iterator<Item = Vec<u64>> {
    input.map(|batch| batch.into_iter().flat_map(|n| [n, n]).collect())
}

#[operator(node_type = "sink", node_id = "volcano", rows_out = |_| 0u64)]
fn volcano_sink(input: impl Iterator<Item = Vec<u64>>) -> u64 {
    input.map(|batch| batch.len() as u64).sum()
}

#[test]
fn a_volcano_pipeline_is_the_chain_of_its_iterators() {
    pipetel_tests::own_process!();
    setup();
    let rows = volcano_sink(volcano_explode(volcano_filter(volcano_scan(10))));
    assert_eq!(rows, 500);
    let snapshot = pipetel::snapshot();
    assert_eq!(
        edges_of(&snapshot, "volcano"),
        [
            edge("explode", "sink", EdgeVia::Call, 500, 10),
            edge("filter", "explode", EdgeVia::Call, 250, 10),
            edge("scan", "filter", EdgeVia::Call, 1000, 10),
        ]
    );
    assert!(imbalances_of(&snapshot, "volcano").is_empty());
}

// ---- a function operator calling others: a DAG, one producer feeding two consumers ----

#[operator(node_type = "lookup", node_id = "dag")]
fn dag_lookup(keys: &[u64]) -> Vec<u64> {
    keys.iter().map(|k| k * 10).collect()
}

#[operator(node_type = "enrich", node_id = "dag")]
fn dag_enrich(keys: &[u64]) -> Vec<u64> {
    dag_lookup(keys)
}

#[operator(node_type = "audit", node_id = "dag")]
fn dag_audit(keys: &[u64]) -> Vec<u64> {
    dag_lookup(&keys[..1])
}

#[test]
fn one_producer_feeding_two_consumers_is_two_edges_of_one_node() {
    pipetel_tests::own_process!();
    setup();
    for _ in 0..3 {
        dag_enrich(&[1, 2, 3, 4]);
        dag_audit(&[1, 2, 3, 4]);
    }
    let snapshot = pipetel::snapshot();
    assert_eq!(
        edges_of(&snapshot, "dag"),
        [
            edge("lookup", "audit", EdgeVia::Call, 3, 3),
            edge("lookup", "enrich", EdgeVia::Call, 12, 3),
        ]
    );
    // The consumers count their own rows in (4 keys a call) and their input carried
    // fewer: they called the lookup with what they chose. The check says so, for both.
    let flagged: BTreeSet<&str> = snapshot
        .imbalances
        .iter()
        .flat_map(|imbalance| &imbalance.to)
        .filter(|node| node.node_id == "dag")
        .map(|node| node.node_type.as_str())
        .collect();
    assert_eq!(
        flagged,
        BTreeSet::from(["audit"]),
        "{:#?}",
        snapshot.imbalances
    );
}

// ---- push: threads joined by pipetel channels ----

#[operator(node_type = "scan", node_id = "push")]
fn push_scan(batch: u64) -> Vec<u64> {
    (0..50).map(|n| batch * 50 + n).collect()
}

#[operator(node_type = "filter", node_id = "push")]
fn push_filter(batch: Vec<u64>) -> Vec<u64> {
    batch.into_iter().filter(|n| n % 2 == 0).collect()
}

#[operator(node_type = "sink", node_id = "push", rows_out = |_| 0u64)]
fn push_sink(batch: Vec<u64>) -> u64 {
    batch.iter().sum()
}

#[test]
fn a_push_pipeline_of_threads_is_the_chain_of_its_channels() {
    pipetel_tests::own_process!();
    setup();
    let (to_filter, from_scan) = pipetel::channel::sync_channel(2);
    let (to_sink, from_filter) = pipetel::channel::crossbeam::bounded(2);
    let scans: Vec<_> = (0..2)
        .map(|worker| {
            let to_filter = to_filter.clone();
            thread::spawn(move || {
                for batch in (0..10).filter(|b| b % 2 == worker) {
                    to_filter.send(push_scan(batch)).unwrap();
                }
            })
        })
        .collect();
    drop(to_filter);
    let filter = thread::spawn(move || {
        for batch in from_scan {
            to_sink.send(push_filter(batch)).unwrap();
        }
    });
    let total: u64 = from_filter.iter().map(push_sink).sum();
    for scan in scans {
        scan.join().unwrap();
    }
    filter.join().unwrap();
    assert_eq!(total, (0..500u64).filter(|n| n % 2 == 0).sum::<u64>());

    let snapshot = pipetel::snapshot();
    assert_eq!(
        edges_of(&snapshot, "push"),
        [
            edge("filter", "sink", EdgeVia::Channel, 250, 10),
            edge("scan", "filter", EdgeVia::Channel, 500, 10),
        ]
    );
    let channels: Vec<_> = snapshot
        .channels
        .iter()
        .filter(|channel| channel.senders.iter().any(|node| node.node_id == "push"))
        .map(|c| (c.rows_sent, c.rows_received, c.rows_in_flight, c.rows_lost))
        .collect();
    assert_eq!(channels, [(500, 500, 0, 0), (250, 250, 0, 0)]);
    assert!(imbalances_of(&snapshot, "push").is_empty());
}

#[operator(node_type = "source", node_id = "tokio")]
async fn tokio_source(tx: pipetel::channel::tokio::Sender<Vec<u8>>) {
    for n in 1..=4 {
        tx.send(vec![0; n]).await.unwrap();
    }
}

#[operator(node_type = "sink", node_id = "tokio", rows_out = |_| 0u64)]
async fn tokio_sink(mut rx: pipetel::channel::tokio::Receiver<Vec<u8>>) -> usize {
    let mut rows = 0;
    while let Some(batch) = rx.recv().await {
        rows += batch.len();
    }
    rows
}

#[test]
fn async_operators_joined_by_a_tokio_channel_are_an_edge() {
    pipetel_tests::own_process!();
    setup();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let rows = runtime.block_on(async {
        let (tx, rx) = pipetel::channel::tokio::channel(1);
        let source = tokio::spawn(tokio_source(tx));
        let rows = tokio::spawn(tokio_sink(rx)).await.unwrap();
        source.await.unwrap();
        rows
    });
    assert_eq!(rows, 10);
    assert_eq!(
        edges_of(&pipetel::snapshot(), "tokio"),
        [edge("source", "sink", EdgeVia::Channel, 10, 4)]
    );
}

// ---- conservation ----

#[operator(node_type = "scan", node_id = "leaky")]
fn leaky_scan(batch: u64) -> Vec<u64> {
    vec![batch; 10]
}

#[operator(node_type = "sink", node_id = "leaky", rows_out = |_| 0u64)]
fn leaky_sink(batch: &[u64]) -> usize {
    batch.len()
}

#[test]
fn rows_dropped_between_two_operators_are_flagged() {
    pipetel_tests::own_process!();
    setup();
    let (tx, rx) = pipetel::channel::channel();
    for batch in 0..6 {
        tx.send(leaky_scan(batch)).unwrap();
    }
    // An adapter between the two that is not an operator keeps only half of each batch.
    for batch in rx.try_iter() {
        leaky_sink(&batch[..5]);
    }
    let snapshot = pipetel::snapshot();
    assert_eq!(
        edges_of(&snapshot, "leaky"),
        [edge("scan", "sink", EdgeVia::Channel, 60, 6)]
    );
    let imbalances = imbalances_of(&snapshot, "leaky");
    let [imbalance] = imbalances[..] else {
        panic!("not flagged once: {imbalances:#?}");
    };
    assert_eq!((imbalance.rows_sent, imbalance.rows_received), (60, 30));
    assert_eq!(imbalance.difference(), -30);
    assert!(
        imbalance.reason.contains("30 rows lost"),
        "{}",
        imbalance.reason
    );
    let report = pipetel::Report::of(snapshot).to_string();
    assert!(report.contains("30 rows lost"), "{report}");
}

#[operator(node_type = "scan", node_id = "dropped")]
fn dropped_scan(batch: u64) -> Vec<u64> {
    vec![batch; 4]
}

#[operator(node_type = "sink", node_id = "dropped", rows_out = |_| 0u64)]
fn dropped_sink(batch: Vec<u64>) -> usize {
    batch.len()
}

#[test]
fn a_channel_dropped_with_batches_in_it_loses_them_and_says_so() {
    pipetel_tests::own_process!();
    setup();
    let (tx, rx) = pipetel::channel::sync_channel(8);
    for batch in 0..8 {
        tx.send(dropped_scan(batch)).unwrap();
    }
    // The consumer stops after three batches and drops its receiver.
    for batch in rx.iter().take(3) {
        dropped_sink(batch);
    }
    drop(rx);
    assert!(tx.send(dropped_scan(9)).is_err(), "nobody receives now");
    let snapshot = pipetel::snapshot();
    let channel = snapshot
        .channels
        .iter()
        .find(|channel| channel.senders.iter().any(|node| node.node_id == "dropped"))
        .unwrap();
    // The failed send is not counted as sent.
    assert_eq!(
        (
            channel.rows_sent,
            channel.rows_received,
            channel.rows_lost,
            channel.batches_lost,
            channel.rows_in_flight
        ),
        (32, 12, 20, 5, 0)
    );
    let imbalances = imbalances_of(&snapshot, "dropped");
    let [imbalance] = imbalances[..] else {
        panic!("not flagged once: {imbalances:#?}");
    };
    assert!(
        imbalance.reason.contains("20 rows lost in channel"),
        "{}",
        imbalance.reason
    );
}

// ---- stated links ----

#[test]
fn links_an_engine_states_carry_what_it_hands_over() {
    pipetel_tests::own_process!();
    setup();
    let scan = Operator::new("scan", "stated");
    let join = Operator::new("join", "stated");
    let feed = scan.feeds(&join);
    // The engine polls its scan on a thread of its own: no nesting to see.
    thread::spawn(move || {
        for rows in [10, 20, 30] {
            scan.call(|| feed.hand_over(rows, rows * 8));
        }
    })
    .join()
    .unwrap();
    // And nested too: counted once, by the feed.
    join.call(|| scan.call(|| feed.hand_over(5, 40)));
    let snapshot = pipetel::snapshot();
    assert_eq!(
        edges_of(&snapshot, "stated"),
        [edge("scan", "join", EdgeVia::Plan, 65, 4)]
    );
    let join = snapshot
        .operators
        .iter()
        .find(|op| op.node_type == "join" && op.node_id == "stated")
        .unwrap();
    assert_eq!(join.rows.received, 65);
    assert!(imbalances_of(&snapshot, "stated").is_empty());
}

#[test]
fn a_stated_producer_run_inside_an_operator_it_does_not_feed_hands_it_nothing() {
    pipetel_tests::own_process!();
    setup();
    let scan = Operator::new("scan", "stated-elsewhere");
    let repartition = Operator::new("repartition", "stated-elsewhere");
    let boundary = Operator::new("boundary", "stated-elsewhere");
    let feed = scan.feeds(&repartition);
    // The scan's work runs inside the boundary's call (a task the boundary's scope
    // spawned, as an engine does), handing its rows to the repartition it feeds.
    boundary.call(|| {
        for rows in [10, 20] {
            scan.call(|| feed.hand_over(rows, rows * 8));
        }
    });
    let snapshot = pipetel::snapshot();
    assert_eq!(
        edges_of(&snapshot, "stated-elsewhere"),
        [edge("scan", "repartition", EdgeVia::Plan, 30, 2)]
    );
    assert!(imbalances_of(&snapshot, "stated-elsewhere").is_empty());
}

#[test]
fn an_edge_to_another_process_counts_the_link_and_not_the_consumers_rows_in() {
    pipetel_tests::own_process!();
    setup();
    let stage = Operator::new("stage", "stated-remote");
    let boundary = Operator::new("boundary", "stated-remote");
    let feed = stage.feeds_elsewhere(&boundary);
    stage.call(|| feed.hand_over(40, 320));
    let snapshot = pipetel::snapshot();
    assert_eq!(
        edges_of(&snapshot, "stated-remote"),
        [edge("stage", "boundary", EdgeVia::Plan, 40, 1)]
    );
    let received = snapshot
        .operators
        .iter()
        .find(|op| op.node_type == "boundary" && op.node_id == "stated-remote")
        .map_or(0, |op| op.rows.received);
    assert_eq!(received, 0, "the boundary counts its rows in where it runs");
}

// ---- the graph rendered ----

#[operator(node_type = "scan", node_id = "render-left")]
fn render_left() -> impl Iterator<Item = Vec<u32>> {
    (0..4).map(|n| vec![n; 10])
}

#[operator(node_type = "scan", node_id = "render-right")]
fn render_right() -> impl Iterator<Item = Vec<u32>> {
    (0..2).map(|n| vec![n; 5])
}

/// A join with two inputs, feeding two consumers.
#[operator(node_type = "join", node_id = "render")]
fn render_join(
    left: impl Iterator<Item = Vec<u32>>,
    right: impl Iterator<Item = Vec<u32>>,
) -> Vec<u32> {
    left.chain(right).flatten().collect()
}

#[operator(node_type = "sink", node_id = "render-a", rows_out = |_| 0u64)]
fn render_sink_a() -> usize {
    render_join(render_left(), render_right()).len()
}

#[operator(node_type = "sink", node_id = "render-b", rows_out = |_| 0u64)]
fn render_sink_b() -> usize {
    render_join(render_left(), render_right()).len()
}

/// The view of the render test's operators only.
fn render_view() -> pipetel::Report {
    let mut snapshot = pipetel::snapshot();
    let ours = |node_id: &str| node_id.starts_with("render");
    snapshot.operators.retain(|op| ours(&op.node_id));
    snapshot
        .edges
        .retain(|edge| ours(&edge.from.node_id) && ours(&edge.to.node_id));
    snapshot.imbalances.clear();
    snapshot.channels.clear();
    snapshot.steps.clear();
    snapshot.runs.clear();
    pipetel::Report::of(snapshot)
}

#[test]
fn a_dag_renders_each_node_once_in_every_format() {
    pipetel_tests::own_process!();
    setup();
    assert_eq!(render_sink_a() + render_sink_b(), 100);
    let report = render_view();
    assert_eq!(
        edges_of(report.snapshot(), "render"),
        [
            edge("join", "sink", EdgeVia::Call, 50, 1),
            edge("join", "sink", EdgeVia::Call, 50, 1),
            edge("scan", "join", EdgeVia::Call, 20, 4),
            edge("scan", "join", EdgeVia::Call, 80, 8),
        ]
    );

    // Mermaid: five boxes, four edges, each box once.
    let mermaid = report.mermaid();
    let boxes = mermaid.lines().filter(|line| line.contains("[\"")).count();
    assert_eq!(boxes, 5, "{mermaid}");
    assert_eq!(mermaid.matches(" -->|").count(), 4, "{mermaid}");
    assert_eq!(mermaid.matches("[\"join").count(), 1, "{mermaid}");
    assert!(
        mermaid.contains("-->|\"80 rows<br/>8 batches\"|"),
        "{mermaid}"
    );

    // DOT: what Graphviz itself lays out, with each node once.
    let dot = report.dot();
    assert_eq!(laid_out(&dot), (5, 4), "{dot}");

    // The table: each operator once, producers under their consumer.
    let table = report.to_string();
    // The row and the 4 edges (the bottleneck line names whichever works most).
    let without_bottleneck: String = table
        .lines()
        .filter(|line| !line.starts_with("BOTTLENECK"))
        .collect();
    assert_eq!(
        without_bottleneck.matches("join render").count(),
        1 + 4,
        "{table}"
    );
    println!("{table}\n{mermaid}\n{dot}");
}
