//! The main example's run time with the dashboard open — a client fetching its view at
//! the page's rate, once a second, as an open browser tab does — against the dashboard
//! with nobody looking, in one process: `cargo bench -p pipetel-benches --bench
//! dashboard_polled --features dashboard`. 200,000 orders in 8,192-row batches, the file generated once.
//! The idle case runs before and after the polled ones, to show the drift of the machine.
//! Last, one poll on its own: what a page costs the process once a second.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use pipetel_examples::regional_totals::generated;

/// A client fetching `/api/view.json` every `every` until dropped.
struct Poller {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Poller {
    fn start(url: String, every: Duration) -> Poller {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let client = reqwest::blocking::Client::new();
            let mut fetched = 0;
            while !stopped.load(Ordering::Relaxed) {
                let view = client.get(&url).send().and_then(|r| r.error_for_status());
                if view.and_then(|r| r.bytes()).is_ok() {
                    fetched += 1;
                }
                std::thread::sleep(every);
            }
            fetched
        });
        Poller {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let fetched = self.thread.take().map_or(0, |t| t.join().unwrap_or(0));
        eprintln!("the client fetched {fetched} views");
    }
}

fn dashboard(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("pipetel-bench-{}", std::process::id()));
    let pipeline = generated(&dir, 200_000).expect("orders");
    let run = || pipetel::Pipeline::run(&pipeline, |p| p.run_all()).expect("run");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let telemetry = pipetel::Config::new()
        .dashboard(format!("127.0.0.1:{port}"))
        .init();
    assert!(telemetry.is_enabled());
    let url = format!("http://127.0.0.1:{port}/api/view.json");

    let mut group = c.benchmark_group("regional_totals_200k_dashboard");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("nobody_looking", |b| b.iter(run));
    {
        let _page = Poller::start(url.clone(), Duration::from_secs(1));
        group.bench_function("polled_every_second", |b| b.iter(run));
    }
    {
        let _page = Poller::start(url.clone(), Duration::from_millis(100));
        group.bench_function("polled_every_100ms", |b| b.iter(run));
    }
    group.bench_function("nobody_looking_after", |b| b.iter(run));
    group.finish();
    // What one poll costs: the view of the example's five operators, its run and steps,
    // fetched over loopback (the dashboard thread's work and the round trip).
    // A run first, so that the view has what a run leaves even when the groups are
    // filtered out; then every fetch on one kept-alive connection, as the page's.
    run();
    let client = reqwest::blocking::Client::new();
    let fetch = || {
        let view = client.get(&url).send().and_then(|r| r.bytes());
        assert!(view.is_ok_and(|body| body.len() > 1_000));
    };
    c.bench_function("dashboard_view_fetched", |b| b.iter(fetch));
    drop(telemetry);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, dashboard);
criterion_main!(benches);
