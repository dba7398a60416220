//! The process' resident memory and CPU use, for the dashboard's header: read when a
//! page polls, never otherwise.

use std::time::{Duration, Instant};

use crate::dashboard::view::ProcessView;
use crate::insight::figures::units::{bytes, percent};
use crate::process_usage::UsageReader;

/// Reads the process' resident memory and its CPU use since the previous read.
pub(crate) struct ProcessReader {
    usage: Option<UsageReader>,
    /// The previous read: when, and CPU milliseconds then.
    previous: Option<(Instant, u64)>,
}

impl ProcessReader {
    pub(crate) fn new() -> Self {
        ProcessReader {
            usage: UsageReader::new(),
            previous: None,
        }
    }

    /// The figures now, if this platform gives them.
    pub(crate) fn read(&mut self) -> Option<ProcessView> {
        let usage = self.usage.as_mut()?.read()?;
        let (memory, cpu_ms) = (usage.resident, usage.cpu_ms);
        let now = Instant::now();
        let (since, cpu_before) = self.previous.unwrap_or_else(|| {
            let started = Duration::from_secs(usage.run_time_s.max(1));
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
