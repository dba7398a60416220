//! End to end: the `pipeline` program (a `#[derive(Pipeline)]` with three steps) runs as a
//! child process and exports spans and metrics to the in-suite OTLP receiver.

use std::collections::BTreeMap;
use std::time::Duration;

use pipetel_tests::{histograms, points, run, LogRecord, Receiver, SpanRecord};

const PROGRAM: &str = env!("CARGO_BIN_EXE_pipeline");
const RUN_TIMEOUT: Duration = Duration::from_secs(30);
const WAIT: Duration = Duration::from_secs(5);

fn run_pipeline(
    receiver_endpoint: &str,
    protocol: &str,
    args: &[&str],
    extra: &[(&str, &str)],
) -> String {
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver_endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_METRIC_EXPORT_INTERVAL", "60000"),
    ];
    env.extend_from_slice(extra);
    let output = run(PROGRAM, args, &env, RUN_TIMEOUT);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{}\n{stderr}", output.status);
    assert_eq!(stderr, "", "no warnings");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn named<'a>(spans: &'a [SpanRecord], name: &str) -> Vec<&'a SpanRecord> {
    spans.iter().filter(|span| span.name == name).collect()
}

fn only<'a>(spans: &[&'a SpanRecord]) -> &'a SpanRecord {
    assert_eq!(spans.len(), 1, "{spans:#?}");
    spans[0]
}

/// The spans of one trace, by name.
fn trace_of<'a>(spans: &'a [SpanRecord], trace_id: &str) -> BTreeMap<&'a str, &'a SpanRecord> {
    spans
        .iter()
        .filter(|span| span.trace_id == trace_id)
        .map(|span| (span.name.as_str(), span))
        .collect()
}

fn check_two_runs(receiver: &Receiver) {
    let spans = receiver.wait_for_spans(8, WAIT);
    assert_eq!(spans.len(), 8, "{spans:#?}");
    let runs = named(&spans, "run orders");
    assert_eq!(runs.len(), 2);
    let (ok_run, failed_run) = match runs[0].attributes["pipeline.result"].as_str() {
        "success" => (runs[0], runs[1]),
        _ => (runs[1], runs[0]),
    };

    // The successful run: run → extract, normalize, load → flush (a user span).
    assert_eq!(ok_run.parent_span_id, "", "a root span");
    assert_eq!(ok_run.scope, "pipetel.pipeline");
    for (key, value) in [
        ("pipeline.name", "orders"),
        ("pipeline.destination", "warehouse"),
        ("dataset.name", "sales"),
        ("pipeline.result", "success"),
        ("pipeline.rows", "9"),
    ] {
        assert_eq!(ok_run.attributes[key], value, "{key}");
    }
    assert_eq!(ok_run.status_code, 0);
    let trace = trace_of(&spans, &ok_run.trace_id);
    assert_eq!(
        trace.keys().copied().collect::<Vec<_>>(),
        ["extract", "flush", "load", "normalize", "run orders"]
    );
    for (step, rows) in [("extract", "3"), ("normalize", "3"), ("load", "3")] {
        let span = trace[step];
        assert_eq!(
            span.parent_span_id, ok_run.span_id,
            "{step} is a child of the run"
        );
        assert_eq!(span.attributes[&format!("{step}.rows")], rows, "{step}");
        assert_eq!(span.status_code, 0, "{step}");
        assert!(span.events.is_empty(), "{step}");
    }
    assert_eq!(
        trace["flush"].parent_span_id, trace["load"].span_id,
        "a user span nests under its step"
    );
    assert_eq!(trace["flush"].scope, "pipeline-bin");

    // The failing run: normalize fails through `?`, load never runs.
    let trace = trace_of(&spans, &failed_run.trace_id);
    assert_eq!(
        trace.keys().copied().collect::<Vec<_>>(),
        ["extract", "normalize", "run orders"]
    );
    let normalize = trace["normalize"];
    assert_eq!(normalize.parent_span_id, failed_run.span_id);
    assert_eq!(normalize.status_code, 2, "Error status");
    assert_eq!(normalize.status_message, "a row is not a number");
    assert_eq!(normalize.attributes["error.type"], "pipeline::EtlError");
    assert_eq!(normalize.attributes["normalize.rows"], "0");
    let (event, attributes) = &normalize.events[0];
    assert_eq!(event, "exception");
    assert_eq!(attributes["exception.type"], "pipeline::EtlError");
    assert_eq!(attributes["exception.message"], "a row is not a number");
    assert_eq!(
        attributes["exception.sources"],
        "[invalid digit found in string]"
    );
    assert_eq!(failed_run.attributes["pipeline.result"], "failure");
    assert_eq!(failed_run.attributes["error.type"], "pipeline::EtlError");
    assert_eq!(failed_run.attributes["pipeline.rows"], "3");
    assert_eq!(failed_run.status_code, 2);
    assert_eq!(failed_run.events[0].0, "exception");
}

