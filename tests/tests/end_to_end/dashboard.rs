//! The Grafana dashboard (`ops/grafana/dashboards/pipetel.json`) against a real
//! Prometheus (Debian's `prometheus` package; `scripts/test` installs it): Prometheus scrapes
//! the main example through its `/metrics` endpoint, lingering at exit as a batch job is
//! told to; then every variable and every panel query of the dashboard runs through
//! Prometheus' HTTP API. Each must return data with no `NaN` or `±Inf`, and the totals
//! must be the figures of `pipetel::report()` for the same run. `promtool check metrics`
//! must find nothing to say about the scrape.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pipetel_tests::{closed_port, installed, now, number, run, Prometheus, PATIENCE};
use serde_json::Value;

const PROGRAM: &str = env!("CARGO_BIN_EXE_quickstart");
const DASHBOARD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../ops/grafana/dashboards/pipetel.json"
);
/// A dashboard query with its variables as Grafana would fill them in for this run: the
/// run's `range`, and a `$__rate_interval` that holds at least two of its scrapes.
fn fill_in(expr: &str, run: &ScrapedRun) -> String {
    let mut filled = expr.to_owned();
    for (variable, value) in [
        ("namespace", "pipetel"),
        ("job", "quickstart"),
        ("node_type", ".*"),
        ("__rate_interval", run.rate_interval.as_str()),
        ("__range", run.range.as_str()),
    ] {
        filled = filled
            .replace(&format!("${{{variable}}}"), value)
            .replace(&format!("${variable}"), value);
    }
    assert!(!filled.contains('$'), "a variable left in {filled}");
    filled
}

