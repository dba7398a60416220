//! The live dashboard and the HTML report in a real headless Chromium (Debian's
//! `chromium` and `chromium-driver`; `scripts/test` installs them): while the main example
//! runs, the dashboard shows every operator of its graph and updates as the run goes on;
//! once the run is over it shows the numbers of `pipetel::report()`, as does the HTML
//! report opened from disk. Screenshots of both go to `target/browser-artefacts/`. The
//! dashboard of a job's driver, with `PIPETEL_SNAPSHOT_DIR`, lists the job's processes
//! and shows their rows together.

use std::io::{BufReader, Read as _};
use std::time::{Duration, Instant};

use pipetel_tests::browser::{artefacts, Browser, Page};
use pipetel_tests::{start, wait_for_exit, watch_stderr};

const PROGRAM: &str = env!("CARGO_BIN_EXE_quickstart");
/// A worker of a job spread over processes (`tests/src/bin/worker.rs`).
const WORKER: &str = env!("CARGO_BIN_EXE_worker");
/// Bounds every wait: a loaded machine waits longer, a broken page fails.
const PATIENCE: Duration = Duration::from_secs(180);
/// The example's five operators, as the report names them.
const OPERATORS: [&str; 5] = [
    "scan orders.csv",
    "filter",
    "project",
    "hash_aggregate 4",
    "sink totals.csv",
];

/// `204.8 K` as 204,800.
fn human_count(text: &str) -> f64 {
    let (number, unit) = text.split_once(' ').unwrap_or((text, ""));
    let scale = match unit {
        "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        _ => 1.0,
    };
    number.parse::<f64>().expect("a count") * scale
}

/// Runs whitespace together, for comparing a page's cells with a line of the text
/// report, whose columns are padded.
fn collapsed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks that `page` shows what `report` (the text of `pipetel::report()`) says: each
/// operator's row to the digit, each edge with its rows, bytes and batches, and the graph
/// with every operator and edge drawn, labelled with the same figures.
fn assert_shows_the_report(page: &Page, report: &str) {
    let lines: Vec<String> = report
        .lines()
        .map(|line| collapsed(line.trim_start().trim_start_matches("← ")))
        .collect();
    let names: Vec<&str> = page.operators.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(names, OPERATORS, "{page:#?}");
    for row in &page.operators {
        // The name, then the report's columns (the page has the step in between), to
        // the digit but for the last, MEMORY: what an operator holds now moves after its
        // run (the example drops its results), so the page read earlier may differ.
        let (memory, counted) = row[2..].split_last().expect("the columns");
        let expected = collapsed(&format!("{} {}", row[0], counted.join(" ")));
        assert!(
            lines.iter().any(|line| line
                .strip_prefix(&expected)
                .is_some_and(|rest| rest.starts_with(' '))),
            "the page's row {expected:?} is not in the report:\n{report}"
        );
        let (live, peak) = memory.split_once(" / ").expect("live / peak");
        assert!(live.ends_with('B') && peak.ends_with('B'), "{memory:?}");
    }
    assert_eq!(page.edges.len(), 4, "{page:#?}");
    for edge in &page.edges {
        let bytes = match edge[3].as_str() {
            "-" => String::new(),
            bytes => format!(", {bytes}"),
        };
        let via = match edge[5].as_str() {
            "" => String::new(),
            via => format!(" ({via})"),
        };
        let expected = format!(
            "{} → {}: {} rows{bytes} in {}{via}",
            edge[0], edge[1], edge[2], edge[4]
        );
        assert!(
            lines.contains(&collapsed(&expected)),
            "the page's edge {expected:?} is not in the report:\n{report}"
        );
    }
    assert_eq!(page.nodes.len(), OPERATORS.len(), "{page:#?}");
    for (name, (id, text)) in OPERATORS.iter().zip(&page.nodes) {
        assert!(id.starts_with("op"), "{id}");
        assert!(text.contains(name), "node {id} {text:?} is not {name}");
    }
    assert_eq!(page.arrows.len(), page.edges.len(), "{page:#?}");
    for edge in &page.edges {
        let from = page.operators.iter().position(|row| row[0] == edge[0]);
        let to = page.operators.iter().position(|row| row[0] == edge[1]);
        let id = format!("edge{}-{}", from.unwrap(), to.unwrap());
        let (_, text) = page
            .arrows
            .iter()
            .find(|(arrow, _)| *arrow == id)
            .unwrap_or_else(|| panic!("no arrow {id} in {page:#?}"));
        assert!(
            text.contains(&format!("{} rows", edge[2])),
            "{id}: {text:?}"
        );
    }
}

