//! The main example: a query pipeline over 500,000 generated orders (scan a CSV file →
//! filter → project → hash aggregate → write), every operator annotated, run as a
//! `Pipeline` with three steps. Prints the totals, then pipetel's report; with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set it exports metrics, spans and logs instead.
//!
//! ```text
//! cargo run --release --example quickstart
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 cargo run --release --example quickstart
//! ```
//!
//! The code is in `examples/src/regional_totals.rs`.

/// Memory per operator in the report and the dashboard: every heap block charged to the
/// operator that allocated it (the package's default feature `alloc`).
#[cfg(feature = "alloc")]
#[global_allocator]
static ALLOCATOR: pipetel::alloc::Tracking<std::alloc::System> =
    pipetel::alloc::Tracking::new(std::alloc::System);

fn main() -> Result<(), String> {
    pipetel_examples::regional_totals::main()
}
