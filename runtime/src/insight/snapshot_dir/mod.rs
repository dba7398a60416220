//! The snapshot directory (`PIPETEL_SNAPSHOT_DIR`): each process of a job writes its
//! snapshot there, one file per process, and any process or the `pipetel` command reads
//! them all back as one merged snapshot per job.

#[cfg(feature = "dashboard")]
pub(crate) mod job_mates;
pub(crate) mod read;
pub(crate) mod write;

/// How often a process writes its snapshot into `PIPETEL_SNAPSHOT_DIR` while it runs (and
/// once more as its telemetry stops) — but never with more than 1 % of one core: after a
/// snapshot that took `t` (a large engine's can take tens of milliseconds), the next one
/// waits at least `100 t`, and the file says so (`Source::next_within`).
pub const SNAPSHOT_WRITE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// How old a running process's snapshot file may get before a read takes the process
/// for stopped and its figures for **partial** (ten write intervals: a process that is
/// busy, or descheduled on a loaded machine, may write late), or three times the wait its
/// file announced, if longer. A process on the reader's own host that is gone is taken
/// for stopped at once.
pub const SNAPSHOT_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(10);
