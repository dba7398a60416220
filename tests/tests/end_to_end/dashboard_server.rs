//! The dashboard's listener over plain HTTP, in the main example run as a child process:
//! no endpoint password or header value anywhere in what it serves, read-only, loopback
//! `Host` names only, a lingering stop that waits for the final view, and an address it
//! cannot listen on as one named warning while the program runs on; `Config::dashboard`
//! serves too, unless `OTEL_SDK_DISABLED` turns everything off.

use std::time::{Duration, Instant};

use pipetel_tests::{closed_port, run, start, wait_for_exit, watch_stderr};

const PROGRAM: &str = env!("CARGO_BIN_EXE_quickstart");
/// A program that asks for the dashboard in code (`--dashboard`: `Config::dashboard`).
const INSTRUMENTED: &str = env!("CARGO_BIN_EXE_instrumented");
const PATIENCE: Duration = Duration::from_secs(120);
const PASSWORD: &str = "hunter2-endpoint-password";
const TOKEN: &str = "s3cret-header-token";

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client")
}

#[test]
fn the_dashboard_serves_no_secret_is_read_only_and_lingers_for_the_final_view() {
    let endpoint = format!("http://collector:{PASSWORD}@127.0.0.1:{}", closed_port());
    let headers = format!("authorization=Bearer {TOKEN}");
    let mut example = start(
        PROGRAM,
        &[],
        &[
            ("ORDERS", "100000"),
            ("SCAN_PAUSE_MS", "300"),
            ("PIPETEL_DASHBOARD_ADDR", "127.0.0.1:0"),
            ("PIPETEL_DASHBOARD_LINGER", "60000"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_HEADERS", headers.as_str()),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "200"),
        ],
    );
    let (url_rx, stderr_lines) = watch_stderr(&mut example, "pipetel: dashboard at ");
    let url = url_rx
        .recv_timeout(PATIENCE)
        .expect("the dashboard's address");
    let client = client();
    let get = |path: &str| {
        let response = client.get(format!("{url}{path}")).send().expect("GET");
        (response.status().as_u16(), response.text().expect("a body"))
    };

    for path in ["", "api/view.json", "api/snapshot.json"] {
        let (status, body) = get(path);
        assert_eq!(status, 200, "/{path}: {body}");
        for secret in [PASSWORD, TOKEN, "collector:"] {
            assert!(!body.contains(secret), "/{path} holds {secret:?}");
        }
    }
    let page = client.get(&url).send().expect("GET /");
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.starts_with("default-src 'none'") && policy.contains("connect-src 'self'"),
        "{policy}"
    );
    let page = page.text().expect("the page");
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("Viz.js 3.31.0"));
    assert_eq!(get("elsewhere").0, 404);
    let post = client.post(&url).body("x").send().expect("POST");
    assert_eq!(post.status().as_u16(), 405);
    assert_eq!(
        post.headers().get("allow").map(|v| v.to_str().unwrap()),
        Some("GET, HEAD")
    );
    // A name that resolves elsewhere (DNS rebinding) is refused; loopback names are not.
    let with_host = |host: &str| {
        client
            .get(format!("{url}api/view.json"))
            .header("Host", host)
            .send()
            .expect("GET")
            .status()
            .as_u16()
    };
    assert_eq!(with_host("attacker.example:9465"), 403);
    assert_eq!(with_host("localhost:9465"), 200);

    // The run ends; the example lingers until a view is fetched after its work is over,
    // then exits. Views fetched meanwhile show the run going on, then done.
    let deadline = Instant::now() + PATIENCE;
    let mut statuses: Vec<String> = Vec::new();
    while example.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "the example did not exit");
        if let Ok(response) = client.get(format!("{url}api/view.json")).send() {
            if let Ok(view) = response.json::<serde_json::Value>() {
                let status = view["runs"][0]["status"].as_str().unwrap_or("").to_owned();
                if statuses.last() != Some(&status) {
                    statuses.push(status);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = wait_for_exit(example, PATIENCE);
    let stderr = stderr_lines.join().expect("stderr");
    assert!(output.status.success(), "{stderr:#?}");
    assert_eq!(
        statuses.last().map(String::as_str),
        Some("succeeded"),
        "{statuses:?}"
    );
    assert!(statuses.contains(&"running".to_owned()), "{statuses:?}");
}

#[test]
fn an_address_in_use_is_a_named_warning_and_the_program_runs_on() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let output = run(
        PROGRAM,
        &[],
        &[
            ("ORDERS", "20000"),
            ("PIPETEL_DASHBOARD_ADDR", address.as_str()),
        ],
        PATIENCE,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "pipetel: warning: PIPETEL_DASHBOARD_ADDR=\"{address}\": cannot listen there"
        )) && stderr.contains("no dashboard"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("RUN / STEP / OPERATOR"));
}

#[test]
fn config_dashboard_serves_unless_the_sdk_is_disabled() {
    let args = ["--dashboard", "127.0.0.1:0"];
    let served = run(INSTRUMENTED, &args, &[], PATIENCE);
    let stderr = String::from_utf8_lossy(&served.stderr);
    assert!(served.status.success(), "{stderr}");
    assert!(
        stderr.contains("pipetel: dashboard at http://127.0.0.1:"),
        "{stderr}"
    );

    let disabled = run(
        INSTRUMENTED,
        &args,
        &[("OTEL_SDK_DISABLED", "true")],
        PATIENCE,
    );
    let stderr = String::from_utf8_lossy(&disabled.stderr);
    assert!(disabled.status.success(), "{stderr}");
    assert!(
        !stderr.contains("dashboard at"),
        "everything is off: {stderr}"
    );
}
