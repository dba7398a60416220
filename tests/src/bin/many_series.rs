//! A program counting one call of each of many operator series, to test the series
//! limits: `--types T` node types (at most 40) of `--ids N` node ids each, with
//! `--max-per-type K` (Config::max_node_ids_per_type) if given; `--user-series M` also
//! counts M attribute sets on a user's counter from `pipetel::otel::meter`. It exports where
//! `OTEL_*` says, and prints one line per node type from `pipetel::snapshot()`:
//! `<type> <distinct node ids> <calls> <calls in the busy distributions> <ids with
//! slowest calls>`, and `other` last when it was among the ids. `--threads N` makes
//! each of N threads call every series once (else the main thread does).
//! `--dynamic-types D` also calls D run-time operators (`pipetel::Operator`) of D
//! distinct node types given as values, one id each.

use std::collections::BTreeMap;

use pipetel::{operator, Config};

macro_rules! node_types {
    ($($function:ident $node_type:tt),* $(,)?) => {
        $(
            #[operator(node_type = $node_type, node_id = id)]
            fn $function(id: usize) {}
        )*
        const OPERATORS: &[fn(usize)] = &[$($function),*];
    };
}

node_types!(
    t00 "t00", t01 "t01", t02 "t02", t03 "t03", t04 "t04", t05 "t05", t06 "t06", t07 "t07",
    t08 "t08", t09 "t09", t10 "t10", t11 "t11", t12 "t12", t13 "t13", t14 "t14", t15 "t15",
    t16 "t16", t17 "t17", t18 "t18", t19 "t19", t20 "t20", t21 "t21", t22 "t22", t23 "t23",
    t24 "t24", t25 "t25", t26 "t26", t27 "t27", t28 "t28", t29 "t29", t30 "t30", t31 "t31",
    t32 "t32", t33 "t33", t34 "t34", t35 "t35", t36 "t36", t37 "t37", t38 "t38", t39 "t39",
);

fn argument(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|arg| arg == name)?;
    args.get(at + 1)?.parse().ok()
}

fn main() {
    let types = argument("--types").unwrap_or(1).min(OPERATORS.len());
    let ids = argument("--ids").unwrap_or(1);
    let mut config = Config::new().collect_locally(true);
    if let Some(max) = argument("--max-per-type") {
        config = config.max_node_ids_per_type(max);
    }
    let telemetry = config.init();
    let call_all = move || {
        for id in 0..ids {
            for operator in &OPERATORS[..types] {
                operator(id);
            }
        }
    };
    match argument("--threads") {
        Some(threads) => std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(call_all);
            }
        }),
        None => call_all(),
    }
    if let Some(dynamic) = argument("--dynamic-types") {
        for n in 0..dynamic {
            pipetel::Operator::new(&format!("dyn{n:05}"), "0").call(|| ());
        }
    }
    if let Some(series) = argument("--user-series") {
        let counter = pipetel::otel::meter("many_series")
            .u64_counter("user.calls")
            .build();
        for id in 0..series {
            counter.add(1, &[opentelemetry::KeyValue::new("id", id as i64)]);
        }
    }
    #[derive(Default)]
    struct PerType {
        ids: usize,
        calls: u64,
        in_distributions: u64,
        with_slowest: usize,
        other: bool,
    }
    let mut per_type: BTreeMap<String, PerType> = BTreeMap::new();
    for operator in pipetel::snapshot().operators {
        let entry = per_type.entry(operator.node_type).or_default();
        entry.ids += 1;
        entry.calls += operator.calls.completed;
        let distributions = &operator.distributions;
        entry.in_distributions += distributions.busy_per_call.map_or(0, |busy| busy.count);
        entry.with_slowest += usize::from(!distributions.slowest_calls.is_empty());
        entry.other |= operator.node_id == pipetel::names::OVERFLOW_NODE_ID;
    }
    for (node_type, entry) in per_type {
        println!(
            "{node_type} {} {} {} {}{}",
            entry.ids,
            entry.calls,
            entry.in_distributions,
            entry.with_slowest,
            if entry.other { " other" } else { "" }
        );
    }
    drop(telemetry);
}
