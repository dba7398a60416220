//! Tagged logs end to end (`tests/src/bin/process_lines.rs`, exporting to a real OTLP
//! receiver): the events of an operator that logs, and every line of a child process an
//! operator starts — 1 MiB on stdout, lines on stderr — arrive as log records tagged with
//! that operator, in order per stream, while the child still runs; the program's exit
//! status is its own.

use std::time::{Duration, Instant};

use pipetel_tests::{start, wait_for_exit, watch_stderr, LogRecord, Receiver};

const PROGRAM: &str = env!("CARGO_BIN_EXE_process_lines");
/// Bounds every wait: a loaded machine waits longer, a hang fails.
const PATIENCE: Duration = Duration::from_secs(120);
const STDOUT_LINES: usize = 8_192;

fn bodies<'r>(logs: &'r [LogRecord], stream: &str) -> Vec<&'r str> {
    logs.iter()
        .filter(|log| log.attributes.get("log.iostream").map(String::as_str) == Some(stream))
        .map(|log| log.body.as_str())
        .collect()
}

#[test]
fn a_childs_lines_and_an_operators_events_arrive_tagged_while_the_child_runs() {
    let receiver = Receiver::start();
    let dir = std::env::temp_dir().join(format!("pipetel-process-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let go = dir.join("go");
    let mut child = start(
        PROGRAM,
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint),
            ("OTEL_BLRP_SCHEDULE_DELAY", "100"),
            ("PROCESS_LINES_GO", go.to_str().expect("utf-8")),
        ],
    );
    // Read as it comes: the program echoes 1 MiB there, more than a pipe holds.
    let (_, echoed) = watch_stderr(&mut child, "");

    // The child waits for `go` after `ready`: its lines so far arrive meanwhile.
    let deadline = Instant::now() + PATIENCE;
    let early = loop {
        let logs = receiver.wait_for_logs(0, Duration::ZERO);
        if logs.iter().any(|log| log.body == "ready") || Instant::now() >= deadline {
            break logs;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        early.iter().any(|log| log.body == "ready"),
        "the child's lines did not arrive while it ran: {} records",
        early.len()
    );
    assert!(!early.iter().any(|log| log.body == "bye"));
    std::fs::write(&go, b"").expect("let the child finish");

    let output = wait_for_exit(child, PATIENCE);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let echoed = echoed.join().expect("stderr read");
    assert!(output.status.success(), "{}", echoed.join("\n"));
    assert!(stdout.contains("child exited: exit status: 0"), "{stdout}");

    // 8,192 + 2 stdout lines, 10 stderr lines, 3 events.
    let logs = receiver.wait_for_logs(STDOUT_LINES + 2 + 10 + 3, PATIENCE);
    let mut expected: Vec<String> = (0..STDOUT_LINES)
        .map(|n| format!("out {n:05} {}", "x".repeat(128 - 11)))
        .collect();
    expected.extend(["ready".to_owned(), "bye".to_owned()]);
    let out = bodies(&logs, "stdout");
    assert_eq!(out.len(), expected.len());
    assert!(
        out.iter().zip(&expected).all(|(got, want)| got == want),
        "stdout out of order"
    );
    let err = bodies(&logs, "stderr");
    let expected: Vec<String> = (0..10).map(|n| format!("err {n}")).collect();
    assert_eq!(err, expected);
    for log in logs
        .iter()
        .filter(|log| log.attributes.contains_key("log.iostream"))
    {
        assert_eq!(log.attributes["node.id"], "chatty", "{log:?}");
        assert_eq!(log.attributes["node.type"], "udf", "{log:?}");
        assert!(
            log.attributes["process.pid"].parse::<u32>().is_ok(),
            "{log:?}"
        );
    }
    let talks: Vec<&LogRecord> = logs.iter().filter(|log| log.body == "talking").collect();
    assert_eq!(talks.len(), 3);
    for log in talks {
        assert_eq!(log.attributes["node.id"], "talker", "{log:?}");
        assert_eq!(log.attributes["node.type"], "logging", "{log:?}");
    }
    // Echoed on the program's stderr, each line prefixed with its operator and stream.
    assert!(
        echoed
            .iter()
            .any(|line| line == "[udf chatty stderr] err 3"),
        "{echoed:?}"
    );
    assert!(echoed
        .iter()
        .any(|line| line == "[udf chatty stdout] ready"));
    let out = echoed
        .iter()
        .filter(|line| line.starts_with("[udf chatty stdout] out "));
    assert_eq!(out.count(), STDOUT_LINES);
    let _ = std::fs::remove_dir_all(&dir);
}
