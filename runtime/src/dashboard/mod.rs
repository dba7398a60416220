//! The live dashboard (`PIPETEL_DASHBOARD_ADDR`, [`Config::dashboard`]) and the
//! one-file HTML report (`PIPETEL_REPORT=report.html`, [`Report::html`]): one page, which
//! shows the operator graph (coloured by busy share and wait state, rows and bytes on its
//! edges), the bottleneck, the diagnoses, progress, each operator's figures, skew and
//! distributions, the latest runs with their steps and errors, and the process' memory
//! and CPU — live, with each operator's heap over time (the memory lane). Live, it polls
//! the process once a second; as a file, it carries its data.
//!
//! [`Config::dashboard`]: crate::Config::dashboard
//! [`Report::html`]: crate::Report::html

#[cfg(feature = "html")]
mod diff_page;
#[cfg(feature = "html")]
mod html_report;
#[cfg(feature = "html")]
pub(crate) mod memory_lane;
#[cfg(feature = "html")]
pub(crate) mod page;
#[cfg(feature = "dashboard")]
mod process;
#[cfg(feature = "html")]
pub(crate) mod script_json;
#[cfg(feature = "dashboard")]
pub(crate) mod server;
#[cfg(feature = "html")]
pub(crate) mod view;

/// Without the `dashboard` feature: says how to get it.
#[cfg(not(feature = "dashboard"))]
pub(crate) mod server {
    use crate::env::PIPETEL_DASHBOARD_ADDR;

    /// Never built.
    pub(crate) enum DashboardServer {}

    impl DashboardServer {
        pub(crate) fn stop(self) {}
    }

    pub(crate) fn start(
        address: &str,
        _linger: std::time::Duration,
        _snapshot_dir: Option<std::path::PathBuf>,
    ) -> Result<DashboardServer, String> {
        Err(format!(
            "{PIPETEL_DASHBOARD_ADDR}={address:?} is set, but pipetel was built without its \
             `dashboard` feature; no dashboard"
        ))
    }
}
