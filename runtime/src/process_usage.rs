//! This process's resident memory and the CPU time it used, as the operating system
//! counts them, read with `sysinfo` — only when asked (an export's collection, a
//! dashboard's poll, a timeline's sample), never per call.

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// What the operating system counts for this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Resident memory, in bytes.
    pub(crate) resident: u64,
    /// CPU time used since it started, in milliseconds.
    pub(crate) cpu_ms: u64,
    /// Seconds since it started.
    pub(crate) run_time_s: u64,
}

/// Reads this process's [`Usage`].
pub(crate) struct UsageReader {
    system: System,
    pid: Pid,
}

impl UsageReader {
    /// A reader, or `None` where the platform does not say which process this is.
    pub(crate) fn new() -> Option<UsageReader> {
        Some(UsageReader {
            system: System::new(),
            pid: sysinfo::get_current_pid().ok()?,
        })
    }

    /// The figures now, if this platform gives them.
    pub(crate) fn read(&mut self) -> Option<Usage> {
        let refresh = ProcessRefreshKind::nothing().with_memory().with_cpu();
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[self.pid]),
            true,
            refresh,
        );
        let process = self.system.process(self.pid)?;
        Some(Usage {
            resident: process.memory(),
            cpu_ms: process.accumulated_cpu_time(),
            run_time_s: process.run_time(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reads_with_resident_memory_and_cpu_time_that_never_goes_back() {
        let Some(mut reader) = UsageReader::new() else {
            return;
        };
        let before = reader.read().expect("a process that runs can be read");
        assert!(before.resident > 0, "{before:?}");
        let started = std::time::Instant::now();
        let mut spin = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(30) {
            spin = spin.wrapping_add(std::hint::black_box(1));
        }
        std::hint::black_box(spin);
        let after = reader.read().expect("read again");
        assert!(after.cpu_ms >= before.cpu_ms, "{before:?} {after:?}");
        assert!(
            after.run_time_s >= before.run_time_s,
            "{before:?} {after:?}"
        );
    }
}
