//! A real headless browser for the page tests: Debian's `chromium`, driven over
//! WebDriver by its `chromedriver` (`apt-get install -y chromium chromium-driver`, as
//! `scripts/test` does) through `fantoccini`; and what a pipetel page shows, read from its DOM.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

/// How long chromedriver may take to listen, and Chromium to start.
const START_PATIENCE: Duration = Duration::from_secs(60);

/// `command`'s path on `PATH`; a panic saying how to install it when it is missing.
fn on_path(command: &str) -> PathBuf {
    crate::process::on_path(command, "chromium chromium-driver")
}

/// A running chromedriver with one headless Chromium session; both end on drop.
pub struct Browser {
    driver: Child,
    client: Option<Client>,
    runtime: tokio::runtime::Runtime,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless Chromium session
    /// (`width` × `height` pixels).
    pub fn start(width: u32, height: u32) -> Browser {
        let chromium = on_path("chromium");
        let port = crate::closed_port();
        let driver = Command::new(on_path("chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + START_PATIENCE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    format!("--window-size={width},{height}"),
                ],
            }),
        );
        let client = runtime
            .block_on(
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(capabilities)
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .expect("a Chromium session");
        Browser {
            driver,
            client: Some(client),
            runtime,
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("a session")
    }

    /// Opens `url`.
    pub fn open(&self, url: &str) {
        self.runtime
            .block_on(self.client().goto(url))
            .unwrap_or_else(|error| panic!("open {url}: {error}"));
    }

    /// Runs `script` (a function body that returns a value) in the page.
    pub fn run(&self, script: &str) -> Value {
        self.runtime
            .block_on(self.client().execute(script, Vec::new()))
            .unwrap_or_else(|error| panic!("run a script: {error}"))
    }

    /// Clicks the element `css` selects, as a user would (WebDriver's element click).
    pub fn click(&self, css: &str) {
        self.runtime
            .block_on(async {
                let element = self.client().find(fantoccini::Locator::Css(css)).await?;
                element.click().await
            })
            .unwrap_or_else(|error| panic!("click {css}: {error}"));
    }

    /// What the pipetel page shows now.
    pub fn page(&self) -> Page {
        serde_json::from_value(self.run(PAGE_STATE)).expect("the page's state")
    }

    /// Saves a PNG of the window to `path`.
    pub fn screenshot(&self, path: &Path) {
        let png = self
            .runtime
            .block_on(self.client().screenshot())
            .expect("a screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the artefacts' folder");
        }
        std::fs::write(path, png).expect("write the screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// What a pipetel page (the dashboard, the HTML report) shows, as text read from its
/// DOM.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Page {
    /// The status line.
    pub status: String,
    /// The operators table: each row's cells (name, step, then the report's columns).
    pub operators: Vec<Vec<String>>,
    /// The edges table: producer, consumer, rows, bytes, batches, via.
    pub edges: Vec<Vec<String>>,
    /// The graph's drawn nodes: (id, text).
    pub nodes: Vec<(String, String)>,
    /// The graph's drawn edges: (id, text).
    pub arrows: Vec<(String, String)>,
    /// Each run's text.
    pub runs: Vec<String>,
    /// The bottleneck line, if shown.
    pub bottleneck: String,
    /// When the data shown was read (ms since the epoch), as the page says.
    pub taken_at: Option<String>,
    /// The name of the operator selected, if any.
    pub selected: String,
    /// Its detail lines (wait states, distributions, skew), as shown.
    pub selected_details: Vec<String>,
    /// The processes of the job, as listed (none unless the page is of several).
    pub processes: Vec<String>,
    /// The process's figures in the header: resident memory, the heap, CPU.
    pub process: String,
    /// The memory lane's lines, when shown: (operator, points drawn).
    pub memory_lines: Vec<(String, usize)>,
    /// The memory lane's legend, when shown.
    pub memory_legend: Vec<String>,
}

impl Page {
    /// The operators row whose name is `name`.
    pub fn operator(&self, name: &str) -> Option<&Vec<String>> {
        self.operators.iter().find(|row| row[0] == name)
    }
}

const PAGE_STATE: &str = r##"
const cells = (row) => [...row.children].map((cell) => cell.textContent);
const texts = (selector) => [...document.querySelectorAll(selector)];
const bottleneck = document.getElementById("bottleneck");
return {
  status: document.getElementById("status").textContent,
  operators: texts("#operators tbody tr").map(cells),
  edges: texts("#edges tbody tr").map(cells),
  nodes: texts("#graph svg g.node").map((g) => [g.id, g.textContent]),
  arrows: texts("#graph svg g.edge").map((g) => [g.id, g.textContent]),
  runs: texts("#runs .run").map((run) => run.textContent),
  bottleneck: bottleneck.hidden ? "" : bottleneck.textContent,
  taken_at: document.body.getAttribute("data-taken-at"),
  selected: document.getElementById("selected-name").textContent,
  selected_details: texts("#selected-details li").map((li) => li.textContent),
  processes: document.getElementById("processes-panel").hidden
    ? []
    : texts("#processes li").map((li) => li.textContent),
  process: document.getElementById("process").textContent,
  memory_lines: document.getElementById("memory-panel").hidden
    ? []
    : texts("#memory-lane polyline").map((line) =>
        [line.getAttribute("data-name"), line.points.numberOfItems]),
  memory_legend: document.getElementById("memory-panel").hidden
    ? []
    : texts("#memory-legend li").map((li) => li.textContent),
};
"##;

/// Where the tests leave their artefacts (screenshots): `target/browser-artefacts`.
pub fn artefacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("browser-artefacts")
}
