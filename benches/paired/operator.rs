//! The operator both sides of `paired.sh` time: `overhead.rs`'s (`common/peers.rs`),
//! compiled against one commit's pipetel. `paired.sh` copies this file into a crate per
//! commit, so that it must build against older pipetels too: public API only.
//!
//! With `NODES=n` (n > 1) in the environment, each call is one of `n` plan nodes in turn
//! (one call site given its `node_id` per call), as an engine calls a batch's nodes.

use std::hint::black_box;
use std::sync::OnceLock;

/// The operator's input: four numbers, summed.
type Batch = [u64; 4];
/// The input every call gets.
const BATCH: Batch = [1, 2, 3, 4];

#[pipetel::operator(node_type = "filter")]
#[inline(never)]
fn operator(batch: &Batch) -> u64 {
    batch.iter().sum()
}

/// The same operator given its node per call.
#[pipetel::operator(node_type = "filter", node_id = node_id)]
#[inline(never)]
fn operator_of(node_id: &str, batch: &Batch) -> u64 {
    batch.iter().sum()
}

/// The nodes `NODES` asks for, none when it asks for one or fewer.
fn nodes() -> &'static [String] {
    static NODES: OnceLock<Vec<String>> = OnceLock::new();
    NODES.get_or_init(|| {
        let count: usize = std::env::var("NODES")
            .ok()
            .and_then(|nodes| nodes.parse().ok())
            .unwrap_or(1);
        if count <= 1 {
            return Vec::new();
        }
        (0..count).map(|node| format!("plan-node-{node}")).collect()
    })
}

/// Turns this commit's pipetel on, counting locally (no exporter, no export during the
/// measurement); telemetry stays on while the returned guard lives.
pub fn init() -> Box<dyn std::any::Any> {
    let telemetry = pipetel::Config::new().collect_locally(true).init();
    assert!(telemetry.is_enabled(), "pipetel did not turn on");
    Box::new(telemetry)
}

/// Calls the operator `calls` times.
#[inline(never)]
pub fn round(calls: u64) {
    let nodes = nodes();
    if nodes.is_empty() {
        for _ in 0..calls {
            black_box(operator(black_box(&BATCH)));
        }
    } else {
        for call in 0..calls as usize {
            let node = &nodes[call % nodes.len()];
            black_box(operator_of(black_box(node), black_box(&BATCH)));
        }
    }
}
