//! The Prometheus pull endpoint: the `instrumented` program with `PIPETEL_PROMETHEUS_ADDR`
//! set serves `/metrics`; the scrape, parsed, holds every operator metric with the
//! Prometheus names, types and labels, and the workload's values.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pipetel_tests::closed_port;

const PROGRAM: &str = env!("CARGO_BIN_EXE_instrumented");

/// `GET path` over HTTP/1.0: (status line, body).
fn get(address: &str, path: &str) -> Option<(String, String)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

#[test]
fn metrics_are_served_in_the_prometheus_format() {
    let address = format!("127.0.0.1:{}", closed_port());
    let mut child = Command::new(PROGRAM)
        .args(["--linger-ms", "4000"])
        .env("PIPETEL_PROMETHEUS_ADDR", &address)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut scraped = None;
    while Instant::now() < deadline {
        if let Some((status, body)) = get(&address, "/metrics") {
            if body.contains("pipetel_task_completed_total{")
                && body.contains("node_type=\"count\"")
            {
                scraped = Some((status, body));
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, body) = scraped.expect("a scrape with the workload's metrics");
    assert!(status.contains("200"), "{status}");
    let missing = get(&address, "/other").expect("a response");
    assert!(missing.0.contains("404"), "{}", missing.0);
    let _ = child.kill();
    let _ = child.wait();

    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|line| Ok(line.to_owned())))
        .expect("parse");
    let value = |name: &str, node_type: &str, node_id: &str| {
        scrape
            .samples
            .iter()
            .find(|sample| {
                sample.metric == name
                    && sample.labels.get("node_type") == Some(node_type)
                    && sample.labels.get("node_id") == Some(node_id)
            })
            .map(|sample| match sample.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                ref other => panic!("{name}: {other:?}"),
            })
            .unwrap_or_else(|| panic!("no {name} for {node_type} {node_id} in\n{body}"))
    };
    assert_eq!(
        value("pipetel_rows_in_total", "filter", "instrumented::keep_even"),
        300.0
    );
    assert_eq!(
        value(
            "pipetel_rows_out_total",
            "filter",
            "instrumented::keep_even"
        ),
        150.0
    );
    assert_eq!(value("pipetel_rows_written_total", "sink", "1"), 150.0);
    assert_eq!(
        value(
            "pipetel_bytes_read_bytes_total",
            "scan",
            "instrumented::scan"
        ),
        2400.0
    );
    assert_eq!(
        value(
            "pipetel_task_completed_total",
            "count",
            "instrumented::tick"
        ),
        10_000.0
    );
    assert_eq!(value("pipetel_task_failed_total", "udf", "explode"), 1.0);
    assert_eq!(value("pipetel_task_active", "sink", "2"), 0.0);
    assert!(
        value(
            "pipetel_duration_microseconds_total",
            "sleep",
            "instrumented::nap"
        ) >= 30_000.0
    );
    for counter in [
        "pipetel_rows_in_total",
        "pipetel_task_completed_total",
        "pipetel_duration_microseconds_total",
    ] {
        assert!(
            body.contains(&format!("# TYPE {counter} counter")),
            "{counter} is a counter:\n{body}"
        );
    }
    assert!(body.contains("# TYPE pipetel_task_active gauge"), "{body}");
}

#[test]
fn an_address_that_cannot_be_bound_is_named_and_the_program_completes() {
    let output = pipetel_tests::run(
        PROGRAM,
        &[],
        &[("PIPETEL_PROMETHEUS_ADDR", "not-an-address")],
        Duration::from_secs(30),
    );
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            r#"pipetel: warning: PIPETEL_PROMETHEUS_ADDR="not-an-address": cannot listen there"#
        ),
        "{stderr}"
    );
}
