//! The `PIPETEL_*` variables: the report at shutdown, progress lines, the Prometheus
//! endpoint. They share one vocabulary for on and off — `1`, `true`, `on` and `0`,
//! `false`, `off`, in any case — and take a path or an address only where one is meant.

use std::path::PathBuf;
use std::time::Duration;

use crate::env::reader::Reader;
use crate::env::variables::{
    DEFAULT_DASHBOARD_ADDR, DEFAULT_PROMETHEUS_ADDR, PIPETEL_DASHBOARD_ADDR,
    PIPETEL_DASHBOARD_LINGER, PIPETEL_PROGRESS, PIPETEL_PROMETHEUS_ADDR, PIPETEL_PROMETHEUS_LINGER,
    PIPETEL_REPORT, PIPETEL_SNAPSHOT_DIR,
};

/// What the `PIPETEL_*` variables ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PipetelSettings {
    /// `PIPETEL_REPORT`: where the report goes at shutdown, if anywhere.
    pub(crate) report: Option<ReportDestination>,
    /// `PIPETEL_SNAPSHOT_DIR`: the directory to write this process's snapshot to, once a
    /// second and at exit, if any.
    pub(crate) snapshot_dir: Option<PathBuf>,
    /// `PIPETEL_PROGRESS`: forced on or off; `None` (unset or unusable): on when stderr
    /// is a terminal.
    pub(crate) progress: Option<bool>,
    /// `PIPETEL_PROMETHEUS_ADDR`: the `host:port` to serve `/metrics` on, if any.
    pub(crate) prometheus_address: Option<String>,
    /// `PIPETEL_PROMETHEUS_LINGER`: the longest `/metrics` stays up at exit, waiting for
    /// scrapes of the final counts (zero: not at all).
    pub(crate) prometheus_linger: Duration,
    /// `PIPETEL_DASHBOARD_ADDR`: the `host:port` to serve the dashboard on, if any (a
    /// port alone is on loopback).
    pub(crate) dashboard_address: Option<String>,
    /// `PIPETEL_DASHBOARD_LINGER`: the longest the dashboard stays up at exit, waiting
    /// for a page to fetch the final figures (zero: not at all).
    pub(crate) dashboard_linger: Duration,
}

/// Where the report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReportDestination {
    /// Standard error: `stderr`, `-`, or an on value.
    Stderr,
    /// A file: any other value (the timeline when named `trace.json` or
    /// `*.trace.json`, JSON when it ends in `.json`, the table otherwise:
    /// `insight::report::target`).
    File(PathBuf),
}

impl ReportDestination {
    /// Whether the destination is a timeline's file: `trace.json`, `*.trace.json`.
    pub(crate) fn is_timeline(&self) -> bool {
        match self {
            ReportDestination::Stderr => false,
            ReportDestination::File(path) => path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name == "trace.json" || name.ends_with(".trace.json")),
        }
    }
}

/// An on/off value: `Some(true)` for `1`, `true`, `on`, `Some(false)` for `0`, `false`,
/// `off` (any case, surrounding blanks ignored), `None` for anything else.
pub(crate) fn switch(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" => Some(true),
        "0" | "false" | "off" => Some(false),
        _ => None,
    }
}

impl Reader<'_> {
    /// Reads the `PIPETEL_*` variables.
    pub(super) fn pipetel(&mut self) -> PipetelSettings {
        PipetelSettings {
            report: self.report(),
            snapshot_dir: self.snapshot_dir(),
            progress: self.progress(),
            prometheus_address: self.prometheus_address(),
            prometheus_linger: self.linger(PIPETEL_PROMETHEUS_LINGER, "/metrics stops at exit"),
            dashboard_address: self.dashboard_address(),
            dashboard_linger: self.linger(PIPETEL_DASHBOARD_LINGER, "the dashboard stops at exit"),
        }
    }

    /// A `*_LINGER` variable: whole milliseconds; anything else is a warning saying
    /// `otherwise`, and no lingering.
    fn linger(&mut self, name: &str, otherwise: &str) -> Duration {
        let Some(value) = self.get(name) else {
            return Duration::ZERO;
        };
        match value.trim().parse::<u64>() {
            Ok(ms) => Duration::from_millis(ms),
            Err(_) => {
                self.warn(
                    name,
                    &value,
                    format_args!("is not a whole number of milliseconds; {otherwise}"),
                );
                Duration::ZERO
            }
        }
    }

    fn report(&mut self) -> Option<ReportDestination> {
        let value = self.get(PIPETEL_REPORT)?;
        match (switch(&value), value.trim()) {
            (Some(false), _) => None,
            (Some(true), _) | (None, "stderr" | "-") => Some(ReportDestination::Stderr),
            (None, path) => Some(ReportDestination::File(PathBuf::from(path))),
        }
    }

    fn snapshot_dir(&mut self) -> Option<PathBuf> {
        let value = self.get(PIPETEL_SNAPSHOT_DIR)?;
        match switch(&value) {
            Some(false) => None,
            Some(true) => {
                self.warn(
                    PIPETEL_SNAPSHOT_DIR,
                    &value,
                    "is a switch, not a directory; no snapshots written",
                );
                None
            }
            None => Some(PathBuf::from(value.trim())),
        }
    }

    fn progress(&mut self) -> Option<bool> {
        let value = self.get(PIPETEL_PROGRESS)?;
        let forced = switch(&value);
        if forced.is_none() {
            self.warn(
                PIPETEL_PROGRESS,
                &value,
                "is not on or off (1, true, on / 0, false, off); progress shows only when \
                 stderr is a terminal",
            );
        }
        forced
    }

    fn prometheus_address(&mut self) -> Option<String> {
        let value = self.get(PIPETEL_PROMETHEUS_ADDR)?;
        match switch(&value) {
            Some(false) => None,
            Some(true) => Some(DEFAULT_PROMETHEUS_ADDR.to_owned()),
            None if is_host_and_port(value.trim()) => Some(value.trim().to_owned()),
            None => {
                self.warn(
                    PIPETEL_PROMETHEUS_ADDR,
                    &value,
                    format_args!(
                        "is not host:port (as in {DEFAULT_PROMETHEUS_ADDR}) or on/off; no \
                         /metrics endpoint"
                    ),
                );
                None
            }
        }
    }
}

impl Reader<'_> {
    fn dashboard_address(&mut self) -> Option<String> {
        let value = self.get(PIPETEL_DASHBOARD_ADDR)?;
        let trimmed = value.trim();
        match switch(trimmed) {
            Some(false) => None,
            Some(true) => Some(DEFAULT_DASHBOARD_ADDR.to_owned()),
            None if is_host_and_port(trimmed) => Some(trimmed.to_owned()),
            // A port alone: on loopback, as the default.
            None if trimmed.parse::<u16>().is_ok() => Some(format!("127.0.0.1:{trimmed}")),
            None => {
                self.warn(
                    PIPETEL_DASHBOARD_ADDR,
                    &value,
                    format_args!(
                        "is not host:port (as in {DEFAULT_DASHBOARD_ADDR}), a port, or on/off; \
                         no dashboard"
                    ),
                );
                None
            }
        }
    }
}

/// Whether `address` is `host:port`, with a port number (`[::1]:9464` for IPv6).
fn is_host_and_port(address: &str) -> bool {
    address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
}
