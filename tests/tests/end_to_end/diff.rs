//! Run against run on the main example, each run a child process writing its report as
//! JSON: a filter planted three times slower is called slower, and only it; runs of the
//! same code are within noise, pair after pair.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pipetel::diff::Verdict;
use pipetel::snapshot::Snapshot;
use pipetel_tests::{assert_success, run};

const PROGRAM: &str = env!("CARGO_BIN_EXE_regional_totals");
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// 62 batches: enough calls of the scan, the filter and the project to judge (27).
const ORDERS: &str = "500000";

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pipetel-diff-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// One run of the main example, the filter `filter_slowdown` times as slow;
/// its report, read back.
fn example_run(dir: &Path, name: &str, filter_slowdown: u32) -> Snapshot {
    let report = dir.join(format!("{name}.json"));
    let slowdown = filter_slowdown.to_string();
    let output = run(
        PROGRAM,
        &[],
        &[
            ("ORDERS", ORDERS),
            ("FILTER_SLOWDOWN", slowdown.as_str()),
            ("PIPETEL_REPORT", report.to_str().expect("utf-8")),
        ],
        RUN_TIMEOUT,
    );
    assert_success(&output);
    Snapshot::from_json(&std::fs::read_to_string(&report).expect("the report")).expect("a snapshot")
}

/// Runs a side, taken in turn and merged: a busy machine slows every call of a run it
/// overlaps (beside the other test's runs, a run's fastest quarter of filter calls took
/// 1.4× as long), so each side gets runs from the same stretches of load, and its
/// fastest quarter of calls comes from its least disturbed runs.
const RUNS_A_SIDE: usize = 3;

/// The main example run [`RUNS_A_SIDE`] times as it is and as many with its filter three
/// times slower, in turn, in `dir`: each side's reports merged.
pub(crate) fn planted_runs(dir: &Path) -> (Snapshot, Snapshot) {
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for n in 0..RUNS_A_SIDE {
        before.push(example_run(dir, &format!("before{n}"), 1));
        after.push(example_run(dir, &format!("after{n}"), 3));
    }
    (Snapshot::merge(before), Snapshot::merge(after))
}

#[test]
fn a_filter_planted_three_times_slower_is_called_slower_and_nothing_else_is() {
    let dir = dir("planted");
    let (before, after) = planted_runs(&dir);
    let diff = before.diff(&after);
    let slower: Vec<&str> = diff
        .slower()
        .iter()
        .map(|op| op.node.node_type.as_str())
        .collect();
    assert_eq!(slower, ["filter"], "{diff}");
    assert!(diff.faster().is_empty(), "{diff}");
    let filter = diff.slower()[0];
    let shift = filter.per_call.expect("timed");
    let (low, high) = shift.interval.expect("enough calls");
    assert!(low >= pipetel::diff::MIN_FACTOR, "{shift:?}\n{diff}");
    // Each slowed call spins twice its own work's time after it: the interval brackets
    // that threefold change (a call's cost besides the work makes it a little less).
    assert!(low <= 3.0 && 3.0 <= high, "{shift:?}\n{diff}");
    // Where the time went: the project, which pulls from the filter, waited for it.
    let headline = diff.headline();
    assert!(headline[0].starts_with("filter: "), "{headline:?}");
    assert!(
        headline[0].contains("project, which takes its output, starved +"),
        "{headline:?}"
    );
    // The data did not change: no count differs, no operator or edge came or went.
    assert_eq!(headline.len(), 1, "{headline:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn runs_of_the_same_code_are_within_noise_in_twenty_pairs_of_twenty() {
    let dir = dir("unchanged");
    let runs: Vec<Snapshot> = (0..21)
        .map(|n| example_run(&dir, &format!("run{n}"), 1))
        .collect();
    for (n, pair) in runs.windows(2).enumerate() {
        let diff = pair[0].diff(&pair[1]);
        assert_eq!(
            diff.headline(),
            ["nothing changed beyond noise"],
            "pair {n}:\n{diff}"
        );
        // Judged, not left out: the three operators of many calls each.
        let judged = diff
            .operators
            .iter()
            .filter(|op| op.verdict() == Verdict::WithinNoise)
            .count();
        assert_eq!(judged, 3, "pair {n}:\n{diff}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
