//! The cap on distinct `node.id` values per `node.type`: past it, calls count under
//! `node.id = "other"`. A process of its own, because the cap is process-wide.

use pipetel::{operator, Config};
use pipetel_tests::in_memory::{start, total, totals};

#[operator(node_type = "partition", node_id = partition)]
fn write_partition(partition: u32, rows: &[u8]) -> usize {
    rows.len()
}

#[test]
fn node_ids_past_the_cap_are_counted_as_other() {
    pipetel_tests::own_process!();
    start(|| Config::new().max_node_ids_per_type(3));
    for partition in 0..10 {
        write_partition(partition, &[0; 2]);
    }
    write_partition(1, &[0; 2]);
    let totals = totals("partition");
    let ids: std::collections::BTreeSet<&str> = totals.keys().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, ["0", "1", "2", "other"].into());
    assert_eq!(total(&totals, "task.completed", "1"), 2);
    assert_eq!(total(&totals, "task.completed", "other"), 7);
    assert_eq!(total(&totals, "rows.in", "other"), 14);
}