/// Every panel target of the dashboard: (panel title, expression).
fn panel_queries(dashboard: &Value) -> Vec<(String, String)> {
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter(|panel| panel["type"] != "row")
        .flat_map(|panel| {
            let title = panel["title"].as_str().expect("a title").to_owned();
            panel["targets"]
                .as_array()
                .expect("targets")
                .iter()
                .map(move |target| {
                    (
                        title.clone(),
                        target["expr"].as_str().expect("expr").to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The expression of target `index` of the panel titled `title`.
fn panel_target(dashboard: &Value, title: &str, index: usize) -> String {
    let panel = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .find(|panel| panel["title"] == title)
        .unwrap_or_else(|| panic!("no panel {title:?}"));
    panel["targets"][index]["expr"]
        .as_str()
        .expect("expr")
        .to_owned()
}

/// The example's environment: serving `/metrics` on `address`, lingering at exit until
/// scraped twice more, with `orders` orders.
fn example_env<'a>(address: &'a str, orders: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("PIPETEL_PROMETHEUS_ADDR", address),
        ("PIPETEL_PROMETHEUS_LINGER", "60000"),
        ("ORDERS", orders),
    ]
}

/// Runs the example with `env`; fails unless it succeeds.
fn run_example(env: &[(&str, &str)]) {
    let output = run(PROGRAM, &[], env, PATIENCE);
    assert!(
        output.status.success(),
        "{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A scrape of the example's final counts, taken by the test itself from a small run
/// of its own (the run Prometheus scrapes must linger for Prometheus' scrapes only).
fn final_scrape() -> String {
    let address = format!("127.0.0.1:{}", closed_port());
    let finished = Arc::new(AtomicBool::new(false));
    let last_scrape = Arc::new(Mutex::new(String::new()));
    let poller = {
        let (finished, last_scrape, address) =
            (finished.clone(), last_scrape.clone(), address.clone());
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::new();
            while !finished.load(Ordering::Relaxed) {
                if let Ok(body) = client
                    .get(format!("http://{address}/metrics"))
                    .send()
                    .and_then(reqwest::blocking::Response::text)
                {
                    if body.contains("pipetel_pipeline_runs_total{") {
                        *last_scrape.lock().expect("scrape") = body;
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    run_example(&example_env(&address, "1000"));
    finished.store(true, Ordering::Relaxed);
    poller.join().expect("the poller");
    let scrape = std::mem::take(&mut *last_scrape.lock().expect("scrape"));
    assert!(!scrape.is_empty(), "no scrape of the final counts");
    scrape
}

/// Grafana's `$__rate_interval` for the scrapes of the run that ended at `end` (`range`
/// long): twice the longest gap between two that succeeded (100 ms when the machine
/// keeps up; seconds on a loaded one, whose scrapes may time out and store nothing), so
/// that every window holds two scrapes' samples; at least a second.
fn rate_interval(prometheus: &Prometheus, range: &str, end: f64) -> String {
    let data = prometheus.api(
        "query",
        &[
            ("query", format!("up{{job=\"quickstart\"}}[{range}]")),
            ("time", end.to_string()),
        ],
    );
    let times: Vec<f64> = data["result"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|series| series["values"].as_array().cloned().unwrap_or_default())
        .filter(|sample| sample[1] == "1")
        .map(|sample| sample[0].as_f64().expect("a scrape's time"))
        .collect();
    assert!(times.len() >= 2, "the run's scrapes: {data}");
    let longest_gap = times
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .fold(0.0, f64::max);
    let millis = (2.0 * longest_gap * 1000.0).ceil().max(1000.0) as u64;
    format!("{millis}ms")
}

/// One run of the main example, scraped by a real Prometheus until it exited: what every
/// check reads.
struct ScrapedRun {
    prometheus: Prometheus,
    /// The example's own report of the run.
    report: pipetel::snapshot::Snapshot,
    dashboard: Value,
    /// The time range the run lies in, and Grafana's `$__range` for it.
    start: f64,
    end: f64,
    range: String,
    /// Grafana's `$__rate_interval` for the scrapes this run got (see [`rate_interval`]).
    rate_interval: String,
}

impl ScrapedRun {
    fn new() -> ScrapedRun {
        let target = format!("127.0.0.1:{}", closed_port());
        let prometheus = Prometheus::start("quickstart", &target);
        // Prometheus applies its targets some seconds after it starts: scraping has begun
        // once the target is seen down (the program is not started yet).
        prometheus.wait_until("scraping", || {
            !prometheus.query("up{job=\"quickstart\"}", now()).is_empty()
        });
        let start = now() - 1.0;
        let report_path = prometheus.dir.join("report.json");
        let mut env = example_env(&target, "1000000");
        env.push((
            "PIPETEL_REPORT",
            report_path.to_str().expect("a UTF-8 path"),
        ));
        // A run of a second or more, scraped several times while it works.
        run_example(&env);
        let report =
            serde_json::from_str(&std::fs::read_to_string(&report_path).expect("the report"))
                .expect("the report's JSON");
        // Prometheus has seen the program go: every scrape it got is stored.
        prometheus.wait_until("past the program's exit", || {
            prometheus
                .query("up{job=\"quickstart\"}", now())
                .first()
                .is_some_and(|(_, up)| *up == 0.0)
        });
        let end = now();
        let dashboard =
            serde_json::from_str(&std::fs::read_to_string(DASHBOARD).expect("the dashboard"))
                .expect("the dashboard's JSON");
        let range = format!("{}s", (end - start).ceil() as u64);
        let rate_interval = rate_interval(&prometheus, &range, end);
        ScrapedRun {
            prometheus,
            report,
            dashboard,
            start,
            end,
            range,
            rate_interval,
        }
    }

    /// Target `index` of the panel titled `title`, evaluated at the end of the run.
    fn panel(&self, title: &str, index: usize) -> Vec<(BTreeMap<String, String>, f64)> {
        let expr = fill_in(&panel_target(&self.dashboard, title, index), self);
        self.prometheus.query(&expr, self.end)
    }

    /// [`panel`](Self::panel), by `(node.type, node.id)`.
    fn per_operator(&self, title: &str, index: usize) -> BTreeMap<(String, String), f64> {
        self.panel(title, index)
            .into_iter()
            .map(|(labels, value)| {
                (
                    (labels["node_type"].clone(), labels["node_id"].clone()),
                    value,
                )
            })
            .collect()
    }

    /// A figure of the report, by `(node.type, node.id)`.
    fn of_report(
        &self,
        value: impl Fn(&pipetel::snapshot::OperatorSnapshot) -> f64,
    ) -> BTreeMap<(String, String), f64> {
        self.report
            .operators
            .iter()
            .map(|operator| {
                (
                    (operator.node_type.clone(), operator.node_id.clone()),
                    value(operator),
                )
            })
            .collect()
    }
}

/// `promtool check metrics` has nothing to say about `scrape`.
fn assert_promtool_accepts(scrape: &str) {
    let mut promtool = Command::new(installed("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(scrape.as_bytes())
        .expect("write the scrape");
    let checked = promtool.wait_with_output().expect("promtool");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        checked.status.success() && said.is_empty(),
        "promtool: {said}"
    );
}

/// The variables find the namespace from the metric names, the job and the node types.
fn assert_variables_find_the_run(run: &ScrapedRun) {
    let namespaces: BTreeSet<String> = run
        .prometheus
        .api("label/__name__/values", &[])
        .as_array()
        .expect("names")
        .iter()
        .filter_map(|name| name.as_str()?.strip_suffix("_task_completed_total"))
        .map(str::to_owned)
        .collect();
    assert_eq!(namespaces, BTreeSet::from(["pipetel".to_owned()]));
    assert_eq!(
        run.prometheus.label_values("job", "pipetel_series"),
        BTreeSet::from(["quickstart".to_owned()])
    );
    let node_types: BTreeSet<String> = run
        .report
        .operators
        .iter()
        .map(|operator| operator.node_type.clone())
        .collect();
    assert_eq!(
        run.prometheus.label_values(
            "node_type",
            "pipetel_task_completed_total{job=~\"quickstart\"}"
        ),
        node_types
    );
}

/// Every panel query returns data over the run, and only finite values.
fn assert_every_query_has_finite_data(run: &ScrapedRun) {
    let queries = panel_queries(&run.dashboard);
    assert!(queries.len() >= 25, "{} queries", queries.len());
    for (title, expr) in &queries {
        let filled = fill_in(expr, run);
        let series = run.prometheus.query_range(&filled, run.start, run.end);
        assert!(!series.is_empty(), "{title:?}: no data from {filled}");
        for one in &series {
            for point in one["values"].as_array().expect("values") {
                let value = number(&point[1]);
                assert!(
                    value.is_finite(),
                    "{title:?}: {value} in {one} from {filled}"
                );
            }
        }
    }
}

/// The totals panels show the report's figures.
fn assert_totals_are_the_reports(run: &ScrapedRun) {
    let calls = |operator: &pipetel::snapshot::OperatorSnapshot| {
        (operator.calls.completed + operator.calls.failed + operator.calls.cancelled) as f64
    };
    assert_eq!(
        run.per_operator("Rows per operator", 0),
        run.of_report(|op| op.rows.received as f64)
    );
    assert_eq!(
        run.per_operator("Rows per operator", 1),
        run.of_report(|op| op.rows.produced as f64)
    );
    assert_eq!(
        run.per_operator("Rows per operator", 2),
        run.of_report(|op| op.rows.written as f64)
    );
    let calls_total = run.per_operator("Calls, mean call latency and failure ratio", 0);
    assert_eq!(calls_total, run.of_report(calls));
    assert!(calls_total.values().all(|&calls| calls > 0.0));
    assert_eq!(
        run.per_operator("Calls, mean call latency and failure ratio", 2),
        run.of_report(|op| op.calls.failed as f64 / calls(op))
    );
    let runs: f64 = run
        .panel("Pipeline runs, by result", 0)
        .iter()
        .map(|(_, runs)| runs)
        .sum();
    assert_eq!(
        runs,
        run.report
            .runs
            .iter()
            .map(|run| run.runs as f64)
            .sum::<f64>()
    );
    // The example installs the tracking allocator: what each operator allocated, beside
    // what no operator did.
    let mut allocated = run.per_operator("Heap per operator: peak and allocated", 1);
    let outside = allocated
        .remove(&("unattributed".to_owned(), "unattributed".to_owned()))
        .expect("the memory allocated outside any operator");
    assert!(outside > 0.0);
    assert_eq!(
        allocated,
        run.of_report(|op| op.memory.expect("measured").allocated as f64)
    );
    let series = run.panel("Operator series (limit 28,672 per process)", 0);
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].1, run.report.operators.len() as f64);
}

/// Each step's time falls in a bucket of the documented boundaries, and so does the
/// dashboard's p95 of it (with the SDK's default boundaries, meant for milliseconds, a
/// step of 100 µs had a p95 of 4.75 s).
fn assert_steps_fall_in_their_buckets(run: &ScrapedRun) {
    let p95: BTreeMap<String, f64> = run
        .panel("Step duration: mean and p95", 1)
        .into_iter()
        .map(|(labels, value)| (labels["step"].clone(), value))
        .collect();
    assert!(!run.report.steps.is_empty());
    for step in &run.report.steps {
        // The example calls each step once: its time is one call's.
        assert_eq!(step.calls, 1, "step {}", step.step);
        let mut bounds: Vec<(f64, f64)> = run
            .prometheus
            .query(
                &format!(
                    "max_over_time(pipetel_pipeline_step_duration_seconds_bucket{{step=\"{}\"}}[{}])",
                    step.step, run.range
                ),
                run.end,
            )
            .iter()
            .map(|(labels, count)| (labels["le"].parse().expect("a bound"), *count))
            .collect();
        bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        let boundaries: Vec<f64> = bounds.iter().map(|&(bound, _)| bound).collect();
        assert_eq!(
            boundaries,
            [&pipetel::names::STEP_DURATION_BUCKETS[..], &[f64::INFINITY]].concat()
        );
        let upper = bounds
            .iter()
            .position(|&(_, count)| count >= 1.0)
            .expect("a bucket holding the call");
        let lower = upper.checked_sub(1).map_or(0.0, |below| bounds[below].0);
        let bucket = |seconds: f64| lower < seconds && seconds <= bounds[upper].0;
        let seconds = step.time.as_secs_f64();
        assert!(
            bucket(seconds),
            "step {} took {seconds} s, in the bucket ({lower}, {}]",
            step.step,
            bounds[upper].0
        );
        let quantile = p95[&step.step];
        assert!(
            bucket(quantile),
            "step {}: p95 {quantile} s, outside its call's bucket ({lower}, {}]",
            step.step,
            bounds[upper].0
        );
    }
}

#[test]
fn every_dashboard_query_returns_true_finite_data_from_a_real_prometheus() {
    let run = ScrapedRun::new();
    assert_promtool_accepts(&final_scrape());
    assert_variables_find_the_run(&run);
    assert_every_query_has_finite_data(&run);
    assert_totals_are_the_reports(&run);
    assert_steps_fall_in_their_buckets(&run);
}

#[test]
fn the_dashboard_imports_by_hand_and_follows_its_variables() {
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(DASHBOARD).expect("the dashboard"))
            .expect("the dashboard's JSON");
    assert_eq!(dashboard["__inputs"][0]["name"], "DS_PROMETHEUS");
    assert_eq!(dashboard["__inputs"][0]["pluginId"], "prometheus");
    let variables: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .expect("variables")
        .iter()
        .map(|variable| variable["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(variables, ["datasource", "namespace", "job", "node_type"]);
    // No data-source uid is written down: every query goes to the chosen data source.
    for panel in dashboard["panels"].as_array().expect("panels") {
        if panel["type"] == "row" {
            continue;
        }
        let title = &panel["title"];
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}");
        assert!(
            panel["description"]
                .as_str()
                .is_some_and(|question| question.ends_with(['?', '.'])),
            "{title}: the panel's question"
        );
        for target in panel["targets"].as_array().expect("targets") {
            assert_eq!(target["datasource"]["uid"], "${datasource}", "{title}");
            let expr = target["expr"].as_str().expect("expr");
            assert!(
                !expr.contains("pipetel_"),
                "{title}: {expr} ignores $namespace"
            );
        }
    }
}

#[test]
fn the_prometheus_config_is_valid_and_keeps_each_programs_labels() {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../ops/prometheus.yml");
    let checked = Command::new(installed("promtool"))
        .args(["check", "config", config])
        .output()
        .expect("promtool");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
    let text = std::fs::read_to_string(config).expect("the config");
    let collector_job = text
        .split("- job_name:")
        .find(|job| job.trim_start().starts_with("otel-collector"))
        .expect("the collector's job");
    assert!(
        collector_job.contains("honor_labels: true"),
        "{collector_job}"
    );
}
