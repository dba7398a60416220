//! Progress: off when stderr is not a terminal, forced on with `PIPETEL_PROGRESS=1`
//! (plain lines, once a second), off with `PIPETEL_PROGRESS=0`, and a bad value named
//! (every on/off spelling: `pipetel_variables.rs`).
//! (The terminal bars were checked by hand under tmux: an overall line, one line per
//! running step and operator, a bar with percentage, rate and ETA for an operator with
//! an expected total.)

use std::time::Duration;

use pipetel_tests::run;

const PROGRAM: &str = env!("CARGO_BIN_EXE_pipeline");
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

fn stderr_of(env: &[(&str, &str)]) -> String {
    let output = run(PROGRAM, &["--slow"], env, RUN_TIMEOUT);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("crawled: 1500"));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn progress_is_off_when_stderr_is_not_a_terminal() {
    assert_eq!(stderr_of(&[]), "");
    assert_eq!(stderr_of(&[("PIPETEL_PROGRESS", "0")]), "");
}

#[test]
fn forced_progress_draws_the_running_operator_with_its_expected_rows() {
    let stderr = stderr_of(&[("PIPETEL_PROGRESS", "1")]);
    let crawl_lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("pipetel: crawl pipeline::crawl_batch  "))
        .collect();
    assert!(
        crawl_lines.len() >= 2,
        "a running line and the final one: {stderr}"
    );
    // A line drawn between the first call's start (its input rows counted) and the
    // body saying what to expect has no total yet; once said, the total stays.
    let said = crawl_lines
        .iter()
        .position(|line| line.contains("/1.5 K rows ("))
        .unwrap_or_else(|| panic!("no line with the total: {stderr}"));
    assert!(
        crawl_lines[said..]
            .iter()
            .all(|line| line.contains("/1.5 K rows (")),
        "{stderr}"
    );
    let running = &crawl_lines[..crawl_lines.len() - 1];
    assert!(
        running.iter().any(|line| line.contains("ETA")),
        "an ETA while running: {stderr}"
    );
    let last = crawl_lines.last().expect("a line");
    assert!(
        last.contains("1.5 K/1.5 K rows (100%)"),
        "the final state is drawn: {stderr}"
    );
    assert!(!last.contains("ETA"), "no ETA once done: {stderr}");
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with("pipetel: step crawl  ")),
        "{stderr}"
    );
    // The overall line: the operator that finishes last (the only one with a total).
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with("pipetel: overall  ")
                && line.contains("done, ETA")
                && line.contains("(crawl pipeline::crawl_batch finishes last)")),
        "{stderr}"
    );
}

#[test]
fn a_bad_progress_value_is_named() {
    let stderr = stderr_of(&[("PIPETEL_PROGRESS", "sometimes")]);
    assert!(
        stderr.contains(
            r#"pipetel: warning: PIPETEL_PROGRESS="sometimes" is not on or off (1, true, on / 0, false, off); progress shows only when stderr is a terminal"#
        ),
        "{stderr}"
    );
}
