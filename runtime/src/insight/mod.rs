//! Local insight with no backend: the snapshot, the report and where it goes, progress.

pub(crate) mod bottleneck;
pub(crate) mod chrome_trace;
pub(crate) mod conservation;
pub(crate) mod diagnoses;
pub(crate) mod diff;
pub(crate) mod distribution;
pub(crate) mod estimates;
pub(crate) mod figures;
mod from_json;
pub(crate) mod graph;
pub(crate) mod log_lines;
pub(crate) mod look;
pub(crate) mod memory;
mod merge;
pub(crate) mod node_index;
pub(crate) mod periodic;
pub(crate) mod progress;
pub(crate) mod read_snapshot;
pub(crate) mod report;
pub(crate) mod run_views;
pub(crate) mod since;
pub(crate) mod skew;
pub(crate) mod snapshot;
pub(crate) mod snapshot_dir;
pub(crate) mod this_process;
pub(crate) mod timeline_samples;
pub(crate) mod watch;
