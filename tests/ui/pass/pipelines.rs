//! `#[derive(Pipeline)]` on named, unit and generic structs with attribute fields of
//! every supported type; `#[pipeline_step]` on free functions, methods, generic and
//! `async fn`s, returning `Result` (with `?`, also through `io::Result`), `Option`
//! (with `?`), `impl Trait`, `!`, with `rows = …`; `run` and `run_async`.
#![deny(warnings)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use pipetel::{pipeline_step, Pipeline};

#[derive(Pipeline)]
#[pipeline(name = "orders")]
struct Orders {
    #[pipeline(attribute)]
    destination: String,
    #[pipeline(attribute = "dataset.name")]
    dataset: &'static str,
    #[pipeline(attribute)]
    batch_size: u32,
    #[pipeline(attribute)]
    dry_run: bool,
    #[pipeline(attribute)]
    sample: f64,
    #[pipeline(attribute)]
    region: Option<&'static str>,
    #[allow(dead_code)]
    secret: Vec<u8>,
}

#[derive(Pipeline)]
struct Nightly;

#[derive(Pipeline)]
struct Generic<T: Clone> {
    #[pipeline(attribute)]
    label: String,
    #[allow(dead_code)]
    items: Vec<T>,
}

impl Orders {
    #[pipeline_step]
    fn extract(&self) -> Result<Vec<u32>, String> {
        if self.dry_run {
            return Ok(Vec::new());
        }
        Ok(vec![1, 2, 3])
    }

    #[pipeline_step(name = "parse", rows = |rows: &Result<Vec<u32>, std::num::ParseIntError>| rows.as_ref().map_or(0, Vec::len))]
    fn parse_all(&self, raw: &[&str]) -> Result<Vec<u32>, std::num::ParseIntError> {
        let mut out = Vec::new();
        for text in raw {
            out.push(text.parse()?);
        }
        Ok(out)
    }

    #[pipeline_step]
    async fn load(&self, rows: Vec<u32>) -> Result<usize, String> {
        if rows.is_empty() {
            return Err("nothing to load".into());
        }
        Ok(rows.len())
    }
}

#[pipeline_step]
fn read_file(path: &str) -> std::io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    Ok(text)
}

#[pipeline_step]
fn first_word(text: &str) -> Option<&str> {
    let word = text.split(' ').next()?;
    Some(word)
}

#[pipeline_step]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[pipeline_step]
fn generic_step<T: Clone>(items: &[T]) -> Vec<T> {
    items.to_vec()
}

#[pipeline_step]
async fn collect_async(limit: u32) -> Vec<u32> {
    (0..limit).collect()
}

/// Polls a future that never waits to completion.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

#[pipeline_step]
fn halt(reason: &str) -> ! {
    panic!("{reason}")
}

#[pipeline_step(name = "serve")]
async fn serve_forever() -> ! {
    loop {
        std::future::pending::<()>().await;
    }
}

fn main() {
    let _telemetry = pipetel::Config::new()
        .with_metric_exporter(opentelemetry_sdk::metrics::InMemoryMetricExporter::default())
        .init();
    let orders = Orders {
        destination: "warehouse".into(),
        dataset: "sales",
        batch_size: 100,
        dry_run: false,
        sample: 0.5,
        region: None,
        secret: vec![1],
    };
    assert_eq!(orders.pipeline_name(), "orders");
    assert_eq!(orders.pipeline_attributes().len(), 6);
    let loaded = orders.run(|p| {
        let rows = p.extract()?;
        let parsed = p.parse_all(&["4", "5"]).map_err(|e| e.to_string())?;
        ready(p.load([rows, parsed].concat()))
    });
    assert_eq!(loaded, Ok(5));
    assert!(orders.parse_all(&["x"]).is_err());
    assert_eq!(ready(orders.run_async(orders.load(vec![]))), Err("nothing to load".to_string()));

    assert_eq!(Nightly.pipeline_name(), "nightly");
    let generic = Generic { label: "g".into(), items: vec![1u8] };
    assert_eq!(generic.pipeline_name(), "generic");
    assert!(read_file("/definitely/not/here").is_err());
    assert_eq!(first_word("a b"), Some("a"));
    assert_eq!(evens(5).count(), 3);
    assert_eq!(generic_step(&[1, 2]), vec![1, 2]);
    assert_eq!(ready(collect_async(3)), vec![0, 1, 2]);
    assert!(std::panic::catch_unwind(|| halt("stop")).is_err());
    drop(serve_forever());
}
