//! [`Report::html`]: a report as the one-file HTML page — the dashboard's page with the
//! report's snapshot inside, for `PIPETEL_REPORT=report.html` and for callers. It sits
//! with the page it renders, above the report it reads.

use crate::dashboard::page::render;
use crate::dashboard::view::View;
use crate::insight::report::Report;
use crate::pipeline::history::run_history;

impl Report {
    #[cfg_attr(docsrs, doc(cfg(feature = "html")))]
    /// The report as one self-contained HTML page (`PIPETEL_REPORT=report.html`): the
    /// dashboard's views of this snapshot — the operator graph coloured by busy share and
    /// wait state, progress, the bottleneck and diagnoses, every operator's figures (the
    /// table's, to the digit) with its skew, distributions and slowest calls, the edges,
    /// the latest runs with their steps and errors, and this text report. It opens
    /// offline in any browser: its script, its style, its data and the graph layout
    /// library (Viz.js, 1.3 MB) are inside. The runs are the process' latest at the call
    /// ([`run_history`](crate::history::run_history)), whatever snapshot the report is of. Needs
    /// the `html` feature (or `dashboard`, which implies it; neither is a default feature).
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// #[pipetel::operator(node_type = "scan")]
    /// fn scan() -> Vec<u8> {
    ///     vec![0; 1_500]
    /// }
    /// scan();
    /// let page = pipetel::report().html();
    /// assert!(page.starts_with("<!DOCTYPE html>"));
    /// assert!(page.contains("\"1.5 K\""), "the table's rows out");
    /// # drop(telemetry);
    /// ```
    pub fn html(&self) -> String {
        let view = View::of(self.snapshot().clone(), run_history(), None, false);
        render(&view)
    }
}
