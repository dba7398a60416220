//! End to end: the `instrumented` program runs as a child process with `OTEL_*` set and
//! exports to a real OTLP receiver on 127.0.0.1; the tests check what went over the wire.

use std::collections::BTreeMap;
use std::time::Duration;

use pipetel::names::DurationUnit;
use pipetel_tests::{
    closed_port, histograms, points, resource_attributes, run, run_until, Point, Receiver,
};

const PROGRAM: &str = env!("CARGO_BIN_EXE_instrumented");
const RUN_TIMEOUT: Duration = Duration::from_secs(30);
const WAIT: Duration = Duration::from_secs(5);

/// Counter values the workload produces per `(node.type, node.id)`, in the order
/// rows.in, rows.out, rows.written, bytes.read, bytes.written, task.completed, task.failed.
fn expected_values() -> Vec<((&'static str, &'static str), [i64; 7])> {
    vec![
        (("scan", "instrumented::scan"), [0, 300, 0, 2400, 0, 3, 0]),
        (
            ("filter", "instrumented::keep_even"),
            [300, 150, 0, 0, 0, 3, 0],
        ),
        (("sink", "1"), [150, 0, 150, 0, 1200, 3, 1]),
        (("sink", "2"), [152, 0, 150, 0, 1200, 4, 0]),
        (("parse", "instrumented::parse"), [0, 0, 0, 0, 0, 1, 1]),
        (("udf", "explode"), [0, 0, 0, 0, 0, 3, 1]),
        (("sleep", "instrumented::nap"), [0, 0, 0, 0, 0, 1, 0]),
        (("rest", "instrumented::rest"), [0, 0, 0, 0, 0, 1, 0]),
        (
            ("count", "instrumented::tick"),
            [20000, 20000, 0, 0, 0, 10000, 0],
        ),
    ]
}

const EXACT_COUNTERS: [(&str, &str); 7] = [
    ("rows.in", "{row}"),
    ("rows.out", "{row}"),
    ("rows.written", "{row}"),
    ("bytes.read", "By"),
    ("bytes.written", "By"),
    ("task.completed", "{task}"),
    ("task.failed", "{task}"),
];

/// The points of one metric, keyed by (node.type, node.id).
fn by_node(points: &[Point], name: &str) -> BTreeMap<(String, String), Point> {
    points
        .iter()
        .filter(|point| point.name == name)
        .map(|point| {
            let key = (
                point.attributes["node.type"].clone(),
                point.attributes["node.id"].clone(),
            );
            (key, point.clone())
        })
        .collect()
}

