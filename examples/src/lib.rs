//! pipetel's runnable examples, as a library so the test suite can run them too.
//!
//! - [`regional_totals`]: the main example (`cargo run --release --example quickstart`).

pub mod regional_totals;
