//! Log lines by operator: each `tracing` event inside an operator's call counted and kept
//! as that operator's (INFO and above), and printed by the program's own `fmt` layer with
//! the operator's labels (`pipetel::logs::WithOperator`); events outside operators are
//! neither.

use std::io::Write;
use std::sync::{Arc, Mutex};

use pipetel::{operator, Config};
use tracing_subscriber::layer::SubscriberExt as _;

/// What the `fmt` layer printed.
#[derive(Clone, Default)]
struct Printed(Arc<Mutex<Vec<u8>>>);

impl Write for Printed {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[operator(node_type = "logs_filter", node_id = "small")]
fn keep_small(batch: Vec<u32>) -> Vec<u32> {
    tracing::info!(rows = batch.len(), "filtering");
    tracing::debug!("below INFO: not a line");
    if batch.contains(&40) {
        tracing::warn!("a large value");
    }
    tracing::error!(code = 7, "broke");
    batch.into_iter().filter(|&n| n < 10).collect()
}

#[test]
fn events_inside_an_operator_are_its_lines_and_print_its_labels() {
    pipetel_tests::own_process!();
    let telemetry = Config::new()
        .collect_locally(true)
        .install_log_subscriber(false)
        .init();
    let printed = Printed::default();
    let writer = printed.clone();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .event_format(pipetel::logs::WithOperator::new(
                    tracing_subscriber::fmt::format().without_time(),
                )),
        )
        .with(telemetry.log_layer());
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    tracing::info!("outside any operator");
    keep_small(vec![1, 20, 3, 40]);
    keep_small(vec![2]);

    let op = super::operator_labelled("logs_filter", "small");
    let logs = op.logs.expect("its lines");
    // Two calls: two INFO and two ERROR events, one WARN; the DEBUG ones are not lines.
    assert_eq!((logs.lines, logs.warnings, logs.errors), (5, 1, 2));
    let texts: Vec<(&str, &str)> = logs
        .latest
        .iter()
        .map(|line| (line.level.as_str(), line.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            ("INFO", "filtering rows=4"),
            ("WARN", "a large value"),
            ("ERROR", "broke code=7"),
            ("INFO", "filtering rows=1"),
            ("ERROR", "broke code=7"),
        ]
    );
    assert!(logs
        .latest
        .iter()
        .all(|line| line.source == "in_process::logs"));
    let report = pipetel::report().to_string();
    assert!(
        report.contains("logs: 5 lines (1 warning, 2 errors); latest: broke code=7"),
        "{report}"
    );

    let printed = String::from_utf8(printed.0.lock().expect("lock").clone()).expect("utf-8");
    let lines: Vec<&str> = printed.lines().collect();
    // The program's own layer prints what it enables, DEBUG too: every line inside the
    // operator with its labels.
    assert_eq!(lines.len(), 8, "{printed}");
    assert!(
        lines[0].ends_with("outside any operator") && !lines[0].contains("node.type"),
        "{printed}"
    );
    for line in &lines[1..] {
        assert!(
            line.ends_with(" node.type=logs_filter node.id=small"),
            "{printed}"
        );
    }
    assert!(
        lines[1].contains("INFO in_process::logs: filtering rows=4 node.type"),
        "{printed}"
    );
    drop(telemetry);
}

#[test]
fn a_subscriber_of_pipetels_layer_alone_counts_the_lines() {
    pipetel_tests::own_process!();
    // No collector and no layer of the program's own: pipetel's layer alone, counting.
    let telemetry = Config::new()
        .collect_locally(true)
        .install_log_subscriber(false)
        .init();
    let subscriber = tracing_subscriber::registry().with(telemetry.log_layer());
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    keep_small(vec![1, 2]);
    let logs = super::operator_labelled("logs_filter", "small")
        .logs
        .expect("its lines");
    assert_eq!((logs.lines, logs.errors), (2, 1));
    drop(telemetry);
}
