#!/usr/bin/env python3
"""Prints the BENCHMARKS.md table from criterion's last run of `cargo bench -p pipetel --bench overhead`:
mean ns per call of every variant, the ratios the targets are about, and whether each target holds."""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parents[2] / "target" / "criterion" / "per_call"


def mean(name):
    path = root / name / "new" / "estimates.json"
    if not path.exists():
        sys.exit(f"no result for {name} at {path}: run `cargo bench -p pipetel --bench overhead` first")
    return json.loads(path.read_text())["mean"]["point_estimate"]


rows = [
    ("plain", "the plain function"),
    ("operator_off", "`#[operator]`, telemetry off"),
    ("tracing_instrument_no_subscriber", "tracing `#[instrument]`, no subscriber"),
    ("tsc_clock_pair", "a TSC clock pair (quanta raw), for reference"),
    ("operator_on", "`#[operator]`, metrics on (in-memory exporter)"),
    ("sdk_instruments_two_attributes", "same metric set by hand, OTel SDK instruments, 2 attributes"),
    ("operator_on_one_thread", "`#[operator]` on, one thread (per call)"),
    ("operator_on_two_threads", "`#[operator]` on, two threads on one operator (per call per thread)"),
    ("sdk_two_threads", "SDK set, two threads (per call per thread)"),
]
ns = {name: mean(name) for name, _ in rows}
print("| variant | ns per call |")
print("|---|---:|")
for name, label in rows:
    print(f"| {label} | {ns[name]:.2f} |")
print()
targets = [
    ("off − plain", ns["operator_off"] - ns["plain"], "≤ +1 ns", ns["operator_off"] - ns["plain"] <= 1.0, "ns"),
    ("SDK set ÷ on", ns["sdk_instruments_two_attributes"] / ns["operator_on"], "≥ 8×",
     ns["sdk_instruments_two_attributes"] / ns["operator_on"] >= 8, "×"),
    ("on ÷ TSC clock pair", ns["operator_on"] / ns["tsc_clock_pair"], "≤ 1.5×",
     ns["operator_on"] / ns["tsc_clock_pair"] <= 1.5, "×"),
    ("two threads ÷ one thread", ns["operator_on_two_threads"] / ns["operator_on_one_thread"], "≤ 1.2×",
     ns["operator_on_two_threads"] / ns["operator_on_one_thread"] <= 1.2, "×"),
]
print("| ratio | measured | target | met |")
print("|---|---:|---|---|")
for label, value, target, met, unit in targets:
    shown = f"{value:+.2f} ns" if unit == "ns" else f"{value:.2f}×"
    print(f"| {label} | {shown} | {target} | {'yes' if met else 'NO'} |")
