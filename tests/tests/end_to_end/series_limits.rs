//! The series limits, each reached in a real program: every series pipetel counts is
//! exported (the SDK's cardinality limit does not fold any), and each limit that applies
//! is the one its warning names.

use std::collections::BTreeMap;
use std::time::Duration;

use pipetel_tests::{points, run, Receiver};

const PROGRAM: &str = env!("CARGO_BIN_EXE_many_series");
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the program; returns its lines split in fields, and its stderr.
fn run_program(args: &[&str], env: &[(&str, &str)]) -> (Vec<Vec<String>>, String) {
    let output = run(PROGRAM, args, env, RUN_TIMEOUT);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{}\n{stderr}", output.status);
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.split(' ').map(str::to_owned).collect())
        .collect();
    (lines, stderr)
}

/// Runs the program; returns (per node type: distinct ids, calls, whether `other` was
/// used), and its stderr.
fn run_many(args: &[&str], env: &[(&str, &str)]) -> (BTreeMap<String, (usize, u64, bool)>, String) {
    let (lines, stderr) = run_program(args, env);
    let per_type = lines
        .into_iter()
        .map(|fields| {
            let ids = fields[1].parse().expect("ids");
            let calls = fields[2].parse().expect("calls");
            let other = fields.last().is_some_and(|last| last == "other");
            (fields[0].clone(), (ids, calls, other))
        })
        .collect();
    (per_type, stderr)
}

#[test]
fn three_node_types_at_the_default_cap_are_exported_whole() {
    let receiver = Receiver::start();
    let (per_type, stderr) = run_many(
        &["--types", "3", "--ids", "1000"],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint)],
    );
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_eq!(per_type.len(), 3);
    assert!(
        per_type.values().all(|&entry| entry == (1000, 1000, false)),
        "{per_type:?}"
    );
    let requests = receiver.wait_for_requests(1, RUN_TIMEOUT);
    let last = points(requests.last().expect("an export"));
    for metric in [
        "pipetel.task.completed",
        "pipetel.rows.in",
        "pipetel.duration",
    ] {
        let series: Vec<_> = last.iter().filter(|point| point.name == metric).collect();
        // Past the SDK's default limit of 2,000, 1,001 of these would be one overflow point.
        assert_eq!(series.len(), 3000, "{metric}");
        assert!(
            series
                .iter()
                .all(|point| !point.attributes.contains_key("otel.metric.overflow")),
            "{metric}"
        );
    }
}

#[test]
fn past_the_per_type_cap_the_warning_names_that_cap() {
    let (per_type, stderr) = run_many(&["--types", "2", "--ids", "10", "--max-per-type", "4"], &[]);
    // Four ids of each type, and `other` holding the calls of the six others.
    assert!(
        per_type.values().all(|&entry| entry == (5, 10, true)),
        "{per_type:?}"
    );
    for node_type in ["t00", "t01"] {
        assert!(
            stderr.contains(&format!(
                "pipetel: warning: more than 4 distinct node.id values for node.type \
                 \"{node_type}\" (Config::max_node_ids_per_type); further ones are counted \
                 as node.id \"other\""
            )),
            "{stderr}"
        );
    }
    assert!(!stderr.contains("MAX_OPERATOR_SERIES"), "{stderr}");
}

#[test]
fn past_the_process_limit_the_warning_names_that_limit_once() {
    // 30 types of 1,000 ids, each below its per-type cap, 30,000 in all: past the 28,672
    // pipetel counts apart in one process.
    let (per_type, stderr) = run_many(&["--types", "30", "--ids", "1000"], &[]);
    assert_eq!(per_type.len(), 30);
    let named: usize = per_type
        .values()
        .map(|&(ids, _, other)| ids - usize::from(other))
        .sum();
    assert_eq!(named, pipetel::limits::MAX_OPERATOR_SERIES);
    assert!(
        per_type
            .values()
            .all(|&(_, calls, other)| calls == 1000 && other),
        "{per_type:?}"
    );
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("warning"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains(&format!(
            "the process counts {} operator series, pipetel's limit (pipetel::limits::MAX_OPERATOR_SERIES)",
            pipetel::limits::MAX_OPERATOR_SERIES
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Config::max_node_ids_per_type"),
        "{stderr}"
    );
}

#[test]
fn a_user_metric_past_the_sdk_limit_is_named() {
    let receiver = Receiver::start();
    let (_, stderr) = run_many(
        &["--user-series", "2100"],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.grpc_endpoint)],
    );
    let named = "pipetel: warning: metric \"user.calls\" (scope \"many_series\") has more \
                 attribute sets than the OpenTelemetry SDK's cardinality limit (2000 unless a \
                 view sets another); the rest are exported together as one point with \
                 otel.metric.overflow=true";
    assert_eq!(stderr.matches(named).count(), 1, "{stderr}");
}

#[test]
fn past_the_limit_on_run_time_node_types_the_warning_names_it_once() {
    let limit = pipetel::limits::MAX_DYNAMIC_NODE_TYPES;
    let over = (limit + 10).to_string();
    let (per_type, stderr) = run_many(&["--dynamic-types", &over], &[]);
    let dynamic = per_type.keys().filter(|t| t.starts_with("dyn")).count();
    assert_eq!(dynamic, limit, "{stderr}");
    // The ten types past the limit count, all as node.type "other".
    assert_eq!(
        per_type.get("other").map(|entry| entry.1),
        Some(10),
        "{stderr}"
    );
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("pipetel::limits::MAX_DYNAMIC_NODE_TYPES"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains(&format!("more than {limit} node types given at run time")));
}

#[test]
fn a_thousand_series_on_256_threads_each_keep_their_distributions_and_slowest_calls() {
    // Every one of 256 threads calls each of 1,000 series once: 256,000 (series, thread)
    // pairs, each series' calls all in its distributions.
    let (lines, stderr) = run_program(&["--types", "1", "--ids", "1000", "--threads", "256"], &[]);
    assert!(!stderr.contains("warning"), "{stderr}");
    let fields: Vec<&str> = lines[0].iter().map(String::as_str).collect();
    assert_eq!(fields, ["t00", "1000", "256000", "256000", "1000"]);
}