/// Checks that the last export holds exactly the workload's figures under `namespace`,
/// with `duration` in `unit`.
fn assert_exact_export(points: &[Point], namespace: &str, unit: DurationUnit) {
    let expected = expected_values();
    for (index, (suffix, unit)) in EXACT_COUNTERS.iter().enumerate() {
        let name = format!("{namespace}.{suffix}");
        let found = by_node(points, &name);
        let wanted: BTreeMap<(String, String), i64> = expected
            .iter()
            .map(|((node_type, node_id), values)| {
                ((node_type.to_string(), node_id.to_string()), values[index])
            })
            .collect();
        let got: BTreeMap<(String, String), i64> = found
            .iter()
            .map(|(key, point)| (key.clone(), point.value))
            .collect();
        assert_eq!(got, wanted, "{name}");
        for point in found.values() {
            assert_eq!(point.unit, *unit, "{name}");
            assert!(point.monotonic, "{name} is a monotonic sum");
            assert_eq!(
                point.attributes.len(),
                2,
                "{name}: only node.id and node.type"
            );
        }
    }
    let active = by_node(points, &format!("{namespace}.task.active"));
    assert_eq!(active.len(), expected.len());
    for (key, point) in &active {
        assert_eq!(point.value, 0, "task.active of {key:?} after the work");
        assert!(!point.monotonic);
        assert_eq!(point.unit, "{task}");
    }
    let cancelled = by_node(points, &format!("{namespace}.task.cancelled"));
    assert_eq!(cancelled.len(), expected.len());
    assert!(cancelled
        .values()
        .all(|point| point.value == 0 && point.unit == "{task}"));
    // A custom counter, under its own name, for the one operator that counted it.
    let rejected = by_node(points, "instrumented.rejected");
    let sink_1 = ("sink".to_string(), "1".to_string());
    assert_eq!(rejected.keys().collect::<Vec<_>>(), [&sink_1]);
    assert_eq!(rejected[&sink_1].value, 1);
    assert_eq!(rejected[&sink_1].unit, "{batch}");
    let duration = by_node(points, &format!("{namespace}.duration"));
    assert_eq!(duration.len(), expected.len());
    let nap = &duration[&("sleep".to_string(), "instrumented::nap".to_string())];
    // At least the 30 ms slept, and less than the run could last (the test kills it after
    // RUN_TIMEOUT); in the wrong unit, 30 ms would be 30 000 000 (ns) or 30 000 (µs).
    let run = RUN_TIMEOUT.as_secs_f64();
    let (unit, scale) = match unit {
        DurationUnit::Seconds => ("s", 1.0),
        DurationUnit::Microseconds => ("us", 1e6),
    };
    assert_eq!(nap.unit, unit);
    let slept = nap.real / scale;
    assert!((0.0297..run).contains(&slept), "nap slept 30 ms: {slept} s");
    let total: f64 = duration.values().map(|point| point.real / scale).sum();
    assert!(
        total < 3.0 * run,
        "busy time is bounded by the run, on three threads at most: {total} s"
    );
    // The wait states: a point per operator and state that is not zero. Of this
    // workload only `rest` waits (starved, for the nested nap, at least as long as the
    // nap slept).
    let wait: Vec<&Point> = points
        .iter()
        .filter(|point| point.name == format!("{namespace}.wait"))
        .collect();
    assert_eq!(wait.len(), 1, "{wait:#?}");
    let rest = wait[0];
    assert_eq!(
        (
            rest.attributes["node.type"].as_str(),
            rest.attributes["state"].as_str(),
            rest.unit.as_str()
        ),
        ("rest", "starved", unit)
    );
    assert!(rest.monotonic);
    assert_eq!(rest.attributes.len(), 3, "node.id, node.type, state");
    let rested = rest.real / scale;
    assert!(
        rested >= 0.0297 && rested >= slept * 0.99,
        "rest was starved while the nap slept: {rested} s, the nap {slept} s"
    );
    // Progress: only the scan said what to expect (300 rows), and it is done.
    for (suffix, value, unit) in [
        ("progress", 1.0, "1"),
        ("rows.expected", 300.0, "{row}"),
        ("eta", 0.0, "s"),
    ] {
        let name = format!("{namespace}.{suffix}");
        let gauge = by_node(points, &name);
        let scan = ("scan".to_string(), "instrumented::scan".to_string());
        assert_eq!(gauge.keys().collect::<Vec<_>>(), [&scan], "{name}");
        assert_eq!(
            (gauge[&scan].real, gauge[&scan].unit.as_str()),
            (value, unit),
            "{name}"
        );
        assert!(!gauge[&scan].monotonic, "{name} is a gauge");
    }
}

fn run_against(env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let output = run(PROGRAM, args, env, RUN_TIMEOUT);
    assert!(
        output.status.success(),
        "the program failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn last_points(receiver: &Receiver) -> Vec<Point> {
    let requests = receiver.wait_for_requests(1, WAIT);
    points(requests.last().expect("at least one export"))
}

#[test]
fn grpc_export_has_exact_names_units_attributes_and_values() {
    let receiver = Receiver::start();
    let output = run_against(
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", "60000"),
        ],
        &[],
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("metrics enabled: true"));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "", "no warnings");
    // With a 60 s interval the only export is the one made when the guard drops:
    // everything counted before shutdown arrives.
    let requests = receiver.wait_for_requests(1, WAIT);
    assert_eq!(requests.len(), 1, "one export, at shutdown");
    assert_eq!(
        receiver.encodings(),
        ["identity"],
        "uncompressed unless asked"
    );
    assert_exact_export(&points(&requests[0]), "pipetel", DurationUnit::Seconds);
}

#[test]
fn per_call_distributions_are_exported_as_histograms() {
    let receiver = Receiver::start();
    run_against(
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", "60000"),
        ],
        &[],
    );
    let requests = receiver.wait_for_requests(1, WAIT);
    let histograms = histograms(requests.last().expect("an export"));
    let point = |name: &str, node_type: &str| {
        histograms
            .iter()
            .find(|h| h.name == name && h.attributes["node.type"] == node_type)
            .unwrap_or_else(|| panic!("no {name} of {node_type} in {histograms:#?}"))
    };
    // Three scans of 100 rows: three calls, each counted once, in seconds.
    let scan_time = point("pipetel.call.duration", "scan");
    assert_eq!((scan_time.count, scan_time.unit.as_str()), (3, "s"));
    assert!(scan_time.sum > 0.0);
    // Rows per call: exact counts; the sum of bucket starts (100 rows start at 96).
    let scan_rows = point("pipetel.call.rows", "scan");
    assert_eq!((scan_rows.count, scan_rows.unit.as_str()), (3, "{row}"));
    assert!(
        scan_rows.sum <= 300.0 && scan_rows.sum > 0.75 * 300.0,
        "{scan_rows:?}"
    );
}

