//! The items `#[operator]` expands to. Not a public API: names and signatures change
//! without notice. Kept small and `#[inline]` so that every call site stays tiny.

pub use crate::hot_path::{enabled, CallSite, TaskGuard};
pub use crate::probe::{count_input, count_output, NoRows, NotResult, Probe, ViaResult, ViaRows};