fn check_pipeline_metrics(receiver: &Receiver) {
    let requests = receiver.wait_for_requests(1, WAIT);
    let last = requests.last().expect("a metrics export");
    let points = points(last);
    let value = |name: &str, attributes: &[(&str, &str)]| {
        let wanted: BTreeMap<String, String> = attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        points
            .iter()
            .find(|point| point.name == name && point.attributes == wanted)
            .map(|point| point.value)
            .unwrap_or_else(|| panic!("no {name} {attributes:?}"))
    };
    assert_eq!(
        value(
            "pipetel.pipeline.runs",
            &[("pipeline.name", "orders"), ("result", "success")]
        ),
        1
    );
    assert_eq!(
        value(
            "pipetel.pipeline.runs",
            &[("pipeline.name", "orders"), ("result", "failure")]
        ),
        1
    );
    assert_eq!(
        value(
            "pipetel.pipeline.rows",
            &[("pipeline.name", "orders"), ("step", "extract")]
        ),
        6
    );
    assert_eq!(
        value(
            "pipetel.pipeline.rows",
            &[("pipeline.name", "orders"), ("step", "normalize")]
        ),
        3
    );
    assert_eq!(
        value(
            "pipetel.pipeline.rows",
            &[("pipeline.name", "orders"), ("step", "load")]
        ),
        3
    );
    let durations = histograms(last);
    let count = |step: &str| {
        durations
            .iter()
            .find(|h| h.name == "pipetel.pipeline.step.duration" && h.attributes["step"] == step)
            .map(|h| (h.count, h.unit.clone()))
            .unwrap_or_else(|| panic!("no duration of {step}"))
    };
    assert_eq!(count("extract"), (2, "s".to_string()));
    assert_eq!(count("normalize"), (2, "s".to_string()));
    assert_eq!(count("load"), (1, "s".to_string()));
}

