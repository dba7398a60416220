//! The workload the tests, the benchmark and the example share: generated orders and
//! customers in memory, in several partitions, and four query shapes. Included with
//! `#[path]` (a crate of its own would be one more DataFusion build).

// Each includer uses part of it.
#![allow(dead_code)]

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Customers the orders refer to.
pub const CUSTOMERS: i64 = 5_000;
/// Rows per generated batch (DataFusion's default batch size).
const BATCH: i64 = 8_192;

/// The query shapes: scan + filter, group-by aggregate, hash join, sort + limit.
pub const QUERIES: [(&str, &str); 4] = [
    (
        "scan + filter",
        "SELECT id, amount FROM orders WHERE amount > 900.0",
    ),
    (
        "group-by aggregate",
        "SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM orders GROUP BY region ORDER BY region",
    ),
    (
        "hash join",
        "SELECT c.segment, COUNT(*) AS n, SUM(o.amount) AS total FROM orders o \
         JOIN customers c ON o.customer = c.id GROUP BY c.segment ORDER BY c.segment",
    ),
    (
        "sort + limit",
        "SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 10",
    ),
];

/// `orders` (id, customer, amount, region) with `orders` rows over `partitions`
/// partitions, and `customers` (id, segment); every value a fixed function of the id.
pub fn tables(orders: i64, partitions: usize) -> (MemTable, MemTable) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("customer", DataType::Int64, false),
        Field::new("amount", DataType::Float64, false),
        Field::new("region", DataType::Utf8, false),
    ]));
    let regions = ["north", "south", "east", "west", "centre", "islands"];
    let mut parts = vec![Vec::new(); partitions];
    for (index, start) in (0..orders).step_by(BATCH as usize).enumerate() {
        let ids: Vec<i64> = (start..(start + BATCH).min(orders)).collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(Int64Array::from_iter_values(
                ids.iter().map(|id| id * 7_919 % CUSTOMERS),
            )),
            Arc::new(Float64Array::from_iter_values(
                ids.iter().map(|id| (id * 104_729 % 1_000) as f64),
            )),
            Arc::new(StringArray::from_iter_values(
                ids.iter().map(|id| regions[(*id % 6) as usize]),
            )),
        ];
        parts[index % partitions].push(RecordBatch::try_new(schema.clone(), columns).unwrap());
    }
    let orders = MemTable::try_new(schema, parts).unwrap();

    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("segment", DataType::Utf8, false),
    ]));
    let segments = ["retail", "wholesale", "online"];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..CUSTOMERS)),
        Arc::new(StringArray::from_iter_values(
            (0..CUSTOMERS).map(|id| segments[(id % 3) as usize]),
        )),
    ];
    let customers = MemTable::try_new(
        schema.clone(),
        vec![vec![RecordBatch::try_new(schema, columns).unwrap()]],
    )
    .unwrap();
    (orders, customers)
}

/// A session over new tables, with pipetel's rule (the one line) or without.
pub fn session(instrumented: bool, orders: i64, partitions: usize) -> SessionContext {
    let (orders, customers) = tables(orders, partitions);
    session_over(
        instrumented,
        partitions,
        Arc::new(orders),
        Arc::new(customers),
    )
}

/// A session over given tables (shared by sessions with and without the rule).
pub fn session_over(
    instrumented: bool,
    partitions: usize,
    orders: Arc<MemTable>,
    customers: Arc<MemTable>,
) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(partitions);
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features();
    if instrumented {
        state = state.with_physical_optimizer_rule(pipetel_datafusion::rule());
    }
    let ctx = SessionContext::new_with_state(state.build());
    ctx.register_table("orders", orders).unwrap();
    ctx.register_table("customers", customers).unwrap();
    ctx
}