#[test]
fn http_protobuf_export_has_exact_names_units_attributes_and_values() {
    let receiver = Receiver::start();
    run_against(
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.http_endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "60000"),
        ],
        &[],
    );
    assert_exact_export(&last_points(&receiver), "pipetel", DurationUnit::Seconds);
}

#[test]
fn the_metrics_endpoint_is_used_as_is_and_its_protocol_wins() {
    let receiver = Receiver::start();
    let endpoint = format!("{}/custom/metrics", receiver.http_endpoint);
    run_against(
        &[
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ],
        &[],
    );
    assert_exact_export(&last_points(&receiver), "pipetel", DurationUnit::Seconds);
}

#[test]
fn gzip_compression_works_over_both_protocols() {
    for protocol in ["grpc", "http/protobuf"] {
        let receiver = Receiver::start();
        let endpoint = if protocol == "grpc" {
            &receiver.grpc_endpoint
        } else {
            &receiver.http_endpoint
        };
        let output = run_against(
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ],
            &[],
        );
        assert_eq!(String::from_utf8_lossy(&output.stderr), "", "{protocol}");
        assert_exact_export(&last_points(&receiver), "pipetel", DurationUnit::Seconds);
        assert!(
            receiver
                .encodings()
                .iter()
                .all(|encoding| encoding == "gzip"),
            "{protocol}: {:?}",
            receiver.encodings()
        );
    }
}

#[test]
fn malformed_headers_are_named_without_their_secret_values() {
    let receiver = Receiver::start();
    let output = run_against(
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Bearer s3cret-token,x-tenant=7",
            ),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("pipetel: warning: OTEL_EXPORTER_OTLP_HEADERS (value not shown) has an entry without `=` (entry 1)"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
    assert_exact_export(&last_points(&receiver), "pipetel", DurationUnit::Seconds);
}

#[test]
fn the_namespace_prefixes_every_metric_and_daft_durations_are_in_microseconds() {
    let receiver = Receiver::start();
    run_against(
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint)],
        &["--namespace", "daft", "--duration-microseconds"],
    );
    let points = last_points(&receiver);
    // Process metrics keep their semantic-convention names, the SDK's own (it counts
    // the log records the diagnoses sent) theirs, and custom counters the names they were
    // given; pipetel's own are prefixed.
    assert!(
        points
            .iter()
            .filter(|point| !point.name.starts_with("process.")
                && !point.name.starts_with("otel.sdk.")
                && point.name != "instrumented.rejected")
            .all(|point| point.name.starts_with("daft.")),
        "{:?}",
        points
            .iter()
            .map(|point| &point.name)
            .collect::<std::collections::BTreeSet<_>>()
    );
    assert_exact_export(&points, "daft", DurationUnit::Microseconds);
}

#[test]
fn an_invalid_namespace_is_named_and_the_default_is_used() {
    let receiver = Receiver::start();
    let output = run_against(
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint)],
        &["--namespace", "9 lives"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            r#"pipetel: warning: Config::namespace("9 lives") is not a valid metric name prefix"#
        ),
        "{stderr}"
    );
    assert_exact_export(&last_points(&receiver), "pipetel", DurationUnit::Seconds);
}

#[test]
fn service_name_and_resource_attributes_come_from_the_environment() {
    let receiver = Receiver::start();
    run_against(
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
            ("OTEL_SERVICE_NAME", "orders-engine"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=test,team=data",
            ),
        ],
        &["--service-name", "ignored-default"],
    );
    let requests = receiver.wait_for_requests(1, WAIT);
    let resource = resource_attributes(requests.last().expect("an export"));
    assert_eq!(resource["service.name"], "orders-engine");
    assert_eq!(resource["deployment.environment"], "test");
    assert_eq!(resource["team"], "data");
}

#[test]
fn the_configured_service_name_is_the_default() {
    let receiver = Receiver::start();
    run_against(
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint)],
        &["--service-name", "my-engine"],
    );
    let requests = receiver.wait_for_requests(1, WAIT);
    assert_eq!(
        resource_attributes(requests.last().expect("an export"))["service.name"],
        "my-engine"
    );
}