#[test]
fn a_pipeline_exports_its_span_tree_and_metrics_over_grpc() {
    let receiver = Receiver::start();
    let stdout = run_pipeline(&receiver.grpc_endpoint, "grpc", &[], &[]);
    assert!(stdout.contains("first run: Ok(3)"), "{stdout}");
    assert!(
        stdout.contains(r#"second run: Err("a row is not a number")"#),
        "{stdout}"
    );
    check_two_runs(&receiver);
    check_pipeline_metrics(&receiver);
}

#[test]
fn a_pipeline_exports_its_span_tree_and_metrics_over_http() {
    let receiver = Receiver::start();
    run_pipeline(&receiver.http_endpoint, "http/protobuf", &[], &[]);
    check_two_runs(&receiver);
    check_pipeline_metrics(&receiver);
}

/// The program's own log records, and those of pipetel's diagnoses.
fn split_diagnoses(logs: Vec<LogRecord>) -> (Vec<LogRecord>, Vec<LogRecord>) {
    logs.into_iter()
        .partition(|log| !log.attributes.contains_key("diagnosis"))
}

#[test]
fn events_in_steps_and_operators_become_correlated_log_records() {
    for (protocol, endpoint) in [("grpc", true), ("http/protobuf", false)] {
        let receiver = Receiver::start();
        let endpoint = if endpoint {
            &receiver.grpc_endpoint
        } else {
            &receiver.http_endpoint
        };
        run_pipeline(endpoint, protocol, &[], &[]);
        let spans = receiver.wait_for_spans(8, WAIT);
        let (logs, diagnoses) = split_diagnoses(receiver.wait_for_logs(4, WAIT));
        assert_eq!(logs.len(), 3, "{protocol}: {logs:#?}");
        // The failed parse is a diagnosis too: one log record, the first time it fired.
        let failures: Vec<_> = diagnoses
            .iter()
            .filter(|log| log.attributes["diagnosis"] == "failures")
            .collect();
        assert_eq!(failures.len(), 1, "{diagnoses:#?}");
        assert_eq!(failures[0].severity, "WARN");
        assert_eq!(failures[0].attributes["node.type"], "parse");
        assert!(
            failures[0].body.starts_with("failures: 1 of "),
            "{:?}",
            failures[0].body
        );
        let normalizing: Vec<_> = logs
            .iter()
            .filter(|log| log.body == "normalizing")
            .collect();
        assert_eq!(normalizing.len(), 2, "one per run");
        for log in normalizing {
            let span = spans
                .iter()
                .find(|span| span.span_id == log.span_id)
                .expect("the log's span");
            assert_eq!(span.name, "normalize");
            assert_eq!(log.trace_id, span.trace_id);
            assert_eq!(log.severity, "INFO");
            assert_eq!(log.attributes["pipeline.name"], "orders");
            assert_eq!(log.attributes["step"], "normalize");
            assert!(
                !log.attributes.contains_key("node.id"),
                "not inside an operator"
            );
        }
        let bad_row = logs
            .iter()
            .find(|log| log.body == "bad row")
            .expect("the operator's warning");
        assert_eq!(bad_row.severity, "WARN");
        assert_eq!(bad_row.attributes["row"], "x");
        assert_eq!(bad_row.attributes["node.type"], "parse");
        assert_eq!(bad_row.attributes["node.id"], "pipeline::parse_row");
        assert_eq!(bad_row.attributes["step"], "normalize");
        assert_eq!(bad_row.attributes["pipeline.name"], "orders");
        let span = spans
            .iter()
            .find(|span| span.span_id == bad_row.span_id)
            .expect("the log's span");
        assert_eq!(
            span.name, "normalize",
            "the step's span is current inside its operators"
        );
    }
}

#[test]
fn a_program_with_its_own_subscriber_exports_logs_through_log_layer() {
    let receiver = Receiver::start();
    run_pipeline(
        &receiver.grpc_endpoint,
        "grpc",
        &[],
        &[("SUBSCRIBER", "own")],
    );
    let (logs, _) = split_diagnoses(receiver.wait_for_logs(4, WAIT));
    assert_eq!(logs.len(), 3, "{logs:#?}");
    let bad_row = logs
        .iter()
        .find(|log| log.body == "bad row")
        .expect("the operator's warning");
    assert_eq!(bad_row.attributes["node.type"], "parse");
    assert_eq!(bad_row.attributes["step"], "normalize");
}

#[test]
fn a_global_subscriber_set_before_init_is_named_and_logs_are_not_exported() {
    let receiver = Receiver::start();
    let output = run(
        PROGRAM,
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
            ("SUBSCRIBER", "preset"),
        ],
        RUN_TIMEOUT,
    );
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("pipetel: warning: a global tracing subscriber is already set, so logs are not exported"),
        "{stderr}"
    );
    check_two_runs(&receiver);
    assert!(receiver
        .wait_for_logs(1, Duration::from_millis(300))
        .is_empty());
}

#[test]
fn logs_exporter_none_keeps_spans_and_drops_logs() {
    let receiver = Receiver::start();
    run_pipeline(
        &receiver.grpc_endpoint,
        "grpc",
        &[],
        &[("OTEL_LOGS_EXPORTER", "none")],
    );
    check_two_runs(&receiver);
    assert!(receiver
        .wait_for_logs(1, Duration::from_millis(300))
        .is_empty());
}

#[test]
fn custom_instruments_and_process_metrics_share_the_resource() {
    let receiver = Receiver::start();
    run_pipeline(
        &receiver.grpc_endpoint,
        "grpc",
        &[],
        &[("OTEL_SERVICE_NAME", "orders-etl")],
    );
    let requests = receiver.wait_for_requests(1, WAIT);
    let last = requests.last().expect("a metrics export");
    assert_eq!(
        pipetel_tests::resource_attributes(last)["service.name"],
        "orders-etl"
    );
    let points = points(last);
    let loaded = points
        .iter()
        .find(|point| point.name == "orders.loaded")
        .expect("the user counter");
    assert_eq!(loaded.value, 3);
    assert_eq!(loaded.unit, "{row}");
    assert_eq!(loaded.attributes["table"], "orders");
    let memory = points
        .iter()
        .find(|point| point.name == "process.memory.usage")
        .expect("memory");
    assert!(
        memory.value > 1_000_000 && !memory.monotonic && memory.unit == "By",
        "{memory:?}"
    );
    let cpu = points
        .iter()
        .find(|point| point.name == "process.cpu.time")
        .expect("cpu time");
    assert!(cpu.monotonic && cpu.unit == "s", "{cpu:?}");
    let spans = receiver.wait_for_spans(8, WAIT);
    let flush = spans
        .iter()
        .find(|span| span.name == "flush")
        .expect("the user span");
    assert_eq!(flush.resource["service.name"], "orders-etl");
    assert_eq!(
        flush.resource["service.instance.id"],
        pipetel_tests::resource_attributes(last)["service.instance.id"]
    );
}

