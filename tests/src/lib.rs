//! Test support: a real OTLP receiver on 127.0.0.1 (gRPC with tonic, HTTP/protobuf with
//! axum) that decodes what arrives with the official `opentelemetry-proto` types; the
//! decoded records; child processes with a given environment; in-process collection; a
//! real Prometheus server; Graphviz; a headless Chromium; the modules' import graph; the
//! reference tables made from the code.

pub mod browser;
pub mod chrome_trace;
pub mod faults;
mod graphviz;
pub mod in_memory;
pub mod module_graph;
pub mod own_process;
mod process;
mod prometheus_server;
mod receiver;
mod records;
mod reference;
pub mod tls;

pub use graphviz::{graphviz, laid_out};
pub use process::{
    assert_success, closed_port, on_path, redacted, run, run_in, run_until, start, wait_for_exit,
    watch_stderr,
};
pub use prometheus_server::{installed, now, number, Prometheus, PATIENCE};
pub use receiver::Receiver;
pub use records::{
    attributes, histograms, log_records, points, resource_attributes, spans, HistogramPoint,
    LogRecord, Point, SpanRecord,
};
pub use reference::{between_markers, reference_table, REFERENCE_TABLES};

/// The guide's memory chapter's Rust examples (`docs/memory.md`), compiled and run as doc
/// tests with the `alloc` feature this crate turns on.
#[cfg(doctest)]
#[doc = include_str!("../../docs/memory.md")]
pub struct MemoryGuideDoctests;
