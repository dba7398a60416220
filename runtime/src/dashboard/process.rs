//! The process' resident memory and CPU use, for the dashboard's header: read with
//! `sysinfo` when a page polls, never otherwise.

use std::time::{Duration, Instant};

use crate::dashboard::view::ProcessView;
use crate::insight::figures::units::{bytes, percent};

/// Reads the process' resident memory and its CPU use since the previous read.
pub(crate) struct ProcessReader {
    system: sysinfo::System,
    pid: Option<sysinfo::Pid>,
    /// The previous read: when, and CPU milliseconds then.
    previous: Option<(Instant, u64)>,
}

impl ProcessReader {
    pub(crate) fn new() -> Self {
        ProcessReader {
            system: sysinfo::System::new(),
            pid: sysinfo::get_current_pid().ok(),
            previous: None,
        }
    }

    /// The figures now, if this platform gives them.
    pub(crate) fn read(&mut self) -> Option<ProcessView> {
        let pid = self.pid?;
        let refresh = sysinfo::ProcessRefreshKind::nothing()
            .with_memory()
            .with_cpu();
        self.system.refresh_processes_specifics(
            sysinfo::ProcessesToUpdate::Some(&[pid]),
            true,
            refresh,
        );
        let process = self.system.process(pid)?;
        let (memory, cpu_ms) = (process.memory(), process.accumulated_cpu_time());
        let now = Instant::now();
        let (since, cpu_before) = self.previous.unwrap_or_else(|| {
            let started = Duration::from_secs(process.run_time().max(1));
            (now.checked_sub(started).unwrap_or(now), 0)
        });
        self.previous = Some((now, cpu_ms));
        let wall_ms = now.duration_since(since).as_secs_f64() * 1e3;
        let used = cpu_ms.saturating_sub(cpu_before) as f64;
        Some(ProcessView {
            memory: bytes(memory),
            cpu: if wall_ms > 0.0 {
                percent(used / wall_ms)
            } else {
                "-".to_owned()
            },
        })
    }
}
