#!/usr/bin/env python3
"""Prints the tracking allocator's instruction table of BENCHMARKS.md from the last run of
`cargo bench -p pipetel-allocator-bench --bench instructions` (Callgrind's `summary:` line of
each benchmark), beside `#[operator]` on without the `alloc` feature from the last run of
`cargo bench -p pipetel-benches --bench instructions`."""
import pathlib
import sys

target = pathlib.Path(__file__).resolve().parents[2] / "target" / "gungraun"
OPS = 1000


def instructions(package, bench, group, name):
    # The newest run of the benchmark (older ones may linger under other ids).
    root = target / package / bench / group
    found = sorted([path for path in root.glob(f"{name}/callgrind.*.out")
                    if ".t" not in path.name.split("callgrind.")[1].split(".out")[0][-6:]]
                   or root.glob(f"{name}/callgrind.*.out"),
                   key=lambda path: path.stat().st_mtime, reverse=True)
    if not found:
        sys.exit(f"no result for {group}/{name} under {root}: run the bench first")
    for line in found[0].read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1]) / OPS
    sys.exit(f"no summary in {found[0]}")


def ours(name):
    return instructions("pipetel-allocator-bench", "instructions", "tracking", name)


print("| allocate + free | system | tracking | over system |")
print("|---|---:|---:|---:|")
for size, label in (("b64", "64 B"), ("b4096", "4 KiB")):
    system = ours(f"alloc_free_system.{size}")
    tracking = ours(f"alloc_free_tracking.{size}")
    print(f"| {label} | {system:.1f} | {tracking:.1f} | **{tracking - system:+.1f}** |")

without = instructions("pipetel-benches", "instructions", "per_call", "per_call_operator_on")
with_alloc = ours("per_call_operator_on_alloc.on")
print()
print("| `#[operator]` on, four `u64`s | instructions per call |")
print("|---|---:|")
print(f"| without the `alloc` feature (pipetel-benches) | {without:.1f} |")
print(f"| with it, the tracking allocator installed | {with_alloc:.1f} (**{with_alloc - without:+.1f}**) |")
