//! The diagnoses table (docs/local-insight.md): every kind of diagnosis, its severity,
//! when it fires, and its thresholds with their defaults read from
//! `Thresholds::default()`. A kind added to `DiagnosisKind` does not compile until it has
//! its row here.

use std::time::Duration;

use crate::__reference::format::{count, duration};
use crate::insight::diagnoses::Thresholds;
use crate::insight::snapshot::{DiagnosisKind, Severity};

/// Every kind, in the table's order (each kind's row text is an exhaustive match, so a
/// kind added to the enum stops this file compiling until it is written here; a test
/// finds a variant of the enum missing from this list).
const KINDS: [DiagnosisKind; 13] = [
    DiagnosisKind::Stall,
    DiagnosisKind::Skew,
    DiagnosisKind::RowExplosion,
    DiagnosisKind::RowsLost,
    DiagnosisKind::RowsDuplicated,
    DiagnosisKind::DominantOperator,
    DiagnosisKind::Failures,
    DiagnosisKind::Cancellations,
    DiagnosisKind::SeriesFolded,
    DiagnosisKind::ExportFailing,
    DiagnosisKind::MemoryGrowth,
    DiagnosisKind::UntrackedMemory,
    DiagnosisKind::DominantMemory,
];

/// The table of diagnoses, in Markdown: kind, severity, when it fires, its thresholds.
pub fn diagnoses_markdown() -> String {
    let defaults = Thresholds::default();
    let mut table = String::from(
        "| kind | severity | fires when | thresholds (default) |\n|---|---|---|---|\n",
    );
    for kind in KINDS {
        let severity = match kind.severity() {
            Severity::Warning => "warning",
            Severity::Notice => "notice",
        };
        table.push_str(&format!(
            "| `{}` | {severity} | {} | {} |\n",
            kind.name(),
            fires_when(kind),
            thresholds(kind, &defaults)
        ));
    }
    table
}

/// When a diagnosis of `kind` fires.
fn fires_when(kind: DiagnosisKind) -> &'static str {
    match kind {
        DiagnosisKind::Stall => {
            "no operator handled a row or ended a call for a while, and calls are running"
        }
        DiagnosisKind::Skew => {
            "a partition's or thread's rows or busy time is many times the median's, and \
             evening the work out would save time that matters: the straggler's busy time \
             beyond the median's is a real share of all busy time, and more than scheduling \
             noise"
        }
        DiagnosisKind::RowExplosion => "an operator hands out more rows per row in than",
        DiagnosisKind::RowsLost => "the conservation check finds rows lost between operators",
        DiagnosisKind::RowsDuplicated => {
            "the conservation check finds rows duplicated between operators"
        }
        DiagnosisKind::DominantOperator => {
            "one operator takes this share of all busy time, two or more busy"
        }
        DiagnosisKind::Failures => "calls failed",
        DiagnosisKind::Cancellations => "calls were dropped before they ended",
        DiagnosisKind::SeriesFolded => {
            "ids past a cardinality cap were counted as `node.id = \"other\"`"
        }
        DiagnosisKind::ExportFailing => "exports failed (the last failure's words included)",
        DiagnosisKind::MemoryGrowth => {
            "with the tracking allocator: an operator's live heap rose at each of several \
             checks in a row while it handled rows or ended calls (a leak, or a buffer with no \
             bound)"
        }
        DiagnosisKind::UntrackedMemory => {
            "with the tracking allocator and an engine that reports its own accounting \
             (`EngineValue::Reserved`, DataFusion's `peak_mem_used`): an operator's heap peak \
             exceeds what the engine reserved for it and the operators it feeds"
        }
        DiagnosisKind::DominantMemory => {
            "with the tracking allocator: one operator's heap peak is this share of all \
             operators' peaks"
        }
    }
}

/// The thresholds a diagnosis of `kind` takes, with their values in `defaults`.
fn thresholds(kind: DiagnosisKind, defaults: &Thresholds) -> String {
    let time = |name: &str, value: Duration| format!("`{name}` ({})", duration(value));
    let ratio = |name: &str, value: f64| format!("`{name}` ({value})");
    let bytes = |name: &str, value: u64| format!("`{name}` ({})", mib(value));
    match kind {
        DiagnosisKind::Stall => time("stall_after", defaults.stall_after),
        DiagnosisKind::Skew => [
            ratio("straggler_ratio", defaults.straggler_ratio),
            ratio("skew_min_busy_share", defaults.skew_min_busy_share),
            time("skew_min_time", defaults.skew_min_time),
        ]
        .join(", "),
        DiagnosisKind::RowExplosion => ratio("explosion_ratio", defaults.explosion_ratio),
        DiagnosisKind::DominantOperator => ratio("dominant_share", defaults.dominant_share),
        DiagnosisKind::SeriesFolded => {
            "`Config::max_node_ids_per_type`, `MAX_OPERATOR_SERIES`".to_owned()
        }
        DiagnosisKind::MemoryGrowth => format!(
            "`memory_growth_checks` ({}), {}",
            count(defaults.memory_growth_checks as usize),
            bytes("memory_growth_min", defaults.memory_growth_min)
        ),
        DiagnosisKind::UntrackedMemory => {
            bytes("untracked_memory_min", defaults.untracked_memory_min)
        }
        DiagnosisKind::DominantMemory => [
            ratio("dominant_share", defaults.dominant_share),
            bytes("dominant_memory_min", defaults.dominant_memory_min),
        ]
        .join(", "),
        DiagnosisKind::RowsLost
        | DiagnosisKind::RowsDuplicated
        | DiagnosisKind::Failures
        | DiagnosisKind::Cancellations
        | DiagnosisKind::ExportFailing => String::new(),
    }
}

/// Bytes in whole MiB: `64 MiB`.
fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_row() {
        let table = diagnoses_markdown();
        for kind in KINDS {
            let row = format!("| `{}` |", kind.name());
            assert_eq!(table.matches(&row).count(), 1, "{row}");
        }
        assert!(table.contains("`stall_after` (30 s)"), "{table}");
        assert_eq!(
            KINDS.iter().collect::<std::collections::HashSet<_>>().len(),
            KINDS.len(),
            "a kind listed twice"
        );
        assert!(table.contains("`memory_growth_min` (64 MiB)"), "{table}");
    }

    #[test]
    fn every_variant_of_the_enum_is_listed() {
        // The enum's variants as its source declares them: each line of the body that is
        // a name and a comma.
        let source = include_str!("../insight/snapshot/diagnosis.rs");
        let body = source
            .split_once("pub enum DiagnosisKind {")
            .and_then(|(_, rest)| rest.split_once("\n}"))
            .expect("the enum's body")
            .0;
        let variants: Vec<&str> = body
            .lines()
            .map(str::trim)
            .filter_map(|line| line.strip_suffix(','))
            .filter(|name| name.chars().all(char::is_alphanumeric))
            .collect();
        let listed: Vec<String> = KINDS.iter().map(|kind| format!("{kind:?}")).collect();
        assert_eq!(listed, variants, "KINDS is the enum's variants, in order");
    }
}
