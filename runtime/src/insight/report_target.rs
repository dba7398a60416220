//! `PIPETEL_REPORT`: where the report goes when telemetry stops — `stderr` (or `1`), or a
//! file path (JSON when it ends in `.json`, the table otherwise).

use std::path::PathBuf;

use crate::insight::report::Report;
use crate::warn::warn;

/// The variable naming the report's destination.
pub const PIPETEL_REPORT: &str = "PIPETEL_REPORT";

/// Where the shutdown report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReportTarget {
    Stderr,
    File(PathBuf),
}

impl ReportTarget {
    /// The target `PIPETEL_REPORT` names, if set (`0`, `false` or empty: none).
    pub(crate) fn from_env() -> Option<Self> {
        let value = std::env::var(PIPETEL_REPORT).ok()?;
        match value.trim() {
            "" | "0" | "false" => None,
            "1" | "true" | "stderr" | "-" => Some(ReportTarget::Stderr),
            path => Some(ReportTarget::File(PathBuf::from(path))),
        }
    }

    /// Writes `report` there; a failure is a warning naming the variable and the path.
    pub(crate) fn write(&self, report: &Report) {
        match self {
            ReportTarget::Stderr => {
                use std::io::Write as _;
                let _ = write!(std::io::stderr().lock(), "{report}");
            }
            ReportTarget::File(path) => {
                let text = match path.extension().and_then(|ext| ext.to_str()) {
                    Some("json") => report.json(),
                    _ => report.to_string(),
                };
                if let Err(error) = std::fs::write(path, text) {
                    warn(format_args!(
                        "{PIPETEL_REPORT}={:?}: cannot write the report: {error}",
                        path.display().to_string()
                    ));
                }
            }
        }
    }
}
