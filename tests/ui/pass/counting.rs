//! The counting keys: `rows_in`, `rows_out` (a closure over the output), `bytes_read`,
//! `bytes_written`, `name`, and `node_id` of each kind (integer, `String`, `&str`, a
//! newtype implementing `NodeId`).
#![deny(warnings)]

use pipetel::{operator, Bytes};
use pipetel::engine::{NodeId, NodeKey};

struct PlanNode(u32);

impl NodeId for PlanNode {
    fn node_key(&self) -> NodeKey<'_> {
        NodeKey::Int(self.0.into())
    }
}

#[operator(
    node_type = "decode",
    name = "csv decoder",
    bytes_read = data.len(),
    rows_in = 0u8,
    rows_out = |rows: &Vec<String>| rows.len(),
)]
fn decode(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data).lines().map(str::to_owned).collect()
}

#[operator(node_type = "encode", bytes_written = |out| out.bytes_len())]
fn encode(rows: &[String]) -> String {
    rows.join("\n")
}

#[operator(node_type = "node", node_id = PlanNode(7))]
fn seven() -> u8 {
    7
}

#[operator(node_type = "node", node_id = label)]
fn labelled(label: &str) -> usize {
    label.len()
}

#[operator(node_type = "node", node_id = -3i64)]
fn negative() -> i64 {
    -3
}

fn main() {
    let _telemetry = pipetel::Config::new()
        .with_metric_exporter(opentelemetry_sdk::metrics::InMemoryMetricExporter::default())
        .init();
    let rows = decode(b"a\nb");
    assert_eq!(rows, vec!["a", "b"]);
    assert_eq!(encode(&rows), "a\nb");
    assert_eq!(seven(), 7);
    assert_eq!(labelled("x"), 1);
    assert_eq!(negative(), -3);
}
