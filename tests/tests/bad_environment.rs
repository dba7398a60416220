//! The bad-environment table: every bad value of an `OTEL_*` variable (or of
//! `TRACEPARENT`), set on the instrumented pipeline run as a child process, gives
//! exactly one warning naming the variable and the value — never a header value — and
//! leaves the program's work, output and exit status as they are without it.

use std::process::Output;
use std::time::Duration;

use pipetel_tests::{run, Receiver};

const PIPELINE: &str = env!("CARGO_BIN_EXE_pipeline");

/// The endpoint placeholders in the table: the test's receiver, over gRPC and HTTP.
const RECEIVER: &str = "<receiver>";
const RECEIVER_HTTP: &str = "<receiver-http>";

/// `(variables, the variable at fault, the value the warning shows)`; a value of
/// `None` must not appear in the warning at all.
type Case = (
    &'static [(&'static str, &'static str)],
    &'static str,
    Option<&'static str>,
);

const ENDPOINT: (&str, &str) = ("OTEL_EXPORTER_OTLP_ENDPOINT", RECEIVER);

const CASES: &[Case] = &[
    (
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317")],
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        Some("localhost:4317"),
    ),
    (
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://127.0.0.1:21")],
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        Some("ftp://127.0.0.1:21"),
    ),
    (
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://")],
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        Some("http://"),
    ),
    (
        &[
            ENDPOINT,
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://[::1"),
        ],
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        Some("http://[::1"),
    ),
    (
        &[ENDPOINT, ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")],
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        Some("carrier-pigeon"),
    ),
    (
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", RECEIVER_HTTP),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ],
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        Some("http/json"),
    ),
    (
        &[ENDPOINT, ("OTEL_METRIC_EXPORT_INTERVAL", "-5")],
        "OTEL_METRIC_EXPORT_INTERVAL",
        Some("-5"),
    ),
    (
        &[ENDPOINT, ("OTEL_METRIC_EXPORT_INTERVAL", "0")],
        "OTEL_METRIC_EXPORT_INTERVAL",
        Some("0"),
    ),
    (
        &[
            ENDPOINT,
            ("OTEL_METRIC_EXPORT_INTERVAL", "99999999999999999999999"),
        ],
        "OTEL_METRIC_EXPORT_INTERVAL",
        Some("99999999999999999999999"),
    ),
    (
        &[ENDPOINT, ("OTEL_METRIC_EXPORT_INTERVAL", "fast")],
        "OTEL_METRIC_EXPORT_INTERVAL",
        Some("fast"),
    ),
    (
        &[
            ENDPOINT,
            ("OTEL_EXPORTER_OTLP_HEADERS", "Bearer s3cret-token"),
        ],
        "OTEL_EXPORTER_OTLP_HEADERS",
        None,
    ),
    (
        &[
            ENDPOINT,
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=s3cret-token,bad key=s3cret-token",
            ),
        ],
        "OTEL_EXPORTER_OTLP_HEADERS",
        None,
    ),
    (
        &[ENDPOINT, ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli")],
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        Some("brotli"),
    ),
    (
        &[ENDPOINT, ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon")],
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        Some("soon"),
    ),
    (
        &[ENDPOINT, ("TRACEPARENT", "00-not-a-trace-01")],
        "TRACEPARENT",
        Some("00-not-a-trace-01"),
    ),
    (
        &[ENDPOINT, ("OTEL_RESOURCE_ATTRIBUTES", "team=etl,nightly")],
        "OTEL_RESOURCE_ATTRIBUTES",
        Some("team=etl,nightly"),
    ),
    (
        &[ENDPOINT, ("OTEL_TRACES_SAMPLER", "sometimes")],
        "OTEL_TRACES_SAMPLER",
        Some("sometimes"),
    ),
    (
        &[
            ENDPOINT,
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ],
        "OTEL_TRACES_SAMPLER_ARG",
        Some("1.5"),
    ),
    (
        &[ENDPOINT, ("OTEL_SDK_DISABLED", "yes")],
        "OTEL_SDK_DISABLED",
        Some("yes"),
    ),
    (
        &[ENDPOINT, ("OTEL_METRICS_EXPORTER", "prometheus")],
        "OTEL_METRICS_EXPORTER",
        Some("prometheus"),
    ),
    (
        &[ENDPOINT, ("OTEL_BSP_SCHEDULE_DELAY", "-1")],
        "OTEL_BSP_SCHEDULE_DELAY",
        Some("-1"),
    ),
    (
        &[ENDPOINT, ("OTEL_BLRP_MAX_QUEUE_SIZE", "lots")],
        "OTEL_BLRP_MAX_QUEUE_SIZE",
        Some("lots"),
    ),
];

fn run_with(receiver: &Receiver, vars: &[(&str, &str)]) -> Output {
    let vars: Vec<(&str, &str)> = vars
        .iter()
        .map(|&(name, value)| match value {
            RECEIVER => (name, receiver.grpc_endpoint.as_str()),
            RECEIVER_HTTP => (name, receiver.http_endpoint.as_str()),
            _ => (name, value),
        })
        .chain([("EXIT_CODE", "3")])
        .collect();
    run(PIPELINE, &[], &vars, Duration::from_secs(30))
}

#[test]
fn every_bad_value_gives_one_named_warning_and_changes_nothing_else() {
    assert!(CASES.len() >= 15);
    let receiver = Receiver::start();
    let baseline = run_with(&receiver, &[ENDPOINT]);
    assert_eq!(
        baseline.status.code(),
        Some(3),
        "the program's own exit status"
    );
    assert!(
        baseline.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&baseline.stderr)
    );

    for (vars, variable, value) in CASES {
        let output = run_with(&receiver, vars);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let case = format!("{vars:?}");
        assert_eq!(
            output.status.code(),
            Some(3),
            "{case}: exit status\n{stderr}"
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&baseline.stdout),
            "{case}: the program's output"
        );
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{case}: exactly one line on stderr: {stderr}"
        );
        let warning = lines[0];
        assert!(
            warning.starts_with("pipetel: warning: "),
            "{case}: {warning}"
        );
        assert!(
            warning.contains(variable),
            "{case}: names {variable}: {warning}"
        );
        match value {
            Some(value) => assert!(warning.contains(value), "{case}: shows {value}: {warning}"),
            None => assert!(
                !warning.contains("s3cret"),
                "{case}: a header value leaked: {warning}"
            ),
        }
    }
}

