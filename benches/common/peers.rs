//! What the benchmarks compare `#[operator]` and `#[pipeline_step]` with: the plain
//! function, tracing's `#[instrument]`, the same metric set recorded by hand through the
//! OpenTelemetry SDK (per call with its attributes, or through bound instruments), and an
//! exporter that drops spans. Shared by `overhead.rs` and `instructions.rs`.
//!
//! Two bodies: four `u64`s summed (a leaf that needs few registers), and eight summed
//! from a slice (`&[u64]`), which keeps more values live across the call, as real
//! operator bodies do — what an attribute's prologue costs depends on it. The SDK peers
//! time their calls with the clock pipetel reads (quanta's raw TSC read) and record raw
//! ticks, as pipetel does (it converts at export): the comparison is of what each records,
//! not of their clocks.

use std::hint::black_box;
use std::time::Duration;

use opentelemetry::metrics::UpDownCounter;
use opentelemetry::metrics::{BoundCounter, BoundUpDownCounter, Counter, MeterProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// The operator's input: four numbers, summed.
pub type Batch = [u64; 4];
/// The input every call gets.
pub const BATCH: Batch = [1, 2, 3, 4];

#[inline(never)]
pub fn plain(batch: &Batch) -> u64 {
    batch.iter().sum()
}

#[pipetel::operator(node_type = "filter")]
#[inline(never)]
pub fn operator(batch: &Batch) -> u64 {
    batch.iter().sum()
}

/// [`operator`] handing out an engine's batch: its rows out are thousands (the sum
/// times 819: 8,190), where the plain bodies' are below eight, whose bucket a call finds
/// without the conversion larger numbers take.
#[pipetel::operator(node_type = "filter", rows_out = |sum: &u64| sum * 819)]
#[inline(never)]
pub fn operator_batch_out(batch: &Batch) -> u64 {
    batch.iter().sum()
}

/// [`operator`] as a call of one of its partitions (`partition = …`): what it hands out
/// and its busy time also count for the partition, for skew.
#[pipetel::operator(node_type = "filter", partition = partition)]
#[inline(never)]
pub fn operator_partition(batch: &Batch, partition: usize) -> u64 {
    batch.iter().sum()
}

#[tracing::instrument(skip_all)]
#[inline(never)]
pub fn traced(batch: &Batch) -> u64 {
    batch.iter().sum()
}

/// The second body's input: eight numbers, summed from a slice.
pub const SLICE: [u64; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

#[inline(never)]
pub fn plain_slice(batch: &[u64]) -> u64 {
    batch.iter().sum()
}

#[pipetel::operator(node_type = "filter")]
#[inline(never)]
pub fn operator_slice(batch: &[u64]) -> u64 {
    batch.iter().sum()
}

#[tracing::instrument(skip_all)]
#[inline(never)]
pub fn traced_slice(batch: &[u64]) -> u64 {
    batch.iter().sum()
}

/// A meter provider that collects into memory once an hour: no export while measuring.
pub fn meter_provider() -> SdkMeterProvider {
    SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(InMemoryMetricExporter::default())
                .with_interval(Duration::from_secs(3600))
                .build(),
        )
        .build()
}

/// The attributes `#[operator]` exports, as a hand-written recorder would hold them.
fn attributes() -> [KeyValue; 2] {
    [
        KeyValue::new("node.id", "bench::sdk"),
        KeyValue::new("node.type", "filter"),
    ]
}

/// The metric set `#[operator]` keeps, recorded by hand through SDK instruments with the
/// two attributes `node.id` and `node.type` (pre-built, given on every call).
pub struct SdkSet {
    rows_in: Counter<u64>,
    rows_out: Counter<u64>,
    duration: Counter<u64>,
    active: UpDownCounter<i64>,
    completed: Counter<u64>,
    attributes: [KeyValue; 2],
    clock: quanta::Clock,
}

impl SdkSet {
    pub fn new(provider: &SdkMeterProvider) -> Self {
        let meter = provider.meter("bench");
        SdkSet {
            rows_in: meter.u64_counter("rows.in").build(),
            rows_out: meter.u64_counter("rows.out").build(),
            duration: meter.u64_counter("duration").build(),
            active: meter.i64_up_down_counter("task.active").build(),
            completed: meter.u64_counter("task.completed").build(),
            attributes: attributes(),
            clock: clock(),
        }
    }
}

impl Recorder for SdkSet {
    #[inline(always)]
    fn record(&self, rows: usize, body: impl FnOnce() -> u64) -> u64 {
        let attributes = &self.attributes;
        self.rows_in.add(rows as u64, attributes);
        self.active.add(1, attributes);
        let start = self.clock.raw();
        let out = body();
        self.duration
            .add(self.clock.raw().wrapping_sub(start), attributes);
        self.rows_out.add(1, attributes);
        self.completed.add(1, attributes);
        self.active.add(-1, attributes);
        out
    }
}

/// A hand-written recorder of the metric set `#[operator]` keeps, around the benchmarks'
/// two bodies: the peers differ in how they record, not in the calls timed.
pub trait Recorder {
    /// Records a call of `body`, which takes a batch of `rows` rows and hands out one.
    fn record(&self, rows: usize, body: impl FnOnce() -> u64) -> u64;

    /// A call on four numbers.
    #[inline(never)]
    fn call(&self, batch: &Batch) -> u64 {
        self.record(batch.len(), || batch.iter().sum())
    }

    /// A call on a slice of eight.
    #[inline(never)]
    fn call_slice(&self, batch: &[u64]) -> u64 {
        self.record(batch.len(), || batch.iter().sum())
    }
}

/// The clock pipetel reads, started.
pub fn clock() -> quanta::Clock {
    let clock = quanta::Clock::new();
    let _ = clock.raw();
    clock
}

/// The same metric set through the SDK's bound instruments: the attributes are resolved
/// once, when bound, not per call.
pub struct BoundSet {
    rows_in: BoundCounter<u64>,
    rows_out: BoundCounter<u64>,
    duration: BoundCounter<u64>,
    active: BoundUpDownCounter<i64>,
    completed: BoundCounter<u64>,
    clock: quanta::Clock,
}

impl BoundSet {
    pub fn new(provider: &SdkMeterProvider) -> Self {
        let meter = provider.meter("bench");
        let attributes = attributes();
        BoundSet {
            rows_in: meter.u64_counter("rows.in").build().bind(&attributes),
            rows_out: meter.u64_counter("rows.out").build().bind(&attributes),
            duration: meter.u64_counter("duration").build().bind(&attributes),
            active: meter
                .i64_up_down_counter("task.active")
                .build()
                .bind(&attributes),
            completed: meter
                .u64_counter("task.completed")
                .build()
                .bind(&attributes),
            clock: clock(),
        }
    }
}

impl Recorder for BoundSet {
    #[inline(always)]
    fn record(&self, rows: usize, body: impl FnOnce() -> u64) -> u64 {
        self.rows_in.add(rows as u64);
        self.active.add(1);
        let start = self.clock.raw();
        let out = body();
        self.duration.add(self.clock.raw().wrapping_sub(start));
        self.rows_out.add(1);
        self.completed.add(1);
        self.active.add(-1);
        out
    }
}

/// Drops every span: the benchmarks measure the calling thread only.
#[derive(Debug)]
pub struct Dropping;

impl SpanExporter for Dropping {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        drop(black_box(batch));
        Ok(())
    }
}

#[pipetel::pipeline_step]
#[inline(never)]
pub fn extract(rows: u64) -> Vec<u64> {
    vec![rows; 3]
}
