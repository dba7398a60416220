//! Instructions (Callgrind) of the tracking allocator and of an operator call with the
//! `alloc` feature, deterministic where nanoseconds are not:
//!
//! - an allocate + free of 64 B and 4 KiB through `pipetel::alloc::Tracking<System>`
//!   (inside an operator's call, as an operator's allocations are) against the same
//!   through `System`;
//! - an `#[operator]` call, telemetry on, in this package (built with `alloc`, the
//!   tracking allocator the program's global one), against the same body in
//!   pipetel-benches (built without it): what the memory sampled at each call's end adds.
//!
//! ```sh
//! cargo install gungraun-runner --version 0.20.0   # once; needs valgrind
//! cargo bench -p pipetel-allocator-bench --bench instructions
//! python3 benches/allocator/instructions_table.py
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;

use gungraun::prelude::*;
use pipetel::alloc::Tracking;

#[global_allocator]
static ALLOCATOR: Tracking<System> = Tracking::new(System);

/// Operations per benchmark: a figure divided by this is per operation, loop included.
const OPS: u64 = 1000;

/// The body pipetel-benches' per-call benchmarks call: four numbers, summed.
type Batch = [u64; 4];
const BATCH: Batch = [1, 2, 3, 4];

#[pipetel::operator(node_type = "filter")]
#[inline(never)]
fn operator(batch: &Batch) -> u64 {
    batch.iter().sum()
}

/// `OPS` allocations and frees of `size` bytes through `allocator`.
///
/// A block is first allocated and freed with a small one kept after it: a block that
/// borders the heap's free top goes back into it when freed and is split off it again,
/// one that does not is reused from a free list — two paths of the system allocator
/// whose lengths differ by dozens of instructions. The fence makes every run take the
/// second, whatever the heap looked like before.
#[inline(never)]
fn churn(allocator: &dyn GlobalAlloc, size: usize) -> u64 {
    let layout = Layout::from_size_align(size, 8).expect("a layout");
    let fence_layout = Layout::from_size_align(16, 8).expect("a layout");
    // SAFETY: non-zero layouts; each block is freed with its own.
    let fence = unsafe {
        let first = allocator.alloc(layout);
        let fence = allocator.alloc(fence_layout);
        allocator.dealloc(first, layout);
        fence
    };
    let mut seen = 0u64;
    for _ in 0..OPS {
        // SAFETY: a non-zero layout; the block is freed with it.
        unsafe {
            let block = allocator.alloc(layout);
            seen = seen.wrapping_add(black_box(block) as u64);
            allocator.dealloc(block, layout);
        }
    }
    // SAFETY: allocated above with this layout.
    unsafe { allocator.dealloc(fence, fence_layout) };
    seen
}

/// Telemetry on, counting for local consumers, the operator called once (its call site
/// resolved), and an operator whose call the allocations run in.
fn telemetry_on() -> pipetel::Operator {
    std::mem::forget(pipetel::Config::new().collect_locally(true).init());
    operator(&BATCH);
    let owner = pipetel::Operator::new("bench", "alloc");
    owner.call(|| churn(&System, 64));
    owner
}

#[library_benchmark]
#[bench::b64(args = (64), setup = sized)]
#[bench::b4096(args = (4096), setup = sized)]
fn alloc_free_system((owner, size): (pipetel::Operator, usize)) -> u64 {
    // As the tracking allocator's: after the same set-up, in one call.
    owner.call(|| churn(&System, black_box(size)))
}

/// [`telemetry_on`], for allocations of `size` bytes.
fn sized(size: usize) -> (pipetel::Operator, usize) {
    (telemetry_on(), size)
}

#[library_benchmark]
#[bench::b64(args = (64), setup = sized)]
#[bench::b4096(args = (4096), setup = sized)]
fn alloc_free_tracking((owner, size): (pipetel::Operator, usize)) -> u64 {
    // One call around the loop: its own cost spread over `OPS` operations.
    owner.call(|| churn(&ALLOCATOR, black_box(size)))
}

#[library_benchmark]
#[bench::on(setup = telemetry_on)]
fn per_call_operator_on_alloc(_: pipetel::Operator) -> u64 {
    (0..OPS).map(|_| operator(black_box(&BATCH))).sum()
}

library_benchmark_group!(
    name = tracking,
    benchmarks = [
        alloc_free_system,
        alloc_free_tracking,
        per_call_operator_on_alloc
    ]
);

main!(library_benchmark_groups = tracking);