#[test]
fn header_values_and_endpoint_passwords_never_appear_in_output_warnings_or_exports() {
    let secret = "s3cret-token-42";
    let headers = format!("authorization=Bearer {secret},x-tenant={secret}");
    let receiver = Receiver::start();
    let refused = format!(
        "http://etl:{secret}@127.0.0.1:{}",
        pipetel_tests::closed_port()
    );
    for (endpoint, protocol) in [
        (receiver.grpc_endpoint.clone(), "grpc"),
        (receiver.http_endpoint.clone(), "http/protobuf"),
        (refused.clone(), "grpc"),
        (refused, "http/protobuf"),
    ] {
        let output = run(
            PIPELINE,
            &[],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_EXPORTER_OTLP_HEADERS", &headers),
                ("PRINT_DEBUG", "1"),
            ],
            Duration::from_secs(30),
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(stdout.contains("telemetry: Telemetry"), "{stdout}");
        assert!(
            !stdout.contains(secret),
            "{protocol}: Debug output: {stdout}"
        );
        assert!(!stderr.contains(secret), "{protocol}: warnings: {stderr}");
    }
    let logs = receiver.wait_for_logs(2, Duration::from_secs(5));
    assert!(!logs.is_empty(), "log records arrived");
    assert!(!format!("{logs:?}").contains(secret));
    let spans = receiver.wait_for_spans(8, Duration::from_secs(5));
    assert!(!spans.is_empty(), "spans arrived");
    assert!(!format!("{spans:?}").contains(secret));
    assert!(!format!("{:?}", receiver.requests()).contains(secret));
}
