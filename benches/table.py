#!/usr/bin/env python3
"""Prints the BENCHMARKS.md tables from criterion's last runs of `cargo bench -p pipetel-benches`
(the `overhead` and `step_span` benches): mean ns per call of every variant, the ratios the
targets are about, and whether each target holds."""
import json
import os
import pathlib
import sys

# Where cargo built the benchmarks: CARGO_TARGET_DIR when set, as cargo reads it.
built = os.environ.get("CARGO_TARGET_DIR") or pathlib.Path(__file__).resolve().parents[1] / "target"
criterion = pathlib.Path(built) / "criterion"


def mean(name, group="per_call"):
    path = criterion / group / name / "new" / "estimates.json"
    if not path.exists():
        sys.exit(f"no result for {group}/{name} at {path}: run `cargo bench -p pipetel-benches` first")
    return json.loads(path.read_text())["mean"]["point_estimate"]


rows = [
    ("plain", "the plain function"),
    ("operator_off", "`#[operator]`, telemetry off"),
    ("tracing_instrument_no_subscriber", "tracing `#[instrument]`, no subscriber"),
    ("tsc_clock_pair", "the plain function between a TSC clock pair (quanta raw)"),
    ("operator_on", "`#[operator]`, metrics on (in-memory exporter)"),
    ("operator_on_nested", "`#[operator]` on, nested in another operator (a graph edge)"),
    ("sdk_instruments_two_attributes", "same metric set by hand, OTel SDK instruments, 2 attributes"),
    ("sdk_bound_instruments", "same metric set, the SDK's bound instruments (attributes resolved once)"),
    ("operator_on_one_thread", "`#[operator]` on, one thread (per call)"),
    ("operator_on_two_threads", "`#[operator]` on, two threads on one operator (per call per thread)"),
    ("sdk_two_threads", "SDK set, two threads (per call per thread)"),
    ("sdk_bound_two_threads", "SDK bound instruments, two threads (per call per thread)"),
]
ns = {name: mean(name) for name, _ in rows}
print("| variant | ns per call |")
print("|---|---:|")
for name, label in rows:
    print(f"| {label} | {ns[name]:.2f} |")
# The step span bench (`cargo bench -p pipetel-benches --bench step_span`), when it has run.
steps = (criterion / "step_span").exists()
if steps:
    print(f"| `#[pipeline_step]` span (traces on) | {mean('pipeline_step', 'step_span'):.2f} |")
    print(f"| raw SDK span doing the same (name, rows attribute, end) | {mean('sdk_span', 'step_span'):.2f} |")
print()
targets = [
    ("off − plain", ns["operator_off"] - ns["plain"],
     f"≤ tracing without subscriber − plain (+{ns['tracing_instrument_no_subscriber'] - ns['plain']:.2f} ns)",
     ns["operator_off"] <= ns["tracing_instrument_no_subscriber"], "ns"),
    ("SDK set ÷ on", ns["sdk_instruments_two_attributes"] / ns["operator_on"], "≥ 8×",
     ns["sdk_instruments_two_attributes"] / ns["operator_on"] >= 8, "×"),
    ("SDK bound instruments ÷ on", ns["sdk_bound_instruments"] / ns["operator_on"], "",
     True, "×"),
    ("SDK bound instruments, two threads ÷ on, two threads",
     ns["sdk_bound_two_threads"] / ns["operator_on_two_threads"], "", True, "×"),
    ("on ÷ (body + TSC clock pair)", ns["operator_on"] / ns["tsc_clock_pair"], "≤ 1.15×",
     ns["operator_on"] / ns["tsc_clock_pair"] <= 1.15, "×"),
    ("on, nested ÷ (body + TSC clock pair)", ns["operator_on_nested"] / ns["tsc_clock_pair"], "",
     True, "×"),
    ("on, nested − on", ns["operator_on_nested"] - ns["operator_on"], "", True, "ns"),
    ("two threads ÷ one thread", ns["operator_on_two_threads"] / ns["operator_on_one_thread"], "≤ 1.2×",
     ns["operator_on_two_threads"] / ns["operator_on_one_thread"] <= 1.2, "×"),
]
if steps:
    step, sdk_span = mean("pipeline_step", "step_span"), mean("sdk_span", "step_span")
    targets.append(("`#[pipeline_step]` span ÷ raw SDK span", step / sdk_span, "≤ 1.2×", step / sdk_span <= 1.2, "×"))
