//! pipetel built without its default `enabled` feature: `tests/feature-off`, a program
//! using every attribute and API, is built in a workspace of its own (in this one,
//! feature unification would turn `enabled` back on) and run with an OTLP endpoint, a
//! report and progress asked for — it must behave as written and send, print and
//! record nothing. Beside it, `tests/feature-off/stream-off` must fail to compile, with
//! the error naming the `stream` feature.

use std::path::Path;
use std::time::Duration;

use pipetel_tests::{run, Receiver};

#[test]
fn a_program_built_without_the_enabled_feature_runs_and_records_nothing() {
    let receiver = Receiver::start();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifest = root.join("tests/feature-off/Cargo.toml");
    let target = root.join("target/feature-off");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let endpoint = receiver.grpc_endpoint.clone();
    let output = run(
        &cargo,
        &[
            "run",
            "--quiet",
            "--locked",
            "--manifest-path",
            manifest.to_str().expect("utf-8 path"),
        ],
        &[
            ("CARGO_TARGET_DIR", target.to_str().expect("utf-8 path")),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", "50"),
            ("PIPETEL_REPORT", "stderr"),
            ("PIPETEL_PROGRESS", "1"),
            ("OTEL_SERVICE_NAME", "feature-off"),
        ],
        Duration::from_secs(900),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("nothing was recorded"),
        "the program's own checks ran: {stdout}\n{stderr}"
    );
    assert!(
        !stderr.contains("pipetel"),
        "no warning, report or progress without the feature: {stderr}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(receiver.requests().is_empty(), "no metrics exported");
    assert!(
        receiver
            .wait_for_spans(1, Duration::from_millis(200))
            .is_empty(),
        "no spans exported"
    );
}

#[test]
fn a_stream_operator_without_the_stream_feature_fails_naming_the_feature() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifest = root.join("tests/feature-off/stream-off/Cargo.toml");
    let target = root.join("target/feature-off");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = run(
        &cargo,
        &[
            "build",
            "--locked",
            "--manifest-path",
            manifest.to_str().expect("utf-8 path"),
        ],
        &[("CARGO_TARGET_DIR", target.to_str().expect("utf-8 path"))],
        Duration::from_secs(900),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it must not compile: {stderr}");
    assert!(
        stderr.contains(
            "error[E0277]: `#[operator]` on a function returning `impl Stream` needs pipetel's `stream` feature"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("stream-off/src/main.rs:19:1"),
        "points at the attribute: {stderr}"
    );
    assert!(
        stderr.contains("add `features = [\"stream\"]` to the `pipetel` dependency"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("error[").count(),
        1,
        "one error only: {stderr}"
    );
}
