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

/// Runs `program` serving `/metrics` (it stays up until its standard input closes),
/// scrapes it until `ready` holds, and returns (status line, body, status line of a
/// request for another path). The wait is bounded only to fail rather than hang: a slow
/// machine gets all the time it needs.
fn scrape(
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
    ready: &str,
) -> (String, String, String) {
    let address = format!("127.0.0.1:{}", closed_port());
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .env("PIPETEL_PROMETHEUS_ADDR", &address)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut scraped = None;
    while Instant::now() < deadline && scraped.is_none() {
        scraped = get(&address, "/metrics").filter(|(_, body)| body.contains(ready));
        std::thread::sleep(Duration::from_millis(100));
    }
    let missing = get(&address, "/other")
        .map(|(status, _)| status)
        .unwrap_or_default();
    drop(child.stdin.take());
    let _ = child.wait();
    let (status, body) = scraped.expect("a scrape with the workload's metrics");
    (status, body, missing)
}

#[test]
fn metrics_are_served_in_the_prometheus_format() {
    let (status, body, missing) = scrape(
        PROGRAM,
        &["--until-stdin-closes"],
        &[],
        "node_type=\"count\"",
    );
    assert!(status.contains("200"), "{status}");
    assert!(missing.contains("404"), "{missing}");
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
    // Per-call distributions are histograms here too: 10,000 ticks, each one call.
    let ticks = scrape
        .samples
        .iter()
        .find(|sample| {
            sample.metric == "pipetel_call_duration_seconds"
                && sample.labels.get("node_type") == Some("count")
        })
        .unwrap_or_else(|| panic!("no call duration histogram in\n{body}"));
    match &ticks.value {
        prometheus_parse::Value::Histogram(buckets) => {
            let all = buckets.iter().map(|b| b.count).fold(0.0, f64::max);
            assert_eq!(all, 10_000.0, "{buckets:?}");
        }
        other => panic!("not a histogram: {other:?}"),
    }
    // The 30 ms the nap slept (the TSC inside, the sleep's clock outside: 1 % apart at most).
    assert!(
        value(
            "pipetel_duration_seconds_total",
            "sleep",
            "instrumented::nap"
        ) >= 0.0297
    );
    // Every operator metric, for every operator, with exactly its labels.
    let series = [
        ("scan", "instrumented::scan"),
        ("filter", "instrumented::keep_even"),
        ("sink", "1"),
        ("sink", "2"),
        ("parse", "instrumented::parse"),
        ("udf", "explode"),
        ("sleep", "instrumented::nap"),
        ("rest", "instrumented::rest"),
        ("count", "instrumented::tick"),
    ];
    let names = [
        "pipetel_rows_in_total",
        "pipetel_rows_out_total",
        "pipetel_rows_written_total",
        "pipetel_bytes_read_bytes_total",
        "pipetel_bytes_written_bytes_total",
        "pipetel_duration_seconds_total",
        "pipetel_task_active",
        "pipetel_task_completed_total",
        "pipetel_task_failed_total",
        "pipetel_task_cancelled_total",
    ];
    for name in names {
        let samples: Vec<_> = scrape
            .samples
            .iter()
            .filter(|sample| sample.metric == name)
            .collect();
        assert_eq!(samples.len(), series.len(), "{name}");
        for (node_type, node_id) in series {
            let sample = samples
                .iter()
                .find(|s| {
                    s.labels.get("node_type") == Some(node_type)
                        && s.labels.get("node_id") == Some(node_id)
                })
                .unwrap_or_else(|| panic!("{name} {node_type} {node_id}"));
            let mut keys: Vec<&str> = sample.labels.keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(keys, ["node_id", "node_type", "otel_scope_name"], "{name}");
        }
    }
    for counter in [
        "pipetel_rows_in_total",
        "pipetel_task_completed_total",
        "pipetel_duration_seconds_total",
    ] {
        assert!(
            body.contains(&format!("# TYPE {counter} counter")),
            "{counter} is a counter:\n{body}"
        );
    }
    assert!(body.contains("# TYPE pipetel_task_active gauge"), "{body}");
    // The wait states: a series per operator and state that is not zero (here, the
    // time `rest` was starved while its nested nap slept).
    let waits: Vec<_> = scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == "pipetel_wait_seconds_total")
        .collect();
    assert_eq!(waits.len(), 1, "{body}");
    let rest_starved = waits
        .iter()
        .find(|s| {
            s.labels.get("node_type") == Some("rest") && s.labels.get("state") == Some("starved")
        })
        .unwrap_or_else(|| panic!("no starved time of rest in\n{body}"));
    assert!(
        matches!(rest_starved.value, prometheus_parse::Value::Counter(v) if v >= 0.0297),
        "{:?}",
        rest_starved.value
    );
}

#[test]
fn an_address_that_cannot_be_bound_or_is_not_one_is_named_and_the_program_completes() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = taken.local_addr().expect("addr").to_string();
    for (address, warning) in [
        (taken.as_str(), format!("PIPETEL_PROMETHEUS_ADDR={taken:?}: cannot listen there")),
        (
            "not-an-address",
            r#"PIPETEL_PROMETHEUS_ADDR="not-an-address" is not host:port (as in 127.0.0.1:9464) or on/off; no /metrics endpoint"#.to_owned(),
        ),
    ] {
        let output = pipetel_tests::run(
            PROGRAM,
            &[],
            &[("PIPETEL_PROMETHEUS_ADDR", address)],
            Duration::from_secs(30),
        );
        assert!(output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("pipetel: warning: {warning}")),
            "{stderr}"
        );
    }
}

#[test]
fn a_lingering_endpoint_serves_the_final_counts_until_scraped_then_exits() {
    let address = format!("127.0.0.1:{}", closed_port());
    let mut child = Command::new(PROGRAM)
        .env("PIPETEL_PROMETHEUS_ADDR", &address)
        .env("PIPETEL_PROMETHEUS_LINGER", "120000")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    // The work ends, and the program stays up for scrapes: the final counts are served.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = None;
    while Instant::now() < deadline {
        if let Some((_, body)) = get(&address, "/metrics") {
            if body.contains("node_type=\"count\"") {
                last = Some(body);
            }
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.try_wait().expect("wait");
    let _ = child.kill();
    assert!(
        status.is_some_and(|status| status.success()),
        "exits once scraped"
    );
    let body = last.expect("a scrape of the final counts");
    assert!(
        body.contains(
            "pipetel_task_completed_total{node_id=\"instrumented::tick\",node_type=\"count\",otel_scope_name=\"pipetel\"} 10000"
        ),
        "{body}"
    );
}

#[test]
fn a_lingering_endpoint_nobody_scrapes_gives_up_after_its_time() {
    let linger = Duration::from_millis(600);
    let started = Instant::now();
    let output = pipetel_tests::run(
        PROGRAM,
        &[],
        &[
            (
                "PIPETEL_PROMETHEUS_ADDR",
                &format!("127.0.0.1:{}", closed_port()),
            ),
            ("PIPETEL_PROMETHEUS_LINGER", &linger.as_millis().to_string()),
        ],
        Duration::from_secs(120),
    );
    assert!(output.status.success());
    assert!(started.elapsed() >= linger, "{:?}", started.elapsed());
}
