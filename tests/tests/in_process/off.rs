//! With telemetry off nothing is counted and nothing of the attribute is evaluated; a
//! second `init()` while one runs does nothing. A process of its own (global state).

use std::cell::Cell;

use pipetel::{current_operator, operator, Config};
use pipetel_tests::in_memory::{start, total, totals};

thread_local! {
    static EVALUATED: Cell<u32> = const { Cell::new(0) };
}

fn node_id_side_effect() -> u32 {
    EVALUATED.with(|count| count.set(count.get() + 1));
    7
}

#[operator(node_type = "lazy", node_id = node_id_side_effect(), rows_in = node_id_side_effect())]
fn lazy(batch: Vec<u8>) -> Vec<u8> {
    batch
}

#[test]
fn off_counts_nothing_and_evaluates_nothing_then_on_counts() {
    pipetel_tests::own_process!();
    assert_eq!(lazy(vec![1, 2]), vec![1, 2]);
    assert!(!current_operator().is_recording());
    assert_eq!(
        EVALUATED.with(Cell::get),
        0,
        "no argument of the attribute is evaluated while off"
    );

    start(Config::new);
    assert!(
        !pipetel::init().is_enabled(),
        "a second init() does nothing"
    );
    lazy(vec![1, 2, 3]);
    assert_eq!(EVALUATED.with(Cell::get), 2);
    let totals = totals("lazy");
    assert_eq!(
        total(&totals, "task.completed", "7"),
        1,
        "only the call made while on"
    );
    assert_eq!(total(&totals, "rows.in", "7"), 7);
    assert_eq!(total(&totals, "rows.out", "7"), 3);
}
