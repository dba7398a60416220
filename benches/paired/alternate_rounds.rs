//! Times two commits' operator call in one process, round after round, so that both
//! meet the same machine: `paired.sh` builds this as a binary over `old` and `new`, two
//! copies of `operator.rs`, one per commit's pipetel.
//!
//! On a shared VM the cost of a call moves with what the neighbours do: for stretches of
//! a fraction of a second to seconds the core is shared, and a call costs up to half as
//! much again (more for code of more instructions), while a TSC clock pair does not
//! move. Processes run one after the other meet different stretches; rounds that
//! alternate within one process meet the same ones. Each cycle times `CALLS` calls of
//! each commit (in alternating order) and `CALLS` clock pairs, and the summary classes
//! cycles by how the old commit's call compares with its own 10th percentile:
//! under 1.2× the core was the process's own ("quiet"), otherwise shared ("shared").
//! A run spent wholly on a shared core has no quiet cycles to find, and its "quiet" class
//! is then its faster shared ones: the first line of the summary gives that 10th
//! percentile over the clock pair's median, which the core shared raises (here: 1.0–1.1
//! for b264577 on a quiet core, 1.3 and more shared).

use std::hint::black_box;
use std::time::Instant;

/// Calls a round (each commit's, then the clock pairs), unless `CALLS` says otherwise.
const CALLS: u64 = 100_000;
/// Cycles a run, unless `CYCLES` says otherwise.
const CYCLES: usize = 6_000;
/// A cycle whose old call took at least this many times its 10th percentile ran on a
/// shared core.
const SHARED: f64 = 1.2;

/// One cycle's nanoseconds a call.
#[derive(Clone, Copy)]
struct Cycle {
    old: f64,
    new: f64,
    clock_pair: f64,
}

/// Nanoseconds an iteration of `round`, run with `calls` iterations.
fn time(calls: u64, round: impl Fn(u64)) -> f64 {
    let start = Instant::now();
    round(calls);
    start.elapsed().as_secs_f64() * 1e9 / calls as f64
}

/// The value at `fraction` of `values` (sorted here).
fn percentile(mut values: Vec<f64>, fraction: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * fraction).round() as usize]
}

fn median(values: Vec<f64>) -> f64 {
    percentile(values, 0.5)
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Prints one class of cycles: the medians of each side and of the cycles' ratios.
fn summarize(class: &str, cycles: &[Cycle], all: usize) {
    if cycles.is_empty() {
        println!("{class:8} no cycles");
        return;
    }
    let of = |side: fn(&Cycle) -> f64| cycles.iter().map(side).collect::<Vec<_>>();
    let (old, new) = (median(of(|c| c.old)), median(of(|c| c.new)));
    println!(
        "{class:8} {:5} cycles ({:3.0} %)  old {old:6.2} ns  new {new:6.2} ns  \
         new/old: median of cycles {:.3}, p25 {:.3}, p75 {:.3}; of medians {:.3}  clock pair {:6.2} ns",
        cycles.len(),
        100.0 * cycles.len() as f64 / all as f64,
        median(of(|c| c.new / c.old)),
        percentile(of(|c| c.new / c.old), 0.25),
        percentile(of(|c| c.new / c.old), 0.75),
        new / old,
        median(of(|c| c.clock_pair)),
    );
}

fn main() {
    // No export, no progress line while measuring.
    std::env::set_var("OTEL_METRIC_EXPORT_INTERVAL", "600000");
    std::env::set_var("PIPETEL_PROGRESS", "0");
    let calls = env_or("CALLS", CALLS);
    let count = env_or("CYCLES", CYCLES);
    let _old = old::init();
    let _new = new::init();
    let clock = quanta::Clock::new();
    let clock_pairs = |calls: u64| {
        for _ in 0..calls {
            let start = clock.raw();
            black_box(clock.raw().wrapping_sub(start));
        }
    };
    let cycles: Vec<Cycle> = (0..count)
        .map(|cycle| {
            let (old, new) = if cycle % 2 == 0 {
                let old = time(calls, old::round);
                (old, time(calls, new::round))
            } else {
                let new = time(calls, new::round);
                (time(calls, old::round), new)
            };
            Cycle {
                old,
                new,
                clock_pair: time(calls, clock_pairs),
            }
        })
        .collect();
    let floor = percentile(cycles.iter().map(|c| c.old).collect(), 0.1);
    let (quiet, shared): (Vec<Cycle>, Vec<Cycle>) =
        cycles.iter().partition(|c| c.old < SHARED * floor);
    let clock_pair = median(cycles.iter().map(|c| c.clock_pair).collect());
    println!(
        "{count} cycles of {calls} calls each; the old call's 10th percentile {floor:.2} ns, \
         {:.2}× the clock pair's median; ns a call, medians:",
        floor / clock_pair
    );
    summarize("all", &cycles, count);
    summarize("quiet", &quiet, count);
    summarize("shared", &shared, count);
}