print("| ratio | measured | target | met |")
print("|---|---:|---|---|")
for label, value, target, met, unit in targets:
    shown = f"{value:+.2f} ns" if unit == "ns" else f"{value:.2f}×"
    print(f"| {label} | {shown} | {target or '—'} | {('yes' if met else 'NO') if target else ''} |")

# The shapes bench (`cargo bench -p pipetel-benches --bench shapes`), when it has run.
if (criterion / "async_per_poll").exists():
    polls, items = 16, 1024
    print()
    print("| shape | plain | `#[operator]` off | `#[operator]` on | peer |")
    print("|---|---:|---:|---:|---:|")
    a = {n: mean(n, "async_per_poll") / polls for n in
         ["plain", "operator_off", "operator_on", "tracing_instrument_no_subscriber"]}
    print(f"| async fn, ns per poll (16 polls) | {a['plain']:.2f} | {a['operator_off']:.2f} | "
          f"{a['operator_on']:.2f} | {a['tracing_instrument_no_subscriber']:.2f} (tracing `Instrument`, no subscriber) |")
    i = {n: mean(n, "iterator_per_item") / items for n in ["plain", "operator_off", "operator_on"]}
    print(f"| impl Iterator, ns per item (1,024 items) | {i['plain']:.2f} | {i['operator_off']:.2f} | "
          f"{i['operator_on']:.2f} | |")
    n = {k: mean(k, "nested_per_call") for k in ["plain", "operator_off", "operator_on"]}
    print(f"| an operator calling an operator, ns per outer call | {n['plain']:.2f} | "
          f"{n['operator_off']:.2f} | {n['operator_on']:.2f} | |")
    print()
    print("| ratio | measured |")
    print("|---|---:|")
    print(f"| async on − off, per poll | {a['operator_on'] - a['operator_off']:+.2f} ns |")
    print(f"| async off − plain, per poll | {a['operator_off'] - a['plain']:+.2f} ns |")
    print(f"| iterator on − off, per item | {i['operator_on'] - i['operator_off']:+.2f} ns |")
    print(f"| iterator off ÷ plain | {i['operator_off'] / i['plain']:.3f}× |")
    print(f"| nested on ÷ (2 × single operator on) | {n['operator_on'] / (2 * ns['operator_on']):.3f}× |")

# The second body (eight numbers from a slice), when it has run.
if (criterion / "per_call" / "slice_plain").exists():
    sl = {name: mean(f"slice_{name}") for name in
          ["plain", "operator_off", "tracing_instrument_no_subscriber", "tsc_clock_pair",
           "operator_on", "sdk_bound_instruments", "sdk_instruments_two_attributes"]}
    print()
    print("| eight numbers from a slice | ns per call |")
    print("|---|---:|")
    for name, value in sl.items():
        print(f"| {name} | {value:.2f} |")
    print(f"| off − plain | {sl['operator_off'] - sl['plain']:+.2f} ns (tracing: "
          f"{sl['tracing_instrument_no_subscriber'] - sl['plain']:+.2f} ns) |")
    print(f"| on ÷ (body + TSC clock pair) | {sl['operator_on'] / sl['tsc_clock_pair']:.2f}× |")
    print(f"| SDK bound ÷ on | {sl['sdk_bound_instruments'] / sl['operator_on']:.2f}× |")
    print(f"| SDK with attributes ÷ on | {sl['sdk_instruments_two_attributes'] / sl['operator_on']:.2f}× |")
