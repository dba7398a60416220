//! The bad-environment table: every bad value of an `OTEL_*` variable (or of
//! `TRACEPARENT`), set on the instrumented pipeline run as a child process, gives
//! exactly one warning naming the variable and the value — never a header value — and
//! leaves the program's work, output and exit status as they are without it.

use std::process::Output;
use std::time::Duration;

use pipetel_tests::tls::TestPki;
use pipetel_tests::{run, Receiver};

const PIPELINE: &str = env!("CARGO_BIN_EXE_pipeline");

/// The placeholders in the table: the test's receiver over gRPC and HTTP, its TLS twin
/// over gRPC, the CA file that twin's certificate comes from, a client key, and a file
/// that holds a certificate where a key belongs.
const RECEIVER: &str = "<receiver>";
const RECEIVER_HTTP: &str = "<receiver-http>";
const RECEIVER_TLS: &str = "<receiver-tls>";
const CA: &str = "<ca>";
const KEY: &str = "<key>";
const NOT_A_KEY: &str = "<not-a-key>";

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
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", RECEIVER_TLS),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", CA),
            (
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                "/nonexistent/client.pem",
            ),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", KEY),
        ],
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        Some("/nonexistent/client.pem"),
    ),
    (
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", RECEIVER_TLS),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", CA),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", CA),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", NOT_A_KEY),
        ],
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        Some("not-a-key.pem"),
    ),
    (
        &[ENDPOINT, ("OTEL_BLRP_MAX_QUEUE_SIZE", "lots")],
        "OTEL_BLRP_MAX_QUEUE_SIZE",
        Some("lots"),
    ),
];

/// The receivers and files the placeholders stand for.
struct World {
    receiver: Receiver,
    tls_receiver: Receiver,
    ca: String,
    key: String,
    not_a_key: String,
}

impl World {
    fn start() -> World {
        let pki = TestPki::generate();
        let dir = std::env::temp_dir().join(format!("pipetel-bad-env-{}", std::process::id()));
        let (ca, _, key) = pki.write_client_files(&dir);
        let not_a_key = dir.join("not-a-key.pem");
        std::fs::write(&not_a_key, &pki.ca).expect("write");
        let text = |path: std::path::PathBuf| path.to_str().expect("utf-8 path").to_owned();
        World {
            receiver: Receiver::start(),
            tls_receiver: Receiver::start_tls(&pki, false),
            ca: text(ca),
            key: text(key),
            not_a_key: text(not_a_key),
        }
    }
}

fn run_with(world: &World, vars: &[(&str, &str)]) -> Output {
    let vars: Vec<(&str, &str)> = vars
        .iter()
        .map(|&(name, value)| match value {
            RECEIVER => (name, world.receiver.grpc_endpoint.as_str()),
            RECEIVER_HTTP => (name, world.receiver.http_endpoint.as_str()),
            RECEIVER_TLS => (name, world.tls_receiver.grpc_endpoint.as_str()),
            CA => (name, world.ca.as_str()),
            KEY => (name, world.key.as_str()),
            NOT_A_KEY => (name, world.not_a_key.as_str()),
            _ => (name, value),
        })
        .chain([("EXIT_CODE", "3")])
        .collect();
    run(PIPELINE, &[], &vars, Duration::from_secs(30))
}

/// What the program printed of its work (not the time its shutdown took, which varies).
fn program_output(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.starts_with("shutdown took "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_bad_value_gives_one_named_warning_and_changes_nothing_else() {
    assert!(CASES.len() >= 15);
    let world = World::start();
    let baseline = run_with(&world, &[ENDPOINT]);
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
        let output = run_with(&world, vars);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let case = format!("{vars:?}");
        assert_eq!(
            output.status.code(),
            Some(3),
            "{case}: exit status\n{stderr}"
        );
        assert_eq!(
            program_output(&output),
            program_output(&baseline),
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
        // The guard's Debug says where each signal goes, with the password hidden.
        let shown = pipetel_tests::redacted(&endpoint);
        assert!(
            stdout.contains(&format!(
                "metrics: Some(\"OTEL_EXPORTER_OTLP_ENDPOINT={shown}\")"
            )),
            "{protocol}: Debug output: {stdout}"
        );
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
