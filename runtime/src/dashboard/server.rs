//! The dashboard's HTTP listener (cargo feature `dashboard`): `tiny_http` on a thread of
//! its own, serving the page at `/`, what it polls at `/api/view.json`, and the snapshot
//! at `/api/snapshot.json`. Read-only: anything but `GET` and `HEAD` is refused (405).
//!
//! Work happens only when a page asks: a view is a snapshot and its formatting, on this
//! thread, once per poll (a page polls once a second), never on the pipeline's threads.
//!
//! A batch job is over before anyone looks: with `PIPETEL_DASHBOARD_LINGER`, the
//! dashboard outlives the job's work until a page has fetched the final figures, or the
//! time is up.
//!
//! On a loopback address it answers only requests whose `Host` is a loopback name
//! (`localhost`, `127.0.0.1`, `[::1]`), so that a web page elsewhere cannot read it
//! through a DNS name rebound to 127.0.0.1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::dashboard::memory_lane::MemoryLane;
use crate::dashboard::process::ProcessReader;
use crate::dashboard::{page, view};
use crate::env::PIPETEL_DASHBOARD_ADDR;
use crate::insight::read_snapshot::{observe, snapshot};
use crate::insight::report::Report;
use crate::insight::snapshot_dir::job_mates::with_job_mates;
use crate::linger::Answered;

/// A running dashboard listener.
pub(crate) struct DashboardServer {
    server: Arc<tiny_http::Server>,
    thread: std::thread::JoinHandle<()>,
    /// Views served (the page's polls).
    views: Arc<Answered>,
    /// `PIPETEL_DASHBOARD_LINGER`.
    linger: Duration,
}

impl DashboardServer {
    /// Stops serving; first, for up to `PIPETEL_DASHBOARD_LINGER`, waits for a page to
    /// fetch a view (the final one: the work is over).
    pub(crate) fn stop(self) {
        if !self.linger.is_zero() {
            self.views.wait_for(1, self.linger);
        }
        self.server.unblock();
        let _ = self.thread.join();
    }
}

/// Starts serving on `address`, to linger at most `linger` at exit, showing the whole
/// job when the processes of its job write their snapshots into `snapshot_dir`; a
/// problem is a message naming the variable and the address.
pub(crate) fn start(
    address: &str,
    linger: Duration,
    snapshot_dir: Option<PathBuf>,
) -> Result<DashboardServer, String> {
    let server = crate::listener::http_server(address)
        .map(Arc::new)
        .map_err(|error| {
            format!(
                "{PIPETEL_DASHBOARD_ADDR}={address:?}: cannot listen there: {error}; no dashboard"
            )
        })?;
    let bound = server.server_addr().to_ip();
    let loopback = bound.is_some_and(|bound: SocketAddr| bound.ip().is_loopback());
    if let Some(bound) = bound {
        // The one line the dashboard prints: where it is (with `:0`, the port picked).
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr().lock(),
            "pipetel: dashboard at http://{bound}/"
        );
    }
    let serving = server.clone();
    let views = Arc::new(Answered::default());
    let counted = views.clone();
    let thread = std::thread::Builder::new()
        .name("pipetel-dashboard".into())
        .spawn(move || serve(&serving, loopback, &counted, snapshot_dir.as_deref()))
        .map_err(|error| format!("{PIPETEL_DASHBOARD_ADDR}={address:?}: {error}; no dashboard"))?;
    Ok(DashboardServer {
        server,
        thread,
        views,
        linger,
    })
}

fn serve(
    server: &tiny_http::Server,
    loopback: bool,
    views: &Answered,
    snapshot_dir: Option<&Path>,
) {
    let mut process = ProcessReader::new();
    let mut lane = MemoryLane::new();
    for request in server.incoming_requests() {
        let response = respond(&request, loopback, &mut process, &mut lane, snapshot_dir);
        let a_view = response.status_code().0 == 200 && request.url().starts_with("/api/view.json");
        if request.respond(response).is_ok() && a_view {
            views.count_one();
        }
    }
}

type Response = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

fn respond(
    request: &tiny_http::Request,
    loopback: bool,
    process: &mut ProcessReader,
    lane: &mut MemoryLane,
    snapshot_dir: Option<&Path>,
) -> Response {
    use tiny_http::Method;
    if !matches!(request.method(), Method::Get | Method::Head) {
        return text(405, "the pipetel dashboard is read-only\n")
            .with_header(header("Allow", "GET, HEAD"));
    }
    if loopback && !request.headers().iter().any(is_loopback_host) {
        return text(403, "the pipetel dashboard answers loopback hosts only\n");
    }
    match request.url().split('?').next().unwrap_or("") {
        "/" | "/index.html" => {
            let body = page::render(&current(process, lane, snapshot_dir));
            sent(body, "text/html; charset=utf-8").with_header(header(
                "Content-Security-Policy",
                // Inline style and script, WebAssembly for the graph layout, and requests
                // to this listener only.
                "default-src 'none'; style-src 'unsafe-inline'; \
                 script-src 'unsafe-inline' 'wasm-unsafe-eval'; connect-src 'self'; \
                 img-src data:; frame-ancestors 'none'",
            ))
        }
        "/api/view.json" => sent(
            current(process, lane, snapshot_dir).json(),
            "application/json",
        ),
        "/api/snapshot.json" => {
            let snapshot = match snapshot_dir {
                Some(dir) => with_job_mates(dir, snapshot()),
                None => snapshot(),
            };
            sent(Report::of(snapshot).json(), "application/json")
        }
        _ => text(
            404,
            "the pipetel dashboard serves /, /api/view.json and /api/snapshot.json\n",
        ),
    }
}

/// Whether `header` is a `Host` naming a loopback address, any port.
fn is_loopback_host(header: &tiny_http::Header) -> bool {
    if !header.field.equiv("Host") {
        return false;
    }
    let host = header.value.as_str();
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name, value).expect("a valid header")
}

fn sent(body: String, content_type: &str) -> Response {
    tiny_http::Response::from_data(body.into_bytes())
        .with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
}

fn text(status: u16, body: &str) -> Response {
    sent(body.to_owned(), "text/plain; charset=utf-8").with_status_code(status)
}

/// The live view now, of everything counted so far (in every process of the job, with
/// a snapshot directory), with the memory lane that now's sample extends.
fn current(
    process: &mut ProcessReader,
    lane: &mut MemoryLane,
    snapshot_dir: Option<&Path>,
) -> view::View {
    let own = observe();
    let snapshot = match snapshot_dir {
        Some(dir) => with_job_mates(dir, own),
        None => own,
    };
    lane.record_now(&snapshot);
    let mut view = view::View::of(
        snapshot,
        crate::pipeline::history::run_history(),
        process.read(),
        true,
    );
    view.memory_lane = lane.view();
    view
}
