//! Calls timed through quanta's clock function, the path of machines where quanta does
//! not read the TSC (aarch64; x86-64 without an invariant TSC), which this one reads
//! inline otherwise: the same counts and times. Its own process, since the switch is
//! the process's.

use std::time::{Duration, Instant};

use pipetel::{operator, Config};
use pipetel_tests::in_memory::{start, total, totals};

#[operator(node_type = "through_quanta")]
fn nap(ms: u64) -> Vec<u8> {
    std::thread::sleep(Duration::from_millis(ms));
    vec![0; 3]
}

#[operator(node_type = "through_quanta")]
fn refuse(refuse: bool) -> Result<Vec<u8>, String> {
    if refuse {
        return Err("asked to".into());
    }
    Ok(vec![1, 2])
}

#[operator(node_type = "through_quanta")]
fn outer(ms: u64) -> Vec<u8> {
    nap(ms)
}

#[test]
fn calls_timed_through_quanta_count_as_calls_timed_inline() {
    pipetel_tests::own_process!();
    start(Config::new);
    pipetel::__test::read_through_quanta();
    let started = Instant::now();
    nap(20);
    assert_eq!(outer(30).len(), 3);
    assert!(refuse(true).is_err());
    assert_eq!(refuse(false), Ok(vec![1, 2]));
    let elapsed = started.elapsed().as_micros() as i64;

    let totals = totals("through_quanta");
    let id = |name: &str| format!("in_process::clock_through_quanta::{name}");
    assert_eq!(total(&totals, "task.completed", &id("nap")), 2);
    assert_eq!(total(&totals, "rows.out", &id("nap")), 6);
    assert_eq!(total(&totals, "task.completed", &id("outer")), 1);
    assert_eq!(total(&totals, "task.completed", &id("refuse")), 1);
    assert_eq!(total(&totals, "task.failed", &id("refuse")), 1);
    assert_eq!(total(&totals, "rows.out", &id("refuse")), 2);
    for name in ["nap", "outer", "refuse"] {
        assert_eq!(total(&totals, "task.active", &id(name)), 0, "{name}");
    }
    // The naps' busy time is their sleeps; `outer`'s own is what `nap` did not take.
    let naps = total(&totals, "duration", &id("nap"));
    let own = total(&totals, "duration", &id("outer"));
    assert!(naps >= 49_500, "slept 50 ms: {naps} µs");
    assert!(
        naps + own <= elapsed + elapsed / 100,
        "{naps} + {own} µs inside, {elapsed} µs around"
    );
    assert!(own < naps, "outer's own {own} µs, the naps' {naps} µs");
}
