#!/usr/bin/env python3
"""Prints the instruction-count table of BENCHMARKS.md from the last run of
`cargo bench -p pipetel-benches --bench instructions` (Callgrind's `summary:` line of every
benchmark; its calling thread's, for programs that start threads): instructions per call, and the differences and ratios the targets are about."""
import os
import pathlib
import re
import sys

# Where cargo built the benchmarks: CARGO_TARGET_DIR when set, as cargo reads it.
built = os.environ.get("CARGO_TARGET_DIR") or pathlib.Path(__file__).resolve().parents[1] / "target"
root = pathlib.Path(built) / "gungraun" / "pipetel-benches" / "instructions"
CALLS, STEP_CALLS = 1000, 100


def instructions(group, name, calls):
    # The newest run of the benchmark (older ones may linger under other ids), and of a
    # program with threads (`….t2.p1.out` for the SDK's, …), the calling thread's file.
    # The benchmark's own folder (`name` or `name.<id>`), not one whose name it begins.
    found = sorted([path for path in (root / group).glob(f"{name}*/callgrind.{name}*.out")
                    if path.parent.name == name or path.parent.name.startswith(name + ".")],
                   key=lambda path: path.stat().st_mtime, reverse=True)
    found = [path for path in found
             if not re.search(r"\.t\d+\.p\d+\.out$", path.name) or ".t1.p" in path.name]
    if not found:
        sys.exit(f"no result for {group}/{name} under {root}: run the bench first")
    for line in found[0].read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1]) / calls
    sys.exit(f"no summary in {found[0]}")


rows = [
    ("per_call_plain", "the plain function"),
    ("per_call_operator_off", "`#[operator]`, telemetry off"),
    ("per_call_tracing_instrument_no_subscriber", "tracing `#[instrument]`, no subscriber"),
    ("per_call_tsc_clock_pair", "the plain function between a TSC clock pair (quanta raw)"),
    ("per_call_operator_on", "`#[operator]`, telemetry on"),
    ("per_call_operator_on_batch_out", "`#[operator]` on, handing out 8,190 rows (a batch) rather than under eight"),
    ("per_call_operator_on_partition", "`#[operator]` on, a call of one partition (`partition = …`)"),
    ("per_call_operator_on_nested", "`#[operator]` on, nested in another operator (a graph edge)"),
    ("per_call_operator_on_timeline", "`#[operator]` on, recording the timeline"),
    ("per_call_sdk_instruments", "the same metric set through SDK instruments, 2 attributes per call"),
    ("per_call_sdk_bound_instruments", "the same metric set through the SDK's bound instruments"),
]
ir = {name: instructions("per_call", name, CALLS) for name, _ in rows}
# A call in a run: the run of CALLS calls less the run of one call, per call.
in_run = (instructions("per_call", "per_call_operator_on_in_run", 1)
          - instructions("per_call", "per_call_run_alone", 1)) / (CALLS - 1)
print("| variant | instructions per call |")
print("|---|---:|")
for name, label in rows:
    print(f"| {label} | {ir[name]:.1f} |")
    if name == "per_call_operator_on_nested":
        print(f"| `#[operator]` on, in a pipeline's run (the run's lane) | {in_run:.1f} |")
step = instructions("per_step", "per_step_pipeline_step", STEP_CALLS)
span = instructions("per_step", "per_step_sdk_span", STEP_CALLS)
print(f"| `#[pipeline_step]`, traces on | {step:.0f} |")
print(f"| a raw SDK span doing the same (name, rows attribute, end) | {span:.0f} |")
print()
plain = ir["per_call_plain"]
off = ir["per_call_operator_off"] - plain
traced = ir["per_call_tracing_instrument_no_subscriber"] - plain
on = ir["per_call_operator_on"] - plain
pair = ir["per_call_tsc_clock_pair"] - plain
bound = ir["per_call_sdk_bound_instruments"] - plain
unbound = ir["per_call_sdk_instruments"] - plain
print("| comparison | measured |")
print("|---|---:|")
print(f"| off − plain | +{off:.1f} |")
print(f"| tracing, no subscriber − plain | +{traced:.1f} |")
print(f"| on − plain | +{on:.1f} |")
print(f"| clock pair − plain | +{pair:.1f} |")
print(f"| (on − plain) ÷ (clock pair − plain) | {on / pair:.2f}× |")
print(f"| (SDK bound − plain) ÷ (on − plain) | {bound / on:.2f}× |")
print(f"| (SDK with attributes − plain) ÷ (on − plain) | {unbound / on:.2f}× |")
print(f"| `#[pipeline_step]` ÷ raw SDK span | {step / span:.2f}× |")

