//! Writing the report where `PIPETEL_REPORT` says when telemetry stops: standard error,
//! or a file (JSON when its name ends in `.json`, the table otherwise).

use crate::env::{ReportDestination, PIPETEL_REPORT};
use crate::insight::report::Report;
use crate::warn::warn;

/// Writes `report` to `destination`; a failure is a warning naming the variable and the
/// path.
pub(crate) fn write_report(destination: &ReportDestination, report: &Report) {
    match destination {
        ReportDestination::Stderr => {
            use std::io::Write as _;
            let _ = write!(std::io::stderr().lock(), "{report}");
        }
        ReportDestination::File(path) => {
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
