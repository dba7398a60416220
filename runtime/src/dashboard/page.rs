//! The page: one HTML document with its style, its script, the graph layout library
//! (Viz.js, Graphviz in WebAssembly; `assets/dashboard/VENDORED.md`) and the data inside,
//! so that it needs nothing but itself — served live, or written to a file that opens
//! offline.

use crate::dashboard::view::View;

const TEMPLATE: &str = include_str!("../../assets/dashboard/page.html");
const STYLE: &str = include_str!("../../assets/dashboard/page.css");
const SCRIPT: &str = include_str!("../../assets/dashboard/page.js");
const VIZ: &str = include_str!("../../assets/dashboard/viz-global-3.31.0.js");

/// The page showing `view` (a live one polls for newer views).
pub(crate) fn render(view: &View) -> String {
    fill(TEMPLATE, SCRIPT, &view.json())
}

/// `template` with the shared style, the graph layout library, `script` and `data` (JSON
/// made safe inside a script element: `dashboard::script_json`) in place of its markers.
pub(crate) fn fill(template: &str, script: &str, data: &str) -> String {
    let mut page = String::with_capacity(template.len() + STYLE.len() + script.len() + VIZ.len());
    // One pass over the template: the parts themselves are never searched, so a marker
    // inside the data or a library cannot be replaced.
    let mut rest = template;
    while let Some(start) = rest.find("/*PIPETEL:") {
        page.push_str(&rest[..start]);
        let marker_end = rest[start..]
            .find("*/")
            .map_or(rest.len(), |end| start + end + 2);
        match &rest[start..marker_end] {
            "/*PIPETEL:STYLE*/" => page.push_str(STYLE),
            "/*PIPETEL:SCRIPT*/" => page.push_str(script),
            "/*PIPETEL:VIZ*/" => page.push_str(VIZ),
            "/*PIPETEL:DATA*/" => page.push_str(data),
            other => page.push_str(other),
        }
        rest = &rest[marker_end..];
    }
    page.push_str(rest);
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::snapshot::{OperatorSnapshot, RowCounts, Snapshot};
    use crate::pipeline::history::RunHistory;

    #[test]
    fn the_page_holds_its_parts_and_data_that_cannot_close_the_script() {
        let snapshot = Snapshot {
            operators: vec![OperatorSnapshot {
                node_type: "scan".into(),
                node_id: "</script><script>alert(1)</script>".into(),
                rows: RowCounts {
                    produced: 1_250,
                    ..RowCounts::default()
                },
                ..OperatorSnapshot::default()
            }],
            ..Snapshot::default()
        };
        let page = render(&View::of(snapshot, RunHistory::default(), None, false));
        assert!(!page.contains("/*PIPETEL:"), "a marker left");
        assert!(page.contains("Viz.js 3.31.0"));
        assert!(page.contains("POLL_MS"));
        assert!(page.contains("--starved"));
        // The one script element closing tag per script: the data cannot add one.
        assert_eq!(page.matches("</script>").count(), 3);
        assert!(page.contains("\\u003c/script\\u003e"));
        assert!(page.contains("\"1.2 K\""), "the report's units");
    }
}
