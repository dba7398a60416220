//! [`Report::diff_html`]: two runs side by side in one HTML page — the diff's headline,
//! each run's operator graph coloured by the verdict on its operators, and the table of
//! figures before and after.

use std::collections::HashMap;

use serde::Serialize;

use crate::dashboard::page::fill;
use crate::dashboard::script_json::script_json;
use crate::insight::diff::{Diff, Verdict};
use crate::insight::report::Report;
use crate::insight::snapshot::NodeRef;

const TEMPLATE: &str = include_str!("../../assets/dashboard/diff.html");
const SCRIPT: &str = include_str!("../../assets/dashboard/diff.js");

/// What the page shows, every figure formatted.
#[derive(Serialize)]
struct DiffView {
    summary: String,
    method: String,
    headline: Vec<String>,
    /// Whether any operator was called slower or faster.
    called: bool,
    before_graph: String,
    after_graph: String,
    /// The text table's cells, its header first.
    table: Vec<[String; 8]>,
    /// Each row's verdict, as a class: `slower`, `faster`, `noise`, `few`.
    verdicts: Vec<&'static str>,
    text: String,
}

impl Report {
    #[cfg_attr(docsrs, doc(cfg(feature = "html")))]
    /// [`diff`](Self::diff) as one self-contained HTML page: the headline, the two runs'
    /// operator graphs side by side (an operator called slower filled red, faster green,
    /// one only one run has drawn dashed), and every operator's figures before and after
    /// with its verdict. It opens offline, as [`html`](Self::html)'s page does. Needs the
    /// `html` feature.
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// pipetel::Operator::new("scan", "diff-html-doc").call(|| vec![0u8; 8]);
    /// let report = pipetel::report();
    /// let page = report.diff_html(&report);
    /// assert!(page.contains("nothing changed beyond noise"));
    /// # drop(telemetry);
    /// ```
    pub fn diff_html(&self, after: &Report) -> String {
        let diff = self.diff(after);
        let view = DiffView {
            summary: diff.summary(),
            method: crate::insight::diff::method(),
            headline: diff.headline(),
            called: !diff.slower().is_empty() || !diff.faster().is_empty(),
            before_graph: graph(self, &diff, &diff.removed),
            after_graph: graph(after, &diff, &diff.added),
            table: diff.table(),
            verdicts: diff
                .operators
                .iter()
                .map(|op| verdict_class(op.verdict()))
                .collect(),
            text: diff.to_string(),
        };
        fill(TEMPLATE, SCRIPT, &script_json(&view))
    }
}

/// `report`'s graph, each operator filled by its verdict and dashed when only this run
/// has it (`alone`).
fn graph(report: &Report, diff: &Diff, alone: &[NodeRef]) -> String {
    let operators = &report.snapshot().operators;
    let verdicts: HashMap<&NodeRef, Verdict> = diff
        .operators
        .iter()
        .map(|matched| (&matched.node, matched.verdict()))
        .collect();
    report.styled_dot(&|index| {
        let op = &operators[index];
        let node = NodeRef {
            node_type: op.node_type.clone(),
            node_id: op.node_id.clone(),
        };
        let fill = match verdicts.get(&node) {
            Some(Verdict::Higher) => "#f4b6b0",
            Some(Verdict::Lower) => "#b9e2c1",
            Some(Verdict::TooFewCalls) => "#eeeeee",
            _ => "#ffffff",
        };
        let border = if alone.contains(&node) {
            "rounded,filled,dashed"
        } else {
            "rounded,filled"
        };
        format!("style=\"{border}\", fillcolor=\"{fill}\", penwidth=2")
    })
}

fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Higher => "slower",
        Verdict::Lower => "faster",
        Verdict::TooFewCalls => "few",
        _ => "noise",
    }
}

/// Not a test of the page's look (tests/tests/end_to_end/browser.rs renders it): that
/// its parts and data are in.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::snapshot::{CallBuckets, Distributions, OperatorSnapshot, Snapshot};

    fn scan(busy_ns: u64) -> Snapshot {
        Snapshot {
            operators: vec![OperatorSnapshot {
                node_type: "scan".into(),
                node_id: "</script>".into(),
                distributions: Distributions {
                    buckets: CallBuckets {
                        busy: vec![(busy_ns, 100)],
                        ..CallBuckets::default()
                    },
                    ..Distributions::default()
                },
                ..OperatorSnapshot::default()
            }],
            ..Snapshot::default()
        }
    }

    #[test]
    fn the_page_holds_both_graphs_and_the_verdicts() {
        let page = Report::of(scan(4_096)).diff_html(&Report::of(scan(16_384)));
        assert!(!page.contains("/*PIPETEL:"), "a marker left");
        assert!(page.contains("Viz.js 3.31.0"));
        assert!(page.contains("#f4b6b0"), "the slower operator filled red");
        assert!(page.contains("\"slower\""));
        assert_eq!(page.matches("</script>").count(), 3);
    }

    #[test]
    fn an_operator_of_one_run_only_is_dashed() {
        let page = Report::of(Snapshot::default()).diff_html(&Report::of(scan(4_096)));
        assert!(page.contains("rounded,filled,dashed"));
        assert!(page.contains("only in the later run"));
    }
}
