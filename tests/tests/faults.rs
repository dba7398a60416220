//! Collector faults, injected with real loopback servers: down (connection refused),
//! stalled (accepts, never answers) and failing (gRPC `UNAVAILABLE`, HTTP 503), over both
//! protocols. The instrumented pipeline runs as a child process exporting metrics,
//! traces and logs every 50 ms: it must finish its work with its exit status, exit
//! within the shutdown wait, and say so at most once per signal.

use std::process::Output;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pipetel_tests::faults::StallingCollector;
use pipetel_tests::{closed_port, run, Receiver};

const PIPELINE: &str = env!("CARGO_BIN_EXE_pipeline");
const PROTOCOLS: [&str; 2] = ["grpc", "http/protobuf"];
const SIGNALS: [&str; 3] = ["metrics", "traces", "logs"];

/// Runs the pipeline (two runs, 600 ms apart) against `endpoint`, giving each export
/// 300 ms and shutdown 1 s.
fn run_against(endpoint: &str, protocol: &str) -> (Output, Duration) {
    run_with_export_timeout(endpoint, protocol, "300")
}

/// [`run_against`] with `OTEL_EXPORTER_OTLP_TIMEOUT` set to `export_timeout_ms`.
fn run_with_export_timeout(
    endpoint: &str,
    protocol: &str,
    export_timeout_ms: &str,
) -> (Output, Duration) {
    let started = Instant::now();
    let output = run(
        PIPELINE,
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", export_timeout_ms),
            ("OTEL_METRIC_EXPORT_INTERVAL", "50"),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
            ("LINGER_MS", "600"),
            ("SHUTDOWN_MS", "1000"),
        ],
        Duration::from_secs(30),
    );
    (output, started.elapsed())
}

/// The pipeline did its work, exited as it would without telemetry, said at most one
/// thing per signal, and did not panic. Returns its warnings.
fn check_unharmed(output: &Output, elapsed: Duration, fault: &str) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{fault}: exit {:?}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("first run: Ok(3)"), "{fault}: {stdout}");
    assert!(
        stdout.contains("second run: Err(\"a row is not a number\")"),
        "{fault}: {stdout}"
    );
    assert!(!stderr.contains("panicked"), "{fault}: {stderr}");
    assert!(
        elapsed < Duration::from_secs(8),
        "{fault}: 0.6 s of work and a 1 s shutdown wait took {elapsed:?}\n{stderr}"
    );
    let warnings: Vec<String> = stderr
        .lines()
        .filter(|line| line.starts_with("pipetel: warning:"))
        .map(str::to_owned)
        .collect();
    for signal in SIGNALS {
        let about: Vec<_> = warnings
            .iter()
            .filter(|line| {
                let subject = line["pipetel: warning: ".len()..]
                    .split([':', ' '])
                    .collect::<Vec<_>>();
                subject
                    .iter()
                    .take_while(|word| !word.is_empty())
                    .any(|word| word.trim_end_matches(',') == signal)
            })
            .collect();
        assert!(
            about.len() <= 1,
            "{fault}: at most one warning about {signal}, got {about:#?}"
        );
    }
    assert!(
        stderr
            .lines()
            .all(|line| line.starts_with("pipetel: warning:")),
        "{fault}: nothing else on stderr: {stderr}"
    );
    warnings
}

#[test]
fn a_collector_that_is_down_costs_one_warning_per_signal() {
    for protocol in PROTOCOLS {
        let endpoint = format!("http://127.0.0.1:{}", closed_port());
        let (output, elapsed) = run_against(&endpoint, protocol);
        let warnings = check_unharmed(&output, elapsed, &format!("refused over {protocol}"));
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("metrics export to") && w.contains(&endpoint)),
            "{protocol}: the failing export names the endpoint: {warnings:#?}"
        );
    }
}

#[test]
fn a_collector_that_never_answers_delays_exit_by_the_shutdown_wait_at_most() {
    for protocol in PROTOCOLS {
        let collector = StallingCollector::start();
        let (output, elapsed) = run_against(&collector.endpoint, protocol);
        let warnings = check_unharmed(&output, elapsed, &format!("stalled over {protocol}"));
        assert!(
            collector.accepted.load(Ordering::Relaxed) >= 1,
            "{protocol}: connected"
        );
        assert!(
            !warnings.is_empty(),
            "{protocol}: a stalled collector is reported: {warnings:#?}"
        );

        // Exports that may wait 10 s: the ones in flight at shutdown are still waiting
        // when the 1 s shutdown wait runs out, and nothing warned before.
        let (output, elapsed) = run_with_export_timeout(&collector.endpoint, protocol, "10000");
        let warnings = check_unharmed(&output, elapsed, &format!("stalled over {protocol}"));
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("did not take the final export within 1s")),
            "{protocol}: the warning says the shutdown wait ran out: {warnings:#?}"
        );
        // 0.6 s of work and the 1 s wait; the default wait (5 s) would take longer.
        assert!(
            elapsed < Duration::from_secs(4),
            "{protocol}: Config::shutdown_timeout bounds the exit: {elapsed:?}"
        );
    }
}

#[test]
fn a_collector_answering_with_errors_is_reported_once_not_once_per_export() {
    let collector = Receiver::start_refusing();
    for (protocol, endpoint) in [
        ("grpc", &collector.grpc_endpoint),
        ("http/protobuf", &collector.http_endpoint),
    ] {
        let before = collector.refused();
        let (output, elapsed) = run_against(endpoint, protocol);
        let warnings = check_unharmed(&output, elapsed, &format!("erroring over {protocol}"));
        let refused = collector.refused() - before;
        assert!(
            refused >= 5,
            "{protocol}: exports kept being tried ({refused}) while the warnings stayed few"
        );
        assert!(
            warnings.iter().any(|w| w.contains("metrics export to")),
            "{protocol}: {warnings:#?}"
        );
    }
}