#[test]
fn exports_happen_every_interval_and_values_are_cumulative() {
    let receiver = Receiver::start();
    // The program stays up after its work until three exports arrived: two or more of
    // them periodic, and later ones repeat the same totals.
    let output = run_until(
        PROGRAM,
        &["--until-stdin-closes"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
        ],
        || receiver.requests().len() >= 3,
        RUN_TIMEOUT,
    );
    assert!(output.status.success(), "{output:?}");
    let requests = receiver.requests();
    assert!(
        requests.len() >= 4,
        "periodic exports every 100 ms, then the final one: {}",
        requests.len()
    );
    let completed = |request| {
        by_node(&points(request), "pipetel.task.completed")
            .into_values()
            .map(|point| point.value)
            .sum::<i64>()
    };
    let last = completed(requests.last().expect("an export"));
    assert_eq!(last, 3 + 3 + 3 + 4 + 1 + 3 + 1 + 1 + 10_000);
    assert!(requests.iter().all(|request| completed(request) <= last));
}

#[test]
fn nothing_is_sent_without_an_endpoint() {
    let receiver = Receiver::start();
    let output = run_against(&[("OTEL_METRIC_EXPORT_INTERVAL", "50")], &[]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("metrics enabled: false"));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert!(receiver.requests().is_empty());
}

#[test]
fn sdk_disabled_and_metrics_exporter_none_turn_export_off() {
    let receiver = Receiver::start();
    for switch in [
        ("OTEL_SDK_DISABLED", "true"),
        ("OTEL_METRICS_EXPORTER", "none"),
    ] {
        let output = run_against(
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
                switch,
            ],
            &[],
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("metrics enabled: false"),
            "{switch:?}"
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(receiver.requests().is_empty());
}

#[test]
fn an_unreachable_endpoint_gives_a_named_warning_and_the_program_completes() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let output = run_against(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(String::from_utf8_lossy(&output.stdout).contains("done: 300 rows written"));
    let expected = format!(
        "pipetel: warning: metrics export to OTEL_EXPORTER_OTLP_ENDPOINT={endpoint} failed"
    );
    assert!(stderr.contains(&expected), "{stderr}");
    // One warning per signal that tried (metrics; logs, for the diagnoses' log records),
    // however many exports failed.
    for signal in ["metrics", "logs", "traces"] {
        assert!(
            stderr
                .matches(&format!("pipetel: warning: {signal} export"))
                .count()
                <= 1,
            "{stderr}"
        );
    }
    assert_eq!(
        stderr.matches("pipetel: warning").count(),
        stderr.matches(" export to ").count(),
        "only export warnings: {stderr}"
    );
}

#[test]
fn failing_exports_are_a_diagnosis_in_the_report() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let report = std::env::temp_dir().join(format!(
        "pipetel-export-diagnosis-{}.json",
        std::process::id()
    ));
    // The flush fails before the report is written, at the guard's drop.
    run_against(
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("PIPETEL_REPORT", report.to_str().expect("utf-8")),
        ],
        &["--flush"],
    );
    let json = std::fs::read_to_string(&report).expect("the report");
    let _ = std::fs::remove_file(&report);
    let snapshot: pipetel::snapshot::Snapshot = serde_json::from_str(&json).expect("a snapshot");
    let failing: Vec<_> = snapshot
        .diagnoses
        .iter()
        .filter(|d| d.kind == pipetel::diagnose::DiagnosisKind::ExportFailing)
        .collect();
    assert_eq!(failing.len(), 1, "{:#?}", snapshot.diagnoses);
    let message = &failing[0].message;
    assert!(message.starts_with("exports failing: "), "{message}");
    assert!(
        message.contains(&format!(
            "export to OTEL_EXPORTER_OTLP_ENDPOINT={endpoint} failed"
        )),
        "{message}"
    );
}

#[test]
fn a_protocol_that_does_not_match_the_server_gives_a_named_warning() {
    let receiver = Receiver::start();
    let output = run_against(
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "pipetel: warning: metrics export to OTEL_EXPORTER_OTLP_ENDPOINT={} failed",
        receiver.grpc_endpoint
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("done: 300 rows written"));
}

#[test]
fn an_unknown_protocol_is_named_and_grpc_is_used() {
    let receiver = Receiver::start();
    let output = run_against(
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#"pipetel: warning: OTEL_EXPORTER_OTLP_PROTOCOL="carrier-pigeon" is not a known protocol"#),
        "{stderr}"
    );
    assert_exact_export(&last_points(&receiver), "pipetel", DurationUnit::Seconds);
}

#[test]
fn a_malformed_endpoint_is_named_and_the_program_completes() {
    let output = run_against(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317")], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            r#"pipetel: warning: OTEL_EXPORTER_OTLP_ENDPOINT="localhost:4317" has no scheme"#
        ),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("metrics enabled: false"));
}
