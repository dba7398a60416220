//! [`Thresholds`]: when the built-in checks fire, and the ones in force (set as telemetry
//! starts, read by every check).

use std::sync::{PoisonError, RwLock};
use std::time::Duration;

/// When the checks fire. Set with [`Config::thresholds`](crate::Config::thresholds).
///
/// ```
/// use std::time::Duration;
///
/// let mut thresholds = pipetel::diagnose::Thresholds::default();
/// thresholds.stall_after = Duration::from_secs(5);
/// let telemetry = pipetel::Config::new().thresholds(thresholds).collect_locally(true).init();
/// # drop(telemetry);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Thresholds {
    /// A stall: no operator handled a row or ended a call for this long while calls run.
    /// Default 30 s.
    pub stall_after: Duration,
    /// A straggler: a partition's or thread's rows or busy time at least this many times
    /// the median's. Default 4.
    pub straggler_ratio: f64,
    /// A skew matters when evening it out would save at least this share of all
    /// operators' busy time — the straggler's busy time beyond the median's (an uneven
    /// spread that costs little is noise, however large its ratio). Default 0.05.
    pub skew_min_busy_share: f64,
    /// ... and at least this much time: below it, a straggler is within what a machine's
    /// scheduling moves by itself. Default 1 ms.
    pub skew_min_time: Duration,
    /// A row explosion: an operator hands out more than this many rows per row in.
    /// Default 10.
    pub explosion_ratio: f64,
    /// A dominant operator: this share of all operators' busy time or more, with two or
    /// more operators busy. Default 0.8.
    pub dominant_share: f64,
    /// How often the watcher takes a snapshot to run the checks. Default 1 s.
    pub check_every: Duration,
    /// Memory growth: an operator's live bytes rose at each of this many checks in a
    /// row while it worked (handled rows or ended calls between each two)… Default 5.
    pub memory_growth_checks: u32,
    /// … by this many bytes or more over them. Default 64 MiB.
    pub memory_growth_min: u64,
    /// Dominant memory: an operator's peak counts only from this many bytes (below it,
    /// which operator holds most matters little). Default 64 MiB.
    pub dominant_memory_min: u64,
    /// Untracked memory: an operator's allocations held at their peak this many bytes
    /// more than the engine reserved for it and for the operators it feeds. Default
    /// 32 MiB.
    pub untracked_memory_min: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            stall_after: Duration::from_secs(30),
            straggler_ratio: 4.0,
            skew_min_busy_share: 0.05,
            skew_min_time: Duration::from_millis(1),
            explosion_ratio: 10.0,
            dominant_share: 0.8,
            check_every: Duration::from_secs(1),
            memory_growth_checks: 5,
            memory_growth_min: 64 << 20,
            dominant_memory_min: 64 << 20,
            untracked_memory_min: 32 << 20,
        }
    }
}

static THRESHOLDS: RwLock<Option<Thresholds>> = RwLock::new(None);

/// Sets the thresholds (telemetry's start).
pub(crate) fn set_thresholds(thresholds: Thresholds) {
    *THRESHOLDS.write().unwrap_or_else(PoisonError::into_inner) = Some(thresholds);
}

/// The thresholds in force.
pub(crate) fn thresholds() -> Thresholds {
    THRESHOLDS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .unwrap_or_default()
}
