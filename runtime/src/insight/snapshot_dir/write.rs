//! Writing this process's snapshot into the snapshot directory: once every
//! [`SNAPSHOT_WRITE_INTERVAL`] on a thread of its own, and the last one (its source
//! done) as telemetry stops; beside it, the view of each job spread over processes that
//! this process has a part in (`Query::start_in_job`), one file per job, rewritten while
//! a query of the job runs here and once more when the last ends. Each write replaces
//! the file at once (a temporary file renamed over it), so that a reader never sees half
//! of one.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::insight::chrome_trace::chrome_trace;
use crate::insight::periodic::{pause_after, Periodic};
use crate::insight::read_snapshot;
use crate::insight::run_views::{job_parts, RECENT_RUN_VIEWS};
use crate::insight::snapshot::{Snapshot, SourceState};
use crate::insight::snapshot_dir::SNAPSHOT_WRITE_INTERVAL;
use crate::insight::this_process;
use crate::timeline;
use crate::warn::warn;

/// The writer; dropping it (or [`finish`](Self::finish)) writes the last snapshot.
pub(crate) struct SnapshotWriter {
    snapshots: Periodic,
    dir: PathBuf,
}

impl SnapshotWriter {
    /// Starts writing into `dir` (created if missing); `None`, with a warning that names
    /// `variable` and the directory, when it cannot be.
    pub(crate) fn start(dir: &Path, variable: &str) -> Option<SnapshotWriter> {
        if let Err(error) = std::fs::create_dir_all(dir) {
            warn(format_args!(
                "{variable}={}: cannot create the directory ({error}); no snapshots written",
                dir.display()
            ));
            return None;
        }
        let (dir, kept_dir) = (dir.to_path_buf(), dir.to_path_buf());
        let instance = this_process::instance();
        let file = dir.join(file_name(&instance));
        let mut failing = false;
        // The jobs whose part here ended and was written: not read again. Cleared past
        // a bound (the kept views are then written once more).
        let mut written: HashSet<Arc<str>> = HashSet::new();
        let periodic =
            Periodic::start("pipetel-snapshots", SNAPSHOT_WRITE_INTERVAL, move |last| {
                let started = Instant::now();
                let snapshot = if last {
                    read_snapshot::last()
                } else {
                    read_snapshot::snapshot()
                };
                // The jobs' parts are read after the process's snapshot and written before
                // it: a process file read after a moment says the parts are on disk as of
                // then too.
                let mut files = Vec::new();
                if written.len() > 16 * RECENT_RUN_VIEWS {
                    written.clear();
                }
                for part in job_parts(|job| written.contains(job)) {
                    let mut view = part.view;
                    if last {
                        for source in &mut view.sources {
                            source.state = SourceState::Done;
                        }
                    }
                    if !part.running || last {
                        written.insert(Arc::clone(&part.job));
                    }
                    let name = file_name(&format!("{instance}.job-{}", part.job));
                    files.push((dir.join(name), view));
                }
                files.push((file.clone(), snapshot));
                let pause = pause_after(SNAPSHOT_WRITE_INTERVAL, started.elapsed());
                for (file, mut snapshot) in files {
                    for source in &mut snapshot.sources {
                        source.next_within = (!last).then_some(pause);
                    }
                    match replace(&file, snapshot) {
                        // One warning per stretch of failures, not one a second.
                        Err(error) if !failing => {
                            failing = true;
                            warn(format_args!(
                                "cannot write the snapshot {} ({error}); retrying every {:?}",
                                file.display(),
                                pause
                            ));
                        }
                        Err(_) => {}
                        Ok(()) => failing = false,
                    }
                }
                pause
            })?;
        Some(SnapshotWriter {
            snapshots: periodic,
            dir: kept_dir,
        })
    }

    /// Writes the last snapshot and stops; and, while the timeline records, the
    /// process's timeline beside it (`<instance>.trace.json`), for a job's timelines to
    /// be merged into one ([`merge_chrome_traces`](crate::merge_chrome_traces)).
    pub(crate) fn finish(self) {
        self.snapshots.finish();
        if timeline::recording() {
            let instance = this_process::instance();
            let file = self.dir.join(file_name(&format!("{instance}.trace")));
            let trace = chrome_trace();
            if let Err(error) = replace_with(&file, |out| out.write_all(trace.as_bytes())) {
                warn(format_args!(
                    "cannot write the timeline {} ({error})",
                    file.display()
                ));
            }
        }
    }
}

/// The file of the process `instance`: its `service.instance.id`, with anything but
/// letters, digits, `-`, `_` and `.` made `_`.
pub(crate) fn file_name(instance: &str) -> PathBuf {
    let name: String = instance
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = name.trim_start_matches('.');
    PathBuf::from(format!(
        "{}.json",
        if name.is_empty() { "process" } else { name }
    ))
}

/// Writes `snapshot` to `file` (compact JSON: read by programs, and a third of the pretty
/// form's size) through a temporary file beside it, renamed over it: a
/// process killed at any point leaves the previous file or the new one, whole. (No
/// `fsync`: what a kill leaves in the page cache reaches the file; only a crash of the
/// machine could lose the last write.)
fn replace(file: &Path, snapshot: Snapshot) -> std::io::Result<()> {
    replace_with(file, |out| {
        serde_json::to_writer(out, &snapshot).map_err(std::io::Error::from)
    })
}

/// Writes `file` with `write` as [`replace`] does: through a temporary file renamed over
/// it.
fn replace_with(
    file: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let temporary = file.with_file_name(format!(".{name}.tmp"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&temporary)?);
    write(&mut out)?;
    out.flush()?;
    drop(out);
    std::fs::rename(&temporary, file)
}