#[test]
fn a_panicking_step_fails_the_step_and_the_run() {
    let receiver = Receiver::start();
    let stdout = run_pipeline(&receiver.grpc_endpoint, "grpc", &["--panic"], &[]);
    assert!(stdout.contains("panicked: true"));
    let spans = receiver.wait_for_spans(2, WAIT);
    let run = only(&named(&spans, "run fragile"));
    let step = only(&named(&spans, "explode"));
    assert_eq!(step.parent_span_id, run.span_id);
    for span in [run, step] {
        assert_eq!(span.status_code, 2);
        assert_eq!(span.attributes["error.type"], "panic");
    }
    assert_eq!(run.attributes["pipeline.result"], "failure");
}

#[test]
fn traceparent_makes_the_run_a_child_of_the_callers_span() {
    let receiver = Receiver::start();
    let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    run_pipeline(
        &receiver.grpc_endpoint,
        "grpc",
        &["--worker", "0"],
        &[("TRACEPARENT", traceparent)],
    );
    let spans = receiver.wait_for_spans(5, WAIT);
    let run = only(&named(&spans, "run orders"));
    assert_eq!(run.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(run.parent_span_id, "b7ad6b7169203331");
    assert!(spans.iter().all(|span| span.trace_id == run.trace_id));
}

#[test]
fn an_invalid_traceparent_is_named_and_a_new_trace_starts() {
    let receiver = Receiver::start();
    let output = run(
        PROGRAM,
        &["--worker", "0"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
            ("TRACEPARENT", "not-a-traceparent"),
        ],
        RUN_TIMEOUT,
    );
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#"pipetel: warning: TRACEPARENT="not-a-traceparent" is not a valid W3C traceparent; runs start a new trace"#),
        "{stderr}"
    );
    let spans = receiver.wait_for_spans(5, WAIT);
    assert_eq!(only(&named(&spans, "run orders")).parent_span_id, "");
}

#[test]
fn a_driver_and_two_workers_make_one_trace() {
    let receiver = Receiver::start();
    let stdout = run_pipeline(&receiver.grpc_endpoint, "grpc", &["--driver"], &[]);
    assert!(stdout.contains("dispatched: Ok([1, 2])"), "{stdout}");
    // driver: run + dispatch; each worker: run + extract + normalize + load + flush.
    let spans = receiver.wait_for_spans(12, WAIT);
    assert_eq!(spans.len(), 12, "{spans:#?}");
    let driver_run = only(&named(&spans, "run driver"));
    let dispatch = only(&named(&spans, "dispatch"));
    assert_eq!(dispatch.parent_span_id, driver_run.span_id);
    assert!(
        spans
            .iter()
            .all(|span| span.trace_id == driver_run.trace_id),
        "one trace"
    );
    let worker_runs = named(&spans, "run orders");
    assert_eq!(worker_runs.len(), 2);
    for run in &worker_runs {
        assert_eq!(
            run.parent_span_id, dispatch.span_id,
            "a worker's run is a child of the driver's step"
        );
    }
    let instance = |span: &SpanRecord| span.resource["service.instance.id"].clone();
    let instances: std::collections::BTreeSet<String> =
        [driver_run, worker_runs[0], worker_runs[1]]
            .into_iter()
            .map(instance)
            .collect();
    assert_eq!(
        instances.len(),
        3,
        "each process has its own service.instance.id"
    );
    let metric_instances: std::collections::BTreeSet<String> = receiver
        .wait_for_requests(3, WAIT)
        .iter()
        .map(|request| pipetel_tests::resource_attributes(request)["service.instance.id"].clone())
        .collect();
    assert_eq!(
        metric_instances, instances,
        "metrics carry the same instance ids"
    );
}

#[test]
fn traces_exporter_none_keeps_metrics_and_drops_spans() {
    let receiver = Receiver::start();
    run_pipeline(
        &receiver.grpc_endpoint,
        "grpc",
        &[],
        &[("OTEL_TRACES_EXPORTER", "none")],
    );
    check_pipeline_metrics(&receiver);
    assert!(receiver
        .wait_for_spans(1, Duration::from_millis(300))
        .is_empty());
}

#[test]
fn the_sampler_from_the_environment_is_respected() {
    let receiver = Receiver::start();
    run_pipeline(
        &receiver.grpc_endpoint,
        "grpc",
        &[],
        &[("OTEL_TRACES_SAMPLER", "always_off")],
    );
    check_pipeline_metrics(&receiver);
    assert!(receiver
        .wait_for_spans(1, Duration::from_millis(300))
        .is_empty());
}
