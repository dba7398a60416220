//! The timeline (`Config::record_timeline`, `pipetel::chrome_trace`) of a planted
//! pipeline — a source thread blocked on a full channel, a sink thread starved by an
//! empty one in a step, operators nested in the sink's calls — is a well-formed Chrome
//! trace whose slices nest on each thread, with the step as an async slice holding the
//! sink's and an arrow from each send to its receive; and each operator's own time read from the slices' geometry alone is the
//! busy time the snapshot counts, within 1 %.

use std::thread;
use std::time::{Duration, Instant};

use pipetel::channel::{sync_channel, Receiver, SyncSender};
use pipetel::{operator, pipeline_step, Config};
use pipetel_tests::chrome_trace;

const BATCHES: u64 = 40;

/// Keeps the CPU busy for `time`.
fn spin(time: Duration) {
    let start = Instant::now();
    while start.elapsed() < time {
        std::hint::spin_loop();
    }
}

#[operator(node_type = "timeline_source")]
fn produce(tx: &SyncSender<Vec<u64>>, batch: u64) {
    spin(Duration::from_micros(20));
    // The sink is slower: the channel of one is full, and the send waits (blocked).
    tx.send(vec![batch; 64]).expect("the sink receives");
}

#[operator(node_type = "timeline_leaf")]
fn leaf(batch: Vec<u64>) -> Vec<u64> {
    spin(Duration::from_micros(150));
    batch
}

#[operator(node_type = "timeline_transform")]
fn transform(batch: Vec<u64>) -> Vec<u64> {
    spin(Duration::from_micros(100));
    let batch = leaf(batch);
    spin(Duration::from_micros(50));
    batch
}

#[operator(node_type = "timeline_sink")]
fn take(rx: &Receiver<Vec<u64>>) -> Option<Vec<u64>> {
    // Waits for the source at first (starved), then works on what it got.
    let batch = rx.recv().ok()?;
    Some(transform(batch))
}

#[operator(node_type = "timeline_make")]
fn make(batch: u64) -> Vec<u64> {
    spin(Duration::from_micros(10));
    vec![batch; 8]
}

#[operator(node_type = "timeline_keep")]
fn keep(batch: Vec<u64>) -> usize {
    spin(Duration::from_micros(10));
    batch.len()
}

#[pipeline_step]
fn drain(rx: &Receiver<Vec<u64>>) -> usize {
    let mut rows = 0;
    while let Some(batch) = take(rx) {
        rows += batch.len();
    }
    rows
}

#[test]
fn a_pipelines_timeline_is_well_formed_and_its_slices_add_up_to_busy_time() {
    pipetel_tests::own_process!();
    let telemetry = Config::new()
        .collect_locally(true)
        .record_timeline(true)
        .init();
    let (tx, rx) = sync_channel(1);
    let source = thread::Builder::new()
        .name("timeline-source".into())
        .spawn(move || {
            thread::sleep(Duration::from_millis(20));
            for batch in 0..BATCHES {
                produce(&tx, batch);
            }
        })
        .expect("spawn");
    let sink = thread::Builder::new()
        .name("timeline-sink".into())
        .spawn(move || drain(&rx))
        .expect("spawn");
    source.join().expect("source");
    assert_eq!(sink.join().expect("sink"), 64 * BATCHES as usize);
    // Sent after the operator that made the batch returned, received before the one
    // that takes it starts: `tx.send(make(…))`, `for batch in rx { keep(batch) }`.
    let (tx, rx) = pipetel::channel::channel();
    let maker = thread::spawn(move || {
        for batch in 0..BATCHES {
            tx.send(make(batch)).expect("kept");
        }
    });
    let kept: usize = rx.into_iter().map(keep).sum();
    maker.join().expect("maker");
    assert_eq!(kept, 8 * BATCHES as usize);

    let snapshot = pipetel::snapshot();
    let trace = chrome_trace::check(&pipetel::chrome_trace());
    assert_eq!(trace.rolled_off, 0);
    let threads: Vec<&str> = trace.threads.values().map(String::as_str).collect();
    for name in ["timeline-source", "timeline-sink"] {
        assert!(threads.contains(&name), "{name} in {threads:?}");
    }
    assert!(
        trace.waits.get("blocked").is_some_and(|&n| n > 0),
        "{:?}",
        trace.waits
    );
    assert!(
        trace.waits.get("starved").is_some_and(|&n| n > 0),
        "{:?}",
        trace.waits
    );
    for node_type in [
        "timeline_source",
        "timeline_sink",
        "timeline_transform",
        "timeline_leaf",
        "timeline_make",
        "timeline_keep",
    ] {
        let op = snapshot
            .operators
            .iter()
            .find(|op| op.node_type == node_type)
            .unwrap_or_else(|| panic!("no {node_type}"));
        let key = (op.node_type.clone(), op.node_id.clone());
        let calls = op.calls.completed + op.calls.failed + op.calls.cancelled;
        assert_eq!(
            trace.segments.get(&key).copied(),
            Some(calls as usize),
            "{key:?}"
        );
        let busy = op.time.busy.as_nanos() as f64;
        let own = trace.own_ns[&key];
        // 1 %, and the rounding of each slice's two ends to the nanosecond.
        let slack = busy * 0.01 + 2.0 * calls as f64;
        assert!(
            (own - busy).abs() <= slack,
            "{key:?}: slices {own} ns of own time, the snapshot {busy} ns busy"
        );
    }
    // An arrow per batch, from the source's call that sent it to the sink's that took it;
    // from the call that made a batch sent after it to the next call on the thread
    // that received it.
    let arrows = |from: &str, to: &str| {
        let pair = (from.to_owned(), to.to_owned());
        trace.flows.iter().filter(|flow| **flow == pair).count() as u64
    };
    assert_eq!(arrows("timeline_source", "timeline_sink"), BATCHES);
    assert_eq!(arrows("timeline_make", "timeline_keep"), BATCHES);
    assert_eq!(trace.flows.len() as u64, 2 * BATCHES, "{:?}", trace.flows);
    // The step, an async slice, holds every slice of the sink's calls.
    let steps: Vec<_> = trace.spans.iter().filter(|span| span.0 == "step").collect();
    assert_eq!(steps.len(), 1, "{:?}", trace.spans);
    let (_, name, start, end) = steps[0];
    assert_eq!(name, "step drain");
    let sink_slices: Vec<_> = trace
        .slices
        .iter()
        .filter(|slice| slice.3 == "timeline_sink")
        .collect();
    assert_eq!(sink_slices.len() as u64, BATCHES + 1);
    for &&(_, slice_start, slice_end, _) in &sink_slices {
        assert!(
            *start <= slice_start && slice_end <= *end + 0.002,
            "a sink slice {slice_start}–{slice_end} µs outside its step {start}–{end} µs"
        );
    }
    drop(telemetry);
}

