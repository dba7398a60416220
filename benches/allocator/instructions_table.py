#!/usr/bin/env python3
"""Prints the tracking allocator's instruction table of BENCHMARKS.md from the last run of
`cargo bench -p pipetel-allocator-bench --bench instructions` (Callgrind's `summary:` line of
each benchmark), beside `#[operator]` on without the `alloc` feature from the last run of
`cargo bench -p pipetel-benches --bench instructions`."""
import os
import pathlib
import sys

# Where cargo built the benchmarks: CARGO_TARGET_DIR when set, as cargo reads it.
built = os.environ.get("CARGO_TARGET_DIR") or pathlib.Path(__file__).resolve().parents[2] / "target"
target = pathlib.Path(built) / "gungraun"
OPS = 1000


def instructions(package, bench, group, name):
    # The benchmark's file; of a program with threads (telemetry starts some), the calling
    # thread's (`….t1.p1.out`).
    folder = target / package / bench / group / name
    for file in (folder / f"callgrind.{name}.out", folder / f"callgrind.{name}.t1.p1.out"):
        if file.exists():
            for line in file.read_text().splitlines():
                if line.startswith("summary:"):
                    return int(line.split()[1]) / OPS
            sys.exit(f"no summary in {file}")
    sys.exit(f"no result for {group}/{name} under {folder}: run the bench first")


def ours(name):
    return instructions("pipetel-allocator-bench", "instructions", "tracking", name)


print("| allocate + free | system | tracking | over system |")
print("|---|---:|---:|---:|")
for size, label in (("b64", "64 B"), ("b4096", "4 KiB")):
    system = ours(f"alloc_free_system.{size}")
    tracking = ours(f"alloc_free_tracking.{size}")
    print(f"| {label} | {system:.1f} | {tracking:.1f} | **{tracking - system:+.1f}** |")

without = instructions("pipetel-benches", "instructions", "per_call", "per_call_operator_on.on")
with_alloc = ours("per_call_operator_on_alloc.on")
print()
print("| `#[operator]` on, four `u64`s | instructions per call |")
print("|---|---:|")
print(f"| without the `alloc` feature (pipetel-benches) | {without:.1f} |")
print(f"| with it, the tracking allocator installed | {with_alloc:.1f} (**{with_alloc - without:+.1f}**) |")
