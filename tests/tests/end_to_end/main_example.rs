//! The main example, run as a child process: its report agrees with the data it
//! generates, and with a collector it exports spans, metrics and logs.

use std::time::Duration;

use pipetel::snapshot::{EdgeVia, Snapshot};
use pipetel_examples::regional_totals::{amount_of, REGIONS};
use pipetel_tests::{assert_success, chrome_trace, histograms, laid_out, points, run, Receiver};

const PROGRAM: &str = env!("CARGO_BIN_EXE_regional_totals");
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const ORDERS: usize = 100_000;

/// The totals per region of the orders the example generates, amount ≥ 500.
fn expected_totals() -> Vec<(String, u64)> {
    REGIONS
        .iter()
        .enumerate()
        .map(|(index, region)| {
            let total = (0..ORDERS)
                .filter(|id| id % REGIONS.len() == index)
                .map(amount_of)
                .filter(|amount| *amount >= 500)
                .sum();
            (region.to_string(), total)
        })
        .collect()
}

#[test]
fn the_report_agrees_with_the_data() {
    let dir = std::env::temp_dir().join(format!("pipetel-main-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let report = dir.join("report.json");
    let orders = ORDERS.to_string();
    let output = run(
        PROGRAM,
        &[],
        &[
            ("ORDERS", orders.as_str()),
            ("PIPETEL_REPORT", report.to_str().expect("utf-8")),
        ],
        RUN_TIMEOUT,
    );
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for (region, total) in expected_totals() {
        assert!(
            stdout.contains(&format!("{region}: {total}\n")),
            "{region}: {total} in\n{stdout}"
        );
    }
    assert!(
        stdout.contains("RUN / STEP / OPERATOR"),
        "the report is printed with no collector"
    );
    let header = stdout
        .lines()
        .find(|line| line.starts_with("RUN / STEP / OPERATOR"))
        .expect("the header");
    assert!(
        header.ends_with("MEMORY"),
        "the example installs the tracking allocator: {header}"
    );

    let snapshot: Snapshot =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    let kept = (0..ORDERS).filter(|id| amount_of(*id) >= 500).count() as u64;
    let batches = ORDERS.div_ceil(8192) as u64;
    let op = |node_type: &str| {
        snapshot
            .operators
            .iter()
            .find(|op| op.node_type == node_type)
            .unwrap_or_else(|| panic!("no {node_type}"))
    };
    assert_eq!(
        (
            op("scan").rows.received,
            op("scan").rows.produced,
            op("scan").calls.completed
        ),
        (ORDERS as u64, ORDERS as u64, batches)
    );
    assert_eq!(op("scan").step.as_deref(), Some("extract"));
    assert!(
        op("scan").bytes.read > ORDERS as u64 * 10,
        "every line is read"
    );
    // Iterators over their input: their rows in are what their input edges carried.
    assert_eq!(
        (op("filter").rows.input, op("filter").rows.produced),
        (ORDERS as u64, kept)
    );
    assert_eq!(
        (op("project").rows.input, op("project").rows.produced),
        (kept, kept)
    );
    assert_eq!(
        (
            op("hash_aggregate").rows.input,
            op("hash_aggregate").rows.produced
        ),
        (kept, 4)
    );
    // consume and finish.
    assert_eq!(op("hash_aggregate").calls.completed, 2);
    for node_type in ["filter", "project"] {
        assert_eq!(
            op(node_type).step.as_deref(),
            Some("transform"),
            "{node_type}"
        );
    }
    // The sink pulls the aggregate's groups in the load step.
    for node_type in ["hash_aggregate", "sink"] {
        assert_eq!(op(node_type).step.as_deref(), Some("load"), "{node_type}");
    }
    assert_eq!(op("sink").rows.written, 4);
    // Memory, measured by the tracking allocator the example installs. Each batch the
    // scan makes (two vectors of 16 + 8 bytes a row) is the scan's, and all of it is
    // freed by the filter that consumes it; at the end of each scan call the batch it
    // returns is live, so the sampled peak holds at least one.
    let scan = op("scan").memory.expect("the scan's memory");
    assert!(scan.allocated >= ORDERS as u64 * 24, "{scan:?}");
    assert_eq!(scan.live, 0, "every batch freed downstream: {scan:?}");
    assert!(scan.peak >= 8192 * 24, "{scan:?}");
    assert!(scan.allocations >= 2 * batches, "{scan:?}");
    // The aggregate's table of four groups is built in `consume` and kept to its end.
    let aggregate = op("hash_aggregate").memory.expect("the aggregate's memory");
    assert!(aggregate.allocated > 0, "{aggregate:?}");
    assert!(
        snapshot
            .unattributed_memory
            .is_some_and(|outside| outside.allocated > 0),
        "the lines the extract step reads are no operator's"
    );
    // Progress: the scan said the bytes it would read; every operator's total followed
    // from it, down the graph, and at the end each is exactly what it handled.
    for (node_type, handled) in [
        ("scan", ORDERS as u64),
        ("filter", ORDERS as u64),
        ("project", kept),
        ("hash_aggregate", kept),
        ("sink", 4),
    ] {
        let estimate = op(node_type)
            .estimate
            .clone()
            .unwrap_or_else(|| panic!("{node_type} has no estimate"));
        assert_eq!(
            (estimate.rows, estimate.expected_rows, estimate.fraction),
            (handled, handled, 1.0),
            "{node_type}"
        );
    }
    assert_eq!(snapshot.overall.expect("an overall line").fraction, 1.0);
    // Nothing wrong with this run: no warning (whether the scan's share of the busy time
    // passes the dominant operator's 80 %, a notice, depends on the machine).
    assert!(
        snapshot
            .diagnoses
            .iter()
            .all(|d| d.severity == pipetel::diagnose::Severity::Notice),
        "{:#?}",
        snapshot.diagnoses
    );

    // The graph is the plan: every edge, no other, rows exact, nothing lost.
    let mut edges: Vec<(&str, &str, EdgeVia, u64, u64)> = snapshot
        .edges
        .iter()
        .map(|edge| {
            (
                edge.from.node_type.as_str(),
                edge.to.node_type.as_str(),
                edge.via,
                edge.rows,
                edge.batches,
            )
        })
        .collect();
    edges.sort();
    assert_eq!(
        edges,
        [
            ("filter", "project", EdgeVia::Call, kept, batches),
            ("hash_aggregate", "sink", EdgeVia::Call, 4, 1),
            ("project", "hash_aggregate", EdgeVia::Call, kept, batches),
            ("scan", "filter", EdgeVia::Channel, ORDERS as u64, batches),
        ]
    );
    assert_eq!(snapshot.imbalances, []);
    let step_rows: Vec<(&str, u64)> = snapshot
        .steps
        .iter()
        .map(|step| (step.step.as_str(), step.rows))
        .collect();
    assert_eq!(
        step_rows,
        [("extract", ORDERS as u64), ("transform", 4), ("load", 4)]
    );
    assert_eq!(snapshot.runs[0].rows, ORDERS as u64 + 8);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_graph_goes_to_mermaid_and_dot_files_graphviz_reads() {
    let dir = std::env::temp_dir().join(format!("pipetel-main-graph-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let orders = ORDERS.to_string();
    let mut written = Vec::new();
    for name in ["plan.mmd", "plan.dot"] {
        let path = dir.join(name);
        let output = run(
            PROGRAM,
            &[],
            &[
                ("ORDERS", orders.as_str()),
                ("PIPETEL_REPORT", path.to_str().expect("utf-8")),
            ],
            RUN_TIMEOUT,
        );
        assert!(output.status.success());
        written.push(std::fs::read_to_string(&path).expect("written"));
    }
    let (mermaid, dot) = (&written[0], &written[1]);
    assert!(mermaid.starts_with("flowchart TD\n"), "{mermaid}");
    assert_eq!(mermaid.matches(" -->|").count(), 4, "{mermaid}");
    for step in ["extract", "transform", "load"] {
        assert!(
            mermaid.contains(&format!("[\"step regional_totals / {step}\"]")),
            "{mermaid}"
        );
    }
    // Each box says what its operator holds now and held at most (the example installs
    // the tracking allocator): the scan nothing, its batches all freed downstream.
    for graph in [mermaid, dot] {
        assert_eq!(graph.matches("memory ").count(), 5, "{graph}");
        assert!(graph.contains("memory 0 B (peak "), "{graph}");
    }
    assert_eq!(laid_out(dot), (5, 4), "{dot}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn its_timeline_is_a_chrome_trace_whose_slices_add_up_to_each_operators_busy_time() {
    let dir = std::env::temp_dir().join(format!("pipetel-main-timeline-{}", std::process::id()));
    let snapshots = dir.join("snapshots");
    std::fs::create_dir_all(&snapshots).expect("dir");
    let trace = dir.join("run.trace.json");
    let orders = ORDERS.to_string();
    let output = run(
        PROGRAM,
        &[],
        &[
            ("ORDERS", orders.as_str()),
            ("PIPETEL_REPORT", trace.to_str().expect("utf-8")),
            ("PIPETEL_SNAPSHOT_DIR", snapshots.to_str().expect("utf-8")),
        ],
        RUN_TIMEOUT,
    );
    assert_success(&output);
    // The process's last snapshot, written as it stopped: what its report counts.
    let jobs = pipetel::snapshot::merge_files([&snapshots]).expect("the snapshot reads");
    assert_eq!(jobs.len(), 1);
    let snapshot = &jobs[0];
    let trace = chrome_trace::check(&std::fs::read_to_string(&trace).expect("the trace"));
    assert_eq!(trace.rolled_off, 0);
    // The process's memory from the start to the stop, and how far the run got: all of
    // it, as telemetry stopped.
    let counter = |name: &str, value: &str| &trace.counters[&(name.to_owned(), value.to_owned())];
    let resident = counter("memory", "resident bytes");
    assert!(resident.len() >= 2, "{resident:?}");
    assert!(
        resident.iter().all(|&(_, bytes)| bytes > 0.0),
        "{resident:?}"
    );
    let progress = counter("progress", "done %");
    assert_eq!(
        progress.last().map(|&(_, done)| done),
        Some(100.0),
        "{progress:?}"
    );
    // The filter's and the project's gaps between batches, on their tasks' tracks.
    assert!(
        trace
            .task_gaps
            .iter()
            .any(|gap| gap.1.starts_with("filter ")),
        "{:?}",
        trace.task_gaps
    );
    // Each batch the scan sent through the channel, an arrow to the filter that took it.
    let batches = ORDERS.div_ceil(8192);
    assert_eq!(trace.flows.len(), batches, "{:?}", trace.flows);
    for (from, to) in &trace.flows {
        assert_eq!((from.as_str(), to.as_str()), ("scan", "filter"));
    }
    // The run holds its three steps; the steps, in order, every operator slice.
    let mut spans: Vec<(&str, f64, f64)> = trace
        .spans
        .iter()
        .map(|(_, name, start, end)| (name.as_str(), *start, *end))
        .collect();
    spans.sort_by(|a, b| a.1.total_cmp(&b.1));
    let names: Vec<&str> = spans.iter().map(|span| span.0).collect();
    assert_eq!(
        names,
        [
            "run regional_totals",
            "step extract",
            "step transform",
            "step load"
        ]
    );
    let (run_start, run_end) = (spans[0].1, spans[0].2);
    for &(name, start, end) in &spans[1..] {
        assert!(
            run_start <= start && end <= run_end,
            "{name} outside its run"
        );
    }
    for (_, start, end, node_type) in &trace.slices {
        assert!(
            spans[1..]
                .iter()
                .any(|&(_, step_start, step_end)| step_start <= *start && *end <= step_end + 0.002),
            "a {node_type} slice {start}–{end} µs in no step"
        );
    }
    assert_eq!(
        trace.own_ns.len(),
        snapshot.operators.len(),
        "{:?}",
        trace.own_ns
    );
    for op in &snapshot.operators {
        let key = (op.node_type.clone(), op.node_id.clone());
        let busy = op.time.busy.as_nanos() as f64;
        let own = trace.own_ns[&key];
        let segments = trace.segments[&key] as f64;
        // 1 %, and the rounding of each slice's two ends to the nanosecond.
        assert!(
            (own - busy).abs() <= busy * 0.01 + 2.0 * segments,
            "{key:?}: slices {own} ns of own time, the report {busy} ns busy"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn with_a_collector_the_example_exports_spans_metrics_and_logs() {
    let receiver = Receiver::start();
    let orders = ORDERS.to_string();
    let output = run(
        PROGRAM,
        &[],
        &[
            ("ORDERS", orders.as_str()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
        ],
        RUN_TIMEOUT,
    );
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert!(String::from_utf8_lossy(&output.stdout).contains("exported over OTLP"));
    let spans = receiver.wait_for_spans(4, Duration::from_secs(5));
    let mut names: Vec<&str> = spans.iter().map(|span| span.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["extract", "load", "run regional_totals", "transform"]
    );
    let logs = receiver.wait_for_logs(1, Duration::from_secs(5));
    assert_eq!(logs[0].body, "extracted");
    assert_eq!(logs[0].attributes["step"], "extract");
    let requests = receiver.wait_for_requests(1, Duration::from_secs(5));
    let filter_out = points(requests.last().expect("metrics"))
        .into_iter()
        .find(|point| point.name == "pipetel.rows.out" && point.attributes["node.type"] == "filter")
        .expect("filter rows.out");
    assert_eq!(
        filter_out.value,
        (0..ORDERS).filter(|id| amount_of(*id) >= 500).count() as i64
    );
    // Memory per operator, in bytes, beside the other operator metrics.
    let last = points(requests.last().expect("metrics"));
    let memory = |name: &str, node_type: &str| {
        last.iter()
            .find(|point| point.name == name && point.attributes["node.type"] == node_type)
            .unwrap_or_else(|| panic!("no {name} of {node_type}"))
    };
    let allocated = memory("pipetel.memory.allocated", "scan");
    assert_eq!((allocated.unit.as_str(), allocated.monotonic), ("By", true));
    assert!(allocated.value >= ORDERS as i64 * 24, "{allocated:?}");
    let live = memory("pipetel.memory.live", "scan");
    assert_eq!((live.unit.as_str(), live.value), ("By", 0));
    assert!(memory("pipetel.memory.peak", "scan").value >= 8192 * 24);
    let outside = memory("pipetel.memory.allocated", "unattributed");
    assert_eq!(outside.attributes["node.id"], "unattributed");
    assert!(outside.value > 0);
    // Bytes per call, a histogram beside the time per call: one value for each call.
    let histograms = histograms(requests.last().expect("metrics"));
    let per_call = |name: &str| {
        histograms
            .iter()
            .find(|h| h.name == name && h.attributes["node.type"] == "scan")
            .unwrap_or_else(|| panic!("no {name} of the scan in {histograms:#?}"))
    };
    let (bytes, time) = (
        per_call("pipetel.call.allocated"),
        per_call("pipetel.call.duration"),
    );
    assert_eq!((bytes.unit.as_str(), bytes.count), ("By", time.count));
    // Each bucket's start, at most a quarter under the bytes it stands for.
    let scan = allocated.value as f64;
    assert!(bytes.sum <= scan && bytes.sum >= 0.75 * scan, "{bytes:?}");
}
