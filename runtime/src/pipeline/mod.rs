//! Runs and steps: spans, error reports, trace propagation, run and step totals, the
//! latest runs one by one.

pub(crate) mod error_report;
pub(crate) mod history;
pub(crate) mod propagation;
pub(crate) mod recorder;
pub(crate) mod run;
pub(crate) mod spans;
pub(crate) mod step;
pub(crate) mod totals;