polls = 100 * 16  # CALLS / 10 async calls of 16 polls
items = 1024
poll_plain = instructions("per_poll", "per_poll_plain_async", polls)
poll_on = instructions("per_poll", "per_poll_operator_async_on", polls)
item_plain = instructions("per_poll", "per_item_plain_iterator", items)
item_on = instructions("per_poll", "per_item_operator_iterator_on", items)
print()
print("| shape | plain | `#[operator]` on | on − plain |")
print("|---|---:|---:|---:|")
print(f"| async fn, per poll (16 polls, each after a wake) | {poll_plain:.1f} | {poll_on:.1f} | +{poll_on - poll_plain:.1f} |")
print(f"| impl Iterator, per item (1,024 items) | {item_plain:.1f} | {item_on:.1f} | +{item_on - item_plain:.1f} |")

# The second body (eight numbers from a slice), when it has run.
slice_rows = [
    ("slice_plain", "the plain function"),
    ("slice_operator_off", "`#[operator]`, telemetry off"),
    ("slice_tracing_instrument_no_subscriber", "tracing `#[instrument]`, no subscriber"),
    ("slice_tsc_clock_pair", "the plain function between a TSC clock pair"),
    ("slice_operator_on", "`#[operator]`, telemetry on"),
    ("slice_sdk_bound_instruments", "the same metric set through the SDK's bound instruments"),
    ("slice_sdk_instruments", "the same metric set through SDK instruments, 2 attributes per call"),
]
if list((root / "per_call_slice").glob("slice_plain*")):
    sl = {name: instructions("per_call_slice", name, CALLS) for name, _ in slice_rows}
    base = sl["slice_plain"]
    print()
    print("| variant (eight numbers from a slice) | instructions per call | over the plain function |")
    print("|---|---:|---:|")
    for name, label in slice_rows:
        over = "—" if name == "slice_plain" else f"+{sl[name] - base:.0f}"
        print(f"| {label} | {sl[name]:.1f} | {over} |")
    on = sl["slice_operator_on"] - base
    print(f"| (SDK bound − plain) ÷ (on − plain) | {(sl['slice_sdk_bound_instruments'] - base) / on:.2f}× | |")
    print(f"| (SDK with attributes − plain) ÷ (on − plain) | {(sl['slice_sdk_instruments'] - base) / on:.2f}× | |")

# Per engine node: 1 … 1,000 plan nodes alternating, each past its slowest calls.
node = lambda name, n: instructions("per_node_id", f"{name}.{n}", CALLS)
print()
print("| nodes alternating | `node_id` per call (one call site) | `pipetel::Operator` per call |")
print("|---|---:|---:|")
for index, nodes in enumerate([1, 4, 5, 16, 1000]):
    ids = node("per_call_rotating_node_ids", f"ids_{index}")
    operators = {1: "operators_0", 1000: "operators_1"}.get(nodes)
    run_time = f"{node('per_call_run_time_operator', operators):.1f}" if operators else ""
    print(f"| {nodes:,} | {ids:.1f} | {run_time} |")

# The shapes while the timeline records (their own binary, `--bench timeline_instructions`),
# when it has run: per poll and per item, on and recording, in one binary.
shapes = root.parent / "timeline_instructions" / "shapes"
if shapes.is_dir():
    def counted(name):
        path = shapes / name / f"callgrind.{name}.t1.p1.out"
        for line in path.read_text().splitlines():
            if line.startswith("summary:"):
                return int(line.split()[1])
        sys.exit(f"no summary in {path}")
    print()
    print("| shape (`--bench timeline_instructions`) | `#[operator]` on | recording the timeline | recording − on |")
    print("|---|---:|---:|---:|")
    for shape, label, per in [("per_poll", "async fn, per poll (16 polls, each after a wake)", 100 * 16),
                              ("per_item", "impl Iterator, per item (1,024 items)", 1024)]:
        on, recording = counted(f"{shape}.on") / per, counted(f"{shape}.timeline") / per
        print(f"| {label} | {on:.1f} | {recording:.1f} | +{recording - on:.1f} |")
