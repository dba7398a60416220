//! The report: `PIPETEL_REPORT` set on the `pipeline` program (no collector) writes the
//! EXPLAIN ANALYZE-style table to stderr, or the snapshot as JSON to a file, with the
//! figures of the workload; a path that cannot be written is named in a warning.

use std::time::Duration;

use pipetel::snapshot::Snapshot;
use pipetel_tests::run;

const PROGRAM: &str = env!("CARGO_BIN_EXE_pipeline");
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

fn scratch_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pipetel-report-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

#[test]
fn the_json_report_has_the_workloads_figures() {
    let path = scratch_file("report.json");
    let output = run(
        PROGRAM,
        &[],
        &[("PIPETEL_REPORT", path.to_str().expect("utf-8"))],
        RUN_TIMEOUT,
    );
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    let snapshot: Snapshot =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("report written"))
            .expect("json");

    let run = snapshot
        .runs
        .iter()
        .find(|run| run.pipeline == "orders")
        .expect("orders");
    assert_eq!(
        (run.runs, run.failed, run.active, run.rows),
        (2, 1, 0, 3 + 3 + 3 + 3)
    );
    let step = |name: &str| {
        snapshot
            .steps
            .iter()
            .find(|step| step.step == name && step.pipeline.as_deref() == Some("orders"))
            .unwrap_or_else(|| panic!("no step {name}"))
    };
    assert_eq!(
        (
            step("extract").calls,
            step("extract").rows,
            step("extract").failed
        ),
        (2, 6, 0)
    );
    assert_eq!(
        (
            step("normalize").calls,
            step("normalize").rows,
            step("normalize").failed
        ),
        (2, 3, 1)
    );
    assert_eq!((step("load").calls, step("load").rows), (1, 3));
    assert!(step("load").time <= run.time);

    let parse = snapshot
        .operators
        .iter()
        .find(|op| op.node_type == "parse")
        .expect("the operator");
    assert_eq!(parse.node_id, "pipeline::parse_row");
    assert_eq!(
        (parse.pipeline.as_deref(), parse.step.as_deref()),
        (Some("orders"), Some("normalize"))
    );
    assert_eq!(
        (
            parse.calls.completed,
            parse.calls.failed,
            parse.calls.active
        ),
        (4, 1, 0)
    );
    assert_eq!(parse.time.busy_share, 1.0, "the only operator");
    assert_eq!(parse.rows.selectivity, None, "&str has no rows");
}

#[test]
fn the_table_report_goes_to_stderr_with_operators_under_their_step() {
    let output = run(PROGRAM, &[], &[("PIPETEL_REPORT", "stderr")], RUN_TIMEOUT);
    assert!(output.status.success());
    let report = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = report.lines().collect();
    assert!(lines[0].starts_with("RUN / STEP / OPERATOR"), "{report}");
    let position = |prefix: &str| {
        lines
            .iter()
            .position(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in\n{report}"))
    };
    let run = position("run orders ");
    let normalize = position("  step normalize ");
    // The table shows the function's name; the JSON keeps the module path.
    let parse = position("    parse parse_row ");
    let load = position("  step load ");
    assert!(
        run < normalize && normalize < parse && parse < load,
        "{report}"
    );
    let parse_line: Vec<&str> = lines[parse].split_whitespace().collect();
    assert_eq!(parse_line[2], "5", "calls: {}", lines[parse]);
    assert_eq!(*parse_line.last().expect("failed column"), "1");
}

#[test]
fn an_unwritable_report_path_is_named_and_the_program_completes() {
    let output = run(
        PROGRAM,
        &[],
        &[("PIPETEL_REPORT", "/nonexistent/dir/report.txt")],
        RUN_TIMEOUT,
    );
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#"pipetel: warning: PIPETEL_REPORT="/nonexistent/dir/report.txt": cannot write the report"#),
        "{stderr}"
    );
}
