//! `https://` endpoints over both protocols against the test receiver speaking TLS with
//! a certificate authority generated here: the CA given in
//! `OTEL_EXPORTER_OTLP_CERTIFICATE` makes every signal arrive; without it the
//! collector's certificate is refused (one warning per signal, the program unharmed);
//! a receiver that requires client certificates gets one from
//! `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` / `OTEL_EXPORTER_OTLP_CLIENT_KEY`.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use pipetel_tests::tls::TestPki;
use pipetel_tests::{run, Receiver};

const PIPELINE: &str = env!("CARGO_BIN_EXE_pipeline");

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pipetel-tls-{name}-{}", std::process::id()))
}

fn endpoints(receiver: &Receiver) -> [(&'static str, String); 2] {
    [
        ("grpc", receiver.grpc_endpoint.clone()),
        ("http/protobuf", receiver.http_endpoint.clone()),
    ]
}

fn run_pipeline(endpoint: &str, protocol: &str, extra: &[(&str, &str)]) -> Output {
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("SHUTDOWN_MS", "2000"),
    ];
    env.extend_from_slice(extra);
    run(PIPELINE, &[], &env, Duration::from_secs(30))
}

fn assert_everything_arrived(receiver: &Receiver, protocol: &str, output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{protocol}: {stderr}");
    assert!(
        stderr.is_empty(),
        "{protocol}: no warning over TLS: {stderr}"
    );
    assert!(
        receiver.wait_for_spans(8, Duration::from_secs(5)).len() >= 8,
        "{protocol}: spans"
    );
    assert!(
        !receiver.wait_for_logs(1, Duration::from_secs(5)).is_empty(),
        "{protocol}: logs"
    );
    assert!(!receiver.requests().is_empty(), "{protocol}: metrics");
}

#[test]
fn https_endpoints_work_over_both_protocols_with_the_ca_from_the_environment() {
    let pki = TestPki::generate();
    let (ca, _, _) = pki.write_client_files(&scratch("server"));
    for protocol in ["grpc", "http/protobuf"] {
        let receiver = Receiver::start_tls(&pki, false);
        let endpoint = endpoints(&receiver)
            .into_iter()
            .find(|(p, _)| *p == protocol)
            .map(|(_, e)| e)
            .expect("endpoint");
        assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
        let output = run_pipeline(
            &endpoint,
            protocol,
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.to_str().expect("path"))],
        );
        assert_everything_arrived(&receiver, protocol, &output);
    }
}

#[test]
fn without_the_ca_the_collector_is_refused_once_per_signal_and_the_program_runs_on() {
    let pki = TestPki::generate();
    let receiver = Receiver::start_tls(&pki, false);
    for (protocol, endpoint) in endpoints(&receiver) {
        let output = run_pipeline(&endpoint, protocol, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{protocol}: {stderr}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("first run: Ok(3)"), "{stdout}");
        for signal in ["metrics", "traces", "logs"] {
            let about = stderr
                .lines()
                .filter(|line| line.starts_with(&format!("pipetel: warning: {signal}")))
                .count();
            assert_eq!(about, 1, "{protocol}: one warning about {signal}: {stderr}");
        }
        if protocol == "http/protobuf" {
            assert!(
                stderr.contains("is the collector's CA in OTEL_EXPORTER_OTLP_CERTIFICATE?"),
                "the HTTP exporter's bare `network error` gets a hint: {stderr}"
            );
        }
    }
    assert!(
        receiver.requests().is_empty(),
        "nothing got through without trust"
    );
}

#[test]
fn client_certificates_from_the_environment_satisfy_a_receiver_that_requires_them() {
    let pki = TestPki::generate();
    let (ca, certificate, key) = pki.write_client_files(&scratch("client"));
    let files = [
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.to_str().expect("path")),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            certificate.to_str().expect("path"),
        ),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", key.to_str().expect("path")),
    ];
    for protocol in ["grpc", "http/protobuf"] {
        let receiver = Receiver::start_tls(&pki, true);
        let endpoint = endpoints(&receiver)
            .into_iter()
            .find(|(p, _)| *p == protocol)
            .map(|(_, e)| e)
            .expect("endpoint");
        let refused = run_pipeline(&endpoint, protocol, &files[..1]);
        assert!(refused.status.success());
        assert!(
            !refused.stderr.is_empty(),
            "{protocol}: without a client certificate the receiver refuses"
        );
        assert!(receiver.requests().is_empty());
        let output = run_pipeline(&endpoint, protocol, &files);
        assert_everything_arrived(&receiver, protocol, &output);
    }
}
