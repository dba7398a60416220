//! Reference tables made from the code they describe, for the guide: each value read
//! from the constant that sets it, the rows' words beside it, so that a value changed or
//! added is one edit that a test carries to the document. The guide holds each table
//! between `<!-- generated: NAME -->` markers, and
//! `tests/tests/end_to_end/reference_tables.rs` fails when the two differ;
//! `cargo run -p pipetel-tests --bin reference -- NAME` prints one anew.

mod diagnoses;
mod environment;
mod format;
mod limits;
mod metrics;

pub use diagnoses::diagnoses_markdown;
pub use environment::environment_markdown;
pub use limits::limits_markdown;
pub use metrics::metrics_markdown;
