//! pipetel's runnable examples, as a library so the test suite can run them too.
//!
//! - [`regional_totals`]: the main example (`cargo run --release --example quickstart`).
//! - [`orders_etl`]: extract → normalize → load into SQLite (`--example etl_sqlite`).

pub mod orders_etl;
pub mod regional_totals;
