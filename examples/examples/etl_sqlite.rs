//! The dlt-shaped example: extract orders from a generated source, normalize them, load
//! them into a real SQLite file — three steps, an operator in each; prints the report.
//!
//! ```text
//! cargo run --release --example etl_sqlite [path/to/orders.db]
//! ```
//!
//! The code is in `examples/src/orders_etl.rs`.

fn main() -> Result<(), String> {
    pipetel_examples::orders_etl::main()
}