const MESSAGES: u64 = 20;

/// Waits for each message (starved until the producer sends), and is polled only once
/// the producer, having woken it, yields (queued meanwhile).
#[operator(node_type = "timeline_await")]
async fn await_each(mut rx: tokio::sync::mpsc::Receiver<u64>) -> u64 {
    let mut sum = 0;
    while let Some(message) = rx.recv().await {
        sum += message;
    }
    sum
}

#[test]
fn an_async_calls_gaps_are_slices_on_its_task_track_and_the_process_has_counter_tracks() {
    pipetel_tests::own_process!();
    let telemetry = Config::new()
        .collect_locally(true)
        .record_timeline(true)
        .init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let sum = runtime.block_on(async {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let consumer = tokio::spawn(await_each(rx));
        for message in 0..MESSAGES {
            tokio::time::sleep(Duration::from_millis(2)).await;
            tx.send(message).await.expect("the consumer receives");
            // The consumer is woken and waits for this task to yield: queued.
            spin(Duration::from_micros(300));
        }
        drop(tx);
        consumer.await.expect("the consumer ends")
    });
    assert_eq!(sum, (0..MESSAGES).sum::<u64>());
    let snapshot = pipetel::snapshot();
    // Stopped: the sampler's last sample is in.
    drop(telemetry);
    let trace = chrome_trace::check(&pipetel::chrome_trace());

    let op = snapshot
        .operators
        .iter()
        .find(|op| op.node_type == "timeline_await")
        .expect("the async operator");
    let gaps = |state: &str| -> (usize, f64) {
        let name = format!("timeline_await await_each {state}");
        let of_state: Vec<_> = trace.task_gaps.iter().filter(|gap| gap.1 == name).collect();
        let ns = of_state.iter().map(|gap| (gap.3 - gap.2) * 1000.0).sum();
        (of_state.len(), ns)
    };
    let tasks: std::collections::BTreeSet<&str> =
        trace.task_gaps.iter().map(|gap| gap.0.as_str()).collect();
    assert_eq!(tasks.len(), 1, "one call, one task track: {tasks:?}");
    for (state, counted) in [("starved", op.time.starved), ("queued", op.time.queued)] {
        let (slices, ns) = gaps(state);
        assert!(
            slices as u64 >= MESSAGES,
            "{state}: {slices} gaps in {:?}",
            trace
                .task_gaps
                .iter()
                .map(|gap| &gap.1)
                .collect::<std::collections::BTreeSet<_>>()
        );
        // 1 %, and the rounding of each gap's two ends to the nanosecond.
        let counted = counted.as_nanos() as f64;
        let slack = counted * 0.01 + 2.0 * slices as f64;
        assert!(
            (ns - counted).abs() <= slack,
            "{state}: gaps of {ns} ns, the snapshot {counted} ns"
        );
    }
    // The process's resident memory, sampled at the start and as telemetry stopped.
    let resident = &trace.counters[&("memory".to_owned(), "resident bytes".to_owned())];
    assert!(resident.len() >= 2, "{resident:?}");
    assert!(
        resident.iter().all(|&(_, bytes)| bytes > 0.0),
        "{resident:?}"
    );
    assert!(
        resident.windows(2).all(|pair| pair[0].0 <= pair[1].0),
        "in time order: {resident:?}"
    );
}
