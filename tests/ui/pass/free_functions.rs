//! Free functions: plain, `pub`, with attributes and docs, `unsafe`, unit return,
//! `return;`, `#[track_caller]`, `extern "C"`.
#![deny(warnings)]

use pipetel::operator;

/// Docs stay on the function.
#[operator(node_type = "filter")]
#[inline]
pub fn keep_small(batch: Vec<u32>, limit: u32) -> Vec<u32> {
    batch.into_iter().filter(|&x| x < limit).collect()
}

#[operator(node_type = "sink")]
fn log(batch: &[u32], out: &mut Vec<u32>) {
    if batch.is_empty() {
        return;
    }
    out.extend_from_slice(batch);
}

#[operator(node_type = "raw")]
unsafe fn first(pointer: *const u32) -> u32 {
    *pointer
}

#[operator(node_type = "caller")]
#[track_caller]
fn where_called() -> u32 {
    std::panic::Location::caller().line()
}

#[operator(node_type = "ffi")]
extern "C" fn double(x: i32) -> i32 {
    x * 2
}

#[operator(node_type = "todo")]
#[allow(dead_code)]
fn not_written_yet(batch: Vec<u8>) -> Vec<u8> {
    let _ = batch;
    unimplemented!()
}

fn main() {
    let _telemetry = pipetel::Config::new()
        .with_metric_exporter(opentelemetry_sdk::metrics::InMemoryMetricExporter::default())
        .init();
    assert_eq!(keep_small(vec![1, 5, 9], 6), vec![1, 5]);
    let mut out = Vec::new();
    log(&[], &mut out);
    log(&[7], &mut out);
    assert_eq!(out, vec![7]);
    assert_eq!(unsafe { first(&42) }, 42);
    assert_eq!(where_called(), line!());
    assert_eq!(double(4), 8);
}
