//! The operator both sides of `paired.sh` time: `overhead.rs`'s (`common/peers.rs`),
//! compiled against one commit's pipetel. `paired.sh` copies this file into a crate per
//! commit, so that it must build against older pipetels too: public API only.

use std::hint::black_box;

/// The operator's input: four numbers, summed.
type Batch = [u64; 4];
/// The input every call gets.
const BATCH: Batch = [1, 2, 3, 4];

#[pipetel::operator(node_type = "filter")]
#[inline(never)]
fn operator(batch: &Batch) -> u64 {
    batch.iter().sum()
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
    for _ in 0..calls {
        black_box(operator(black_box(&BATCH)));
    }
}
