//! Collector faults, injected with real loopback servers: down (connection refused),
//! stalled (accepts, never answers) and failing (gRPC `UNAVAILABLE`, HTTP 503), over both
//! protocols. The instrumented pipeline runs as a child process exporting metrics,
//! traces and logs every 50 ms: it must finish its work with its exit status, exit
//! within the shutdown wait, and say so at most once per signal.

use std::process::Output;
use std::sync::atomic::Ordering;
use std::time::Duration;

use pipetel_tests::faults::StallingCollector;
use pipetel_tests::{closed_port, run, run_until, Receiver};

const PIPELINE: &str = env!("CARGO_BIN_EXE_pipeline");
const PROTOCOLS: [&str; 2] = ["grpc", "http/protobuf"];
const SIGNALS: [&str; 3] = ["metrics", "traces", "logs"];

/// Runs the pipeline (two runs, 600 ms apart) against `endpoint`, giving each export
/// 300 ms and shutdown 1 s.
fn run_against(endpoint: &str, protocol: &str) -> Output {
    run_with_export_timeout(endpoint, protocol, "300")
}

/// [`run_against`] with `OTEL_EXPORTER_OTLP_TIMEOUT` set to `export_timeout_ms`. A
/// program that hangs is killed after a minute, and fails the test.
fn run_with_export_timeout(endpoint: &str, protocol: &str, export_timeout_ms: &str) -> Output {
    let env = environment(endpoint, protocol, export_timeout_ms);
    let mut env: Vec<(&str, &str)> = env.to_vec();
    env.push(("LINGER_MS", "600"));
    run(PIPELINE, &[], &env, Duration::from_secs(60))
}

/// The pipeline's environment: every signal to `endpoint` every 50 ms, each export given
/// `export_timeout_ms`, shutdown given 1 s.
fn environment<'a>(
    endpoint: &'a str,
    protocol: &'a str,
    export_timeout_ms: &'a str,
) -> [(&'a str, &'a str); 7] {
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", export_timeout_ms),
        ("OTEL_METRIC_EXPORT_INTERVAL", "50"),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
        ("SHUTDOWN_MS", "1000"),
    ]
}

/// How long the program's telemetry guard took to shut down, as it measured it.
fn shutdown_time(output: &Output) -> Duration {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let ms = stdout
        .lines()
        .find_map(|line| line.strip_prefix("shutdown took ")?.strip_suffix(" ms"))
        .unwrap_or_else(|| panic!("no shutdown time in {stdout}"));
    Duration::from_millis(ms.parse().expect("milliseconds"))
}

/// The pipeline did its work, exited as it would without telemetry, said at most one
/// thing per signal, and did not panic. Returns its warnings.
fn check_unharmed(output: &Output, fault: &str) -> Vec<String> {
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
        let output = run_against(&endpoint, protocol);
        let warnings = check_unharmed(&output, &format!("refused over {protocol}"));
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
        let output = run_against(&collector.endpoint, protocol);
        let warnings = check_unharmed(&output, &format!("stalled over {protocol}"));
        assert!(
            collector.accepted.load(Ordering::Relaxed) >= 1,
            "{protocol}: connected"
        );
        assert!(
            !warnings.is_empty(),
            "{protocol}: a stalled collector is reported: {warnings:#?}"
        );

        // Exports that may wait 20 s: the ones in flight at shutdown are still waiting
        // when the 1 s shutdown wait runs out, and nothing warned before.
        let output = run_with_export_timeout(&collector.endpoint, protocol, "20000");
        let warnings = check_unharmed(&output, &format!("stalled over {protocol}"));
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("did not take the final export within 1s")),
            "{protocol}: the warning says the shutdown wait ran out: {warnings:#?}"
        );
        // The guard stopped waiting before the exports timed out: the 1 s shutdown wait
        // ended it, not the 20 s export timeout.
        let shutdown = shutdown_time(&output);
        assert!(
            shutdown < Duration::from_secs(20),
            "{protocol}: Config::shutdown_timeout bounds the exit: {shutdown:?}"
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
        // Between its two runs the pipeline waits until five exports were refused.
        let mut env = environment(endpoint, protocol, "300").to_vec();
        env.push(("UNTIL_STDIN_CLOSES", "1"));
        let output = run_until(
            PIPELINE,
            &[],
            &env,
            || collector.refused() - before >= 5,
            Duration::from_secs(60),
        );
        let warnings = check_unharmed(&output, &format!("erroring over {protocol}"));
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
