//! A diagnosis: what a built-in check found, its kind and its severity.

use crate::insight::snapshot::NodeRef;
use serde::{Deserialize, Serialize};

/// What a diagnosis is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiagnosisKind {
    /// No operator made progress for [`Thresholds::stall_after`](crate::diagnose::Thresholds::stall_after) while calls ran.
    Stall,
    /// A straggler partition or thread.
    Skew,
    /// An operator amplifies its input by more than [`Thresholds::explosion_ratio`](crate::diagnose::Thresholds::explosion_ratio).
    RowExplosion,
    /// Rows lost between operators (the conservation check).
    RowsLost,
    /// Rows duplicated between operators (the conservation check).
    RowsDuplicated,
    /// One operator takes [`Thresholds::dominant_share`](crate::diagnose::Thresholds::dominant_share) of the busy time or more.
    DominantOperator,
    /// Calls that failed.
    Failures,
    /// Calls that were cancelled.
    Cancellations,
    /// Series counted as `node.id = "other"` past a cardinality cap.
    SeriesFolded,
    /// Exports that failed.
    ExportFailing,
    /// An operator's live memory kept growing while it worked, past
    /// [`Thresholds::memory_growth_min`](crate::diagnose::Thresholds::memory_growth_min):
    /// a leak, or a buffer with no bound (tracking allocator).
    MemoryGrowth,
    /// An operator's allocations held more than the engine's own accounting reserved for
    /// it and for the operators it feeds, by
    /// [`Thresholds::untracked_memory_min`](crate::diagnose::Thresholds::untracked_memory_min)
    /// or more (tracking allocator, an engine that reports
    /// [`EngineValue::Reserved`](crate::engine::EngineValue::Reserved)).
    UntrackedMemory,
    /// One operator's peak memory is [`Thresholds::dominant_share`](crate::diagnose::Thresholds::dominant_share)
    /// of all operators' or more, and at least
    /// [`Thresholds::dominant_memory_min`](crate::diagnose::Thresholds::dominant_memory_min)
    /// (tracking allocator).
    DominantMemory,
}

impl DiagnosisKind {
    /// The kind's name, as in the JSON and the log record (`row_explosion`).
    pub fn name(self) -> &'static str {
        match self {
            DiagnosisKind::Stall => "stall",
            DiagnosisKind::Skew => "skew",
            DiagnosisKind::RowExplosion => "row_explosion",
            DiagnosisKind::RowsLost => "rows_lost",
            DiagnosisKind::RowsDuplicated => "rows_duplicated",
            DiagnosisKind::DominantOperator => "dominant_operator",
            DiagnosisKind::Failures => "failures",
            DiagnosisKind::Cancellations => "cancellations",
            DiagnosisKind::SeriesFolded => "series_folded",
            DiagnosisKind::ExportFailing => "export_failing",
            DiagnosisKind::MemoryGrowth => "memory_growth",
            DiagnosisKind::UntrackedMemory => "untracked_memory",
            DiagnosisKind::DominantMemory => "dominant_memory",
        }
    }

    /// How much it matters.
    pub fn severity(self) -> Severity {
        match self {
            DiagnosisKind::DominantOperator
            | DiagnosisKind::DominantMemory
            | DiagnosisKind::Cancellations => Severity::Notice,
            _ => Severity::Warning,
        }
    }
}

/// How much a diagnosis matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// Something is wrong, or about to be.
    Warning,
    /// Worth knowing; often normal (a limit cancels its input, one operator does the work).
    Notice,
}

/// One finding, as a sentence.
///
/// ```
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
///
/// #[pipetel::operator(node_type = "parse", node_id = "diagnosis-doc")]
/// fn parse(text: &str) -> Result<u64, std::num::ParseIntError> {
///     text.parse()
/// }
/// let _ = parse("7");
/// let _ = parse("seven");
///
/// let snapshot = pipetel::snapshot();
/// let failures = snapshot
///     .diagnoses
///     .iter()
///     .find(|d| d.kind == pipetel::diagnose::DiagnosisKind::Failures)
///     .unwrap();
/// assert_eq!(failures.message, "failures: 1 of 2 calls of parse diagnosis-doc failed");
/// assert_eq!(failures.severity, pipetel::diagnose::Severity::Warning);
/// # drop(telemetry);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Diagnosis {
    /// What it is about.
    pub kind: DiagnosisKind,
    /// How much it matters.
    pub severity: Severity,
    /// The operator it is about, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeRef>,
    /// The sentence.
    pub message: String,
}
