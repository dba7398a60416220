//! A program built against pipetel without its `enabled` feature: every attribute and
//! every API call still compiles, the functions behave as written, and nothing is
//! counted, exported or reported — even with an OTLP endpoint, local collection and a
//! report asked for. `tests/tests/end_to_end/feature_off.rs` builds and runs it.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use pipetel::{current_operator, operator, pipeline_step, Config, Pipeline, Rows};
use pipetel::engine::OperatorCounter;

struct Batch(Vec<u64>);

impl Rows for Batch {
    fn rows(&self) -> u64 {
        self.0.len() as u64
    }
}

static SPILLS: OperatorCounter = OperatorCounter::new("spills", "{spill}", "Spills to disk");

#[operator(node_type = "scan", name = "numbers")]
fn scan(limit: u64) -> Batch {
    current_operator().add_bytes_read(limit * 8);
    current_operator().set_expected_rows(limit);
    Batch((0..limit).collect())
}

#[operator(node_type = "filter")]
fn keep_even(batch: Batch) -> Result<Batch, String> {
    if batch.0.is_empty() {
        return Err("empty batch".into());
    }
    SPILLS.add(1);
    Ok(Batch(batch.0.into_iter().filter(|n| n % 2 == 0).collect()))
}

#[operator(node_type = "scan")]
fn chunks(batch: &Batch) -> impl Iterator<Item = &[u64]> + '_ {
    batch.0.chunks(2)
}

#[operator(node_type = "sink")]
async fn total(batch: Batch) -> u64 {
    batch.0.iter().sum()
}

#[derive(Pipeline)]
#[pipeline(name = "off")]
struct Job {
    #[pipeline(attribute)]
    limit: u64,
}

impl Job {
    #[pipeline_step]
    fn extract(&self) -> Result<Batch, String> {
        keep_even(scan(self.limit))
    }

    #[pipeline_step(name = "load")]
    async fn load(&self, batch: Batch) -> u64 {
        total(batch).await
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn main() {
    let telemetry = Config::new()
        .namespace("off")
        .collect_locally(true)
        .max_node_ids_per_type(4)
        .init();
    assert!(
        !telemetry.is_enabled(),
        "init does nothing without the feature"
    );

    let job = Job { limit: 10 };
    let batch = job.run(|job| job.extract()).expect("extract");
    assert_eq!(batch.0, vec![0, 2, 4, 6, 8]);
    assert_eq!(chunks(&batch).count(), 3);
    let sum = block_on(job.run_async(async { Ok::<_, String>(job.load(batch).await) }));
    assert_eq!(sum, Ok(20));
    assert_eq!(
        keep_even(Batch(Vec::new())).err(),
        Some("empty batch".to_owned())
    );
    assert!(!current_operator().is_recording());
    let _ = pipetel::otel::meter("off").u64_counter("user").build();
    let _ = pipetel::otel::trace_env();

    let snapshot = pipetel::snapshot();
    assert!(snapshot.operators.is_empty(), "{snapshot:?}");
    assert!(
        snapshot.runs.is_empty() && snapshot.steps.is_empty(),
        "{snapshot:?}"
    );
    assert!(
        pipetel::report().to_string().lines().count() <= 1,
        "{}",
        pipetel::report()
    );
    drop(telemetry);
    println!("feature off: every call behaved as written, nothing was recorded");
}
