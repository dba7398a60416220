//! A real Prometheus server for the tests (Debian's `prometheus` package, which
//! `scripts/test` installs): started on 127.0.0.1 with a config the test writes, scraping one
//! target, and queried through its HTTP API.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::closed_port;

/// How often it scrapes: often, so that a run of a second or two is
/// scraped several times while it works.
const SCRAPE_INTERVAL: &str = "100ms";
/// Bounds every wait, only to fail rather than hang: a slow machine gets all it needs.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A Prometheus server on 127.0.0.1, scraping one target, with its data in a folder of
/// its own; stopped and removed on drop.
pub struct Prometheus {
    child: Child,
    address: String,
    /// The folder of its config and data (removed on drop), where a test may put files.
    pub dir: PathBuf,
    client: reqwest::blocking::Client,
}

/// The path of a command of Prometheus's package on `PATH`, or a failure saying how to
/// install it.
pub fn installed(command: &str) -> PathBuf {
    crate::process::on_path(command, "prometheus")
}

impl Prometheus {
    pub fn start(job: &str, target: &str) -> Prometheus {
        let dir = std::env::temp_dir().join(format!(
            "pipetel-prometheus-{}-{}",
            std::process::id(),
            closed_port()
        ));
        std::fs::create_dir_all(&dir).expect("a folder for Prometheus");
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: {SCRAPE_INTERVAL}\n  scrape_timeout: {SCRAPE_INTERVAL}\n\
                 scrape_configs:\n  - job_name: {job}\n    static_configs:\n      - targets: [\"{target}\"]\n"
            ),
        )
        .expect("write the config");
        let address = format!("127.0.0.1:{}", closed_port());
        let child = Command::new(installed("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus");
        let prometheus = Prometheus {
            child,
            address,
            dir,
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
        };
        prometheus.wait_until("ready", || {
            prometheus
                .client
                .get(format!("http://{}/-/ready", prometheus.address))
                .send()
                .is_ok_and(|response| response.status().is_success())
        });
        prometheus
    }

    pub fn wait_until(&self, what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done() {
            assert!(Instant::now() < deadline, "Prometheus: not {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `GET /api/v1/<path>?<parameters>`: the `data` of a successful answer.
    pub fn api(&self, path: &str, parameters: &[(&str, String)]) -> Value {
        let answer: Value = self
            .client
            .get(format!("http://{}/api/v1/{path}", self.address))
            .query(parameters)
            .send()
            .and_then(reqwest::blocking::Response::json)
            .unwrap_or_else(|error| panic!("{path} {parameters:?}: {error}"));
        assert_eq!(
            answer["status"], "success",
            "{path} {parameters:?}: {answer}"
        );
        answer["data"].clone()
    }

    /// A range query: every series with its values.
    pub fn query_range(&self, expr: &str, start: f64, end: f64) -> Vec<Value> {
        let data = self.api(
            "query_range",
            &[
                ("query", expr.to_owned()),
                ("start", start.to_string()),
                ("end", end.to_string()),
                ("step", "0.1".to_owned()),
            ],
        );
        data["result"].as_array().cloned().unwrap_or_default()
    }

    /// An instant query at `time`: each series' labels and value.
    pub fn query(&self, expr: &str, time: f64) -> Vec<(BTreeMap<String, String>, f64)> {
        let data = self.api(
            "query",
            &[("query", expr.to_owned()), ("time", time.to_string())],
        );
        data["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|series| {
                let labels = series["metric"]
                    .as_object()
                    .expect("labels")
                    .iter()
                    .map(|(key, value)| {
                        (key.clone(), value.as_str().unwrap_or_default().to_owned())
                    })
                    .collect();
                (labels, number(&series["value"][1]))
            })
            .collect()
    }

    /// The values of `label` on the series `matching` selects.
    pub fn label_values(&self, label: &str, matching: &str) -> BTreeSet<String> {
        self.api(
            &format!("label/{label}/values"),
            &[("match[]", matching.to_owned())],
        )
        .as_array()
        .expect("values")
        .iter()
        .filter_map(|value| value.as_str().map(str::to_owned))
        .collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A sample value as Prometheus writes it (a string, `NaN` and `±Inf` included).
pub fn number(value: &Value) -> f64 {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("not a sample value: {value}"))
}

/// Now, in seconds since the Unix epoch (Prometheus' time).
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}
