//! The SQLite example (`examples/src/orders_etl.rs`) as a binary of the test crate.

fn main() -> Result<(), String> {
    pipetel_examples::orders_etl::main()
}