#[test]
fn the_dashboard_follows_the_run_and_the_html_report_shows_the_same_numbers() {
    let browser = Browser::start(1400, 1700);
    let dir = std::env::temp_dir().join(format!("pipetel-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let report_file = dir.join("report.html");
    // 25 batches, 0.4 s apart: a run of ten seconds or more to watch, however slowly a
    // loaded machine starts the browser's page.
    let mut example = start(
        PROGRAM,
        &[],
        &[
            ("ORDERS", "200000"),
            ("SCAN_PAUSE_MS", "400"),
            ("PIPETEL_DASHBOARD_ADDR", "127.0.0.1:0"),
            ("PIPETEL_DASHBOARD_LINGER", "60000"),
            ("PIPETEL_REPORT", report_file.to_str().expect("utf-8")),
        ],
    );
    // The dashboard's address, from the line it prints; the rest of stderr, for failures.
    let (address_rx, stderr_lines) = watch_stderr(&mut example, "pipetel: dashboard at ");
    let stdout = example.stdout.take().expect("stdout");
    let stdout_text = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stdout).read_to_string(&mut text);
        text
    });
    let url = address_rx
        .recv_timeout(PATIENCE)
        .expect("the dashboard's address on stderr");
    browser.open(&url);

    // While it runs: the scan's rows grow, poll after poll, until the run has succeeded.
    let deadline = Instant::now() + PATIENCE;
    let mut scanned: Vec<f64> = Vec::new();
    let mut seen_running = false;
    let last = loop {
        assert!(Instant::now() < deadline, "the run did not end on the page");
        let page = browser.page();
        seen_running |= page
            .runs
            .first()
            .is_some_and(|run| run.starts_with("running"));
        if let Some(scan) = page.operator("scan orders.csv") {
            let rows = human_count(&scan[6]);
            if scanned.last() != Some(&rows) {
                scanned.push(rows);
            }
        }
        if page
            .runs
            .first()
            .is_some_and(|run| run.starts_with("succeeded"))
        {
            break page;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(page_is_live(&last), "{}", last.status);
    assert!(seen_running, "the page never showed the run running");
    assert!(
        scanned.len() >= 2 && scanned.windows(2).all(|pair| pair[0] < pair[1]),
        "the scan's rows as the page showed them: {scanned:?}"
    );
    assert_eq!(scanned.last(), Some(&200_000.0));
    // The example installs the tracking allocator: the heap beside the resident memory.
    assert!(
        last.process.contains(" · heap ") && last.process.contains(" by operators"),
        "{}",
        last.process
    );
    // The memory lane: a line for each operator, a point for each view the page polled.
    let mut lane_names: Vec<&str> = last
        .memory_lines
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    lane_names.sort_unstable();
    let mut table_names: Vec<&str> = last.operators.iter().map(|row| row[0].as_str()).collect();
    table_names.sort_unstable();
    assert_eq!(lane_names, table_names, "{last:#?}");
    assert!(
        last.memory_lines.iter().all(|(_, points)| *points >= 3),
        "{:?}",
        last.memory_lines
    );
    assert!(
        last.memory_legend
            .iter()
            .any(|item| item.starts_with("hash_aggregate 4 ") && item.contains("(most ")),
        "{:?}",
        last.memory_legend
    );
    // A click on the aggregate's box shows its details: the report's lines under its row.
    browser.click("#graph g#op3");
    let clicked = browser.page();
    assert_eq!(clicked.selected, "hash_aggregate 4");
    assert!(
        clicked
            .selected_details
            .iter()
            .any(|line| line.starts_with("per call: p50 ")),
        "{clicked:#?}"
    );
    browser.screenshot(&artefacts().join("dashboard.png"));

    // The page polls after the work is over: the example stops lingering and exits.
    let output = wait_for_exit(example, PATIENCE);
    let stderr = stderr_lines.join().expect("stderr");
    assert!(output.status.success(), "{stderr:#?}");
    let stdout = stdout_text.join().expect("stdout");
    let report = &stdout[stdout.find("RUN / STEP / OPERATOR").expect("the report")..];
    assert_shows_the_report(&last, report);
    assert!(last.bottleneck.starts_with("Bottleneck "), "{last:#?}");

    // The HTML report, from disk, with no server: the same numbers.
    browser.open(&format!("file://{}", report_file.display()));
    let deadline = Instant::now() + PATIENCE;
    let written = loop {
        let page = browser.page();
        if page.nodes.len() == OPERATORS.len() || Instant::now() >= deadline {
            break page;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(written.status.starts_with("report written"), "{written:#?}");
    assert_shows_the_report(&written, report);
    assert!(written.runs[0].starts_with("succeeded"), "{written:#?}");
    assert!(
        written.memory_lines.is_empty(),
        "a report written once has no lane over time"
    );
    browser.click("#operators tbody tr[data-op='0']");
    assert_eq!(browser.page().selected, "scan orders.csv");
    browser.screenshot(&artefacts().join("report.png"));
    // The sink logs a line as it writes: its latest lines, when it is clicked.
    browser.click("#operators tbody tr[data-op='4']");
    let lines = browser.run(
        r##"return Array.from(document.querySelectorAll("#selected-logs li")).map((li) => li.textContent);"##,
    );
    let lines: Vec<String> = serde_json::from_value(lines).expect("the lines");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("INFO pipetel_examples::regional_totals wrote the totals path="),
        "{lines:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_drivers_dashboard_lists_the_jobs_processes_and_sums_their_rows() {
    let dir = std::env::temp_dir().join(format!("pipetel-browser-job-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let job = [
        ("PIPETEL_SNAPSHOT_DIR", dir.to_str().expect("utf-8")),
        (
            "TRACEPARENT",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
    ];
    for _ in 0..2 {
        let worker = start(WORKER, &["--batches", "10", "--rows", "100"], &job);
        assert!(wait_for_exit(worker, PATIENCE).status.success());
    }
    let mut env = job.to_vec();
    env.push(("PIPETEL_DASHBOARD_ADDR", "127.0.0.1:0"));
    let mut driver = start(
        WORKER,
        &["--batches", "10", "--rows", "100", "--then-sleep-s", "180"],
        &env,
    );
    let (address_rx, _lines) = watch_stderr(&mut driver, "pipetel: dashboard at ");
    let url = address_rx
        .recv_timeout(PATIENCE)
        .expect("the dashboard's address");
    let browser = Browser::start(1200, 1000);
    browser.open(&url);
    let deadline = Instant::now() + PATIENCE;
    let page = loop {
        let page = browser.page();
        let rows = page
            .operator("scan numbers")
            .map(|scan| human_count(&scan[6]));
        if rows == Some(3_000.0) && page.processes.len() == 3 {
            break page;
        }
        assert!(Instant::now() < deadline, "{page:#?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut states: Vec<&str> = page
        .processes
        .iter()
        .map(|line| line.rsplit(": ").next().expect("a state"))
        .collect();
    states.sort_unstable();
    assert_eq!(states, ["done", "done", "running"], "{page:#?}");
    browser.screenshot(&artefacts().join("dashboard-job.png"));
    driver.kill().expect("stop the driver");
    let _ = driver.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

fn page_is_live(page: &Page) -> bool {
    page.status.starts_with("live")
}

/// The diff page's state: how many graphs are drawn and their operators, the operators
/// filled as slower in each, and the table's rows with their verdict class.
const DIFF_STATE: &str = r##"
    const graph = (id) => document.querySelectorAll("#" + id + " svg g.node").length;
    const slower = (id) => Array.from(document.querySelectorAll("#" + id + " svg g.node"))
        .filter((node) => node.querySelector("[fill='#f4b6b0']"))
        .map((node) => node.querySelector("text").textContent);
    return {
        before: graph("before-graph"),
        after: graph("after-graph"),
        slower_before: slower("before-graph"),
        slower_after: slower("after-graph"),
        rows: Array.from(document.querySelectorAll("#operators tbody tr"))
            .map((row) => [row.className, row.cells[0].textContent]),
        headline: Array.from(document.querySelectorAll("#headline li")).map((li) => li.textContent),
    };
"##;

#[test]
fn the_diff_page_shows_both_runs_graphs_with_the_slower_filter_marked() {
    let dir = std::env::temp_dir().join(format!("pipetel-browser-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (before, after) = crate::diff::planted_runs(&dir);
    let (before, after) = (pipetel::Report::of(before), pipetel::Report::of(after));
    let page_file = dir.join("diff.html");
    std::fs::write(&page_file, before.diff_html(&after)).expect("write the page");

    let browser = Browser::start(1400, 1000);
    browser.open(&format!("file://{}", page_file.display()));
    let deadline = Instant::now() + PATIENCE;
    let state = loop {
        let state = browser.run(DIFF_STATE);
        let drawn = |side: &str| state[side].as_u64() == Some(OPERATORS.len() as u64);
        if (drawn("before") && drawn("after")) || Instant::now() >= deadline {
            break state;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for side in ["before", "after"] {
        assert_eq!(state[side], OPERATORS.len(), "{state:#}");
        // Graphviz lays a node's label out as lines; its first is the name.
        assert_eq!(
            state[format!("slower_{side}")],
            serde_json::json!(["filter"]),
            "{state:#}"
        );
    }
    let rows: Vec<(String, String)> = serde_json::from_value(state["rows"].clone()).expect("rows");
    let slower: Vec<&str> = rows
        .iter()
        .filter(|(class, _)| class == "slower")
        .map(|(_, name)| name.as_str())
        .collect();
    assert_eq!(slower, ["filter"], "{state:#}");
    assert_eq!(rows.len(), OPERATORS.len(), "{state:#}");
    let headline = state["headline"][0].as_str().expect("a headline");
    assert!(headline.starts_with("filter: "), "{state:#}");
    browser.screenshot(&artefacts().join("diff.png"));
    let _ = std::fs::remove_dir_all(&dir);
}
