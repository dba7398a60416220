//! Writing the report where `PIPETEL_REPORT` says when telemetry stops: standard error,
//! or a file whose name says the format — `trace.json` or `*.trace.json` the timeline
//! in the Chrome trace event format (`insight::chrome_trace`), `.json` the data, `.mmd` (or `.mermaid`) the
//! graph in Mermaid, `.dot` (or `.gv`) in Graphviz DOT, `.html` (or `.htm`) the page of
//! the HTML report, anything else the table.

use crate::env::{ReportDestination, PIPETEL_REPORT};
use crate::insight::chrome_trace::chrome_trace;
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
                _ if destination.is_timeline() => chrome_trace(),
                Some("json") => report.json(),
                Some("mmd" | "mermaid") => report.mermaid(),
                Some("dot" | "gv") => report.dot(),
                #[cfg(feature = "html")]
                Some("html" | "htm") => report.html(),
                #[cfg(not(feature = "html"))]
                Some("html" | "htm") => {
                    warn(format_args!(
                        "{PIPETEL_REPORT}={:?}: pipetel was built without its `html` feature; \
                         writing the text report there",
                        path.display().to_string()
                    ));
                    report.to_string()
                }
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
