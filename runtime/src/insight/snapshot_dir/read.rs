//! Reading snapshot files back — a snapshot directory, or files named one by one — as
//! one merged snapshot per job, the processes that stopped without saying so marked
//! partial.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::insight::snapshot::{FormatError, Snapshot, SourceState};
use crate::insight::snapshot_dir::SNAPSHOT_STALE_AFTER;
use crate::insight::this_process;

/// Why [`merge_files`] could not read a snapshot file or directory.
#[derive(Debug)]
#[non_exhaustive]
pub struct ReadError {
    /// The file or directory.
    pub path: PathBuf,
    /// What went wrong.
    pub problem: ReadProblem,
}

/// What went wrong reading one snapshot file or directory.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadProblem {
    /// It could not be read.
    Io(std::io::Error),
    /// It is not a snapshot this release reads.
    Format(FormatError),
    /// It is not a timeline pipetel wrote (why not).
    Timeline(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.problem {
            ReadProblem::Io(error) => write!(f, "{}: {error}", self.path.display()),
            ReadProblem::Format(error) => write!(f, "{}: {error}", self.path.display()),
            ReadProblem::Timeline(why) => {
                write!(f, "{}: not a pipetel timeline: {why}", self.path.display())
            }
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            ReadProblem::Io(error) => Some(error),
            ReadProblem::Format(error) => Some(error),
            ReadProblem::Timeline(_) => None,
        }
    }
}

/// The snapshots in `paths` — snapshot files, and directories of them (their `*.json`
/// files, such as `PIPETEL_SNAPSHOT_DIR`'s) — merged with [`Snapshot::merge`], one
/// merged snapshot per job (the processes started in one trace, by `TRACEPARENT`; those
/// started in none make one job), in the order their first file came.
///
/// A process whose last snapshot says it was running, and that is gone (on this host) or
/// has not written for [`SNAPSHOT_STALE_AFTER`](crate::limits::SNAPSHOT_STALE_AFTER), is
/// marked [`Partial`](SourceState::Partial) with its snapshot's age: its figures are its
/// last ones.
///
/// ```
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
/// pipetel::Operator::new("scan", "files-doc").iter(vec![vec![0u8; 4]]).for_each(drop);
/// let dir = std::env::temp_dir().join(format!("pipetel-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("a.json"), pipetel::report().json()).unwrap();
///
/// let jobs = pipetel::snapshot::merge_files([&dir]).unwrap();
/// assert_eq!(jobs.len(), 1);
/// assert_eq!(jobs[0].operator("scan", "files-doc").unwrap().rows.produced, 4);
///
/// let error = pipetel::snapshot::merge_files([dir.join("missing.json")]).unwrap_err();
/// assert!(error.to_string().contains("missing.json"), "{error}");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # drop(telemetry);
/// ```
pub fn merge_files<P: AsRef<Path>>(
    paths: impl IntoIterator<Item = P>,
) -> Result<Vec<Snapshot>, ReadError> {
    let now = SystemTime::now();
    let mut jobs: Vec<Vec<Snapshot>> = Vec::new();
    let mut job_at: HashMap<Option<String>, usize> = HashMap::new();
    for path in paths {
        for file in files(path.as_ref())? {
            let error = |problem| ReadError {
                path: file.clone(),
                problem,
            };
            let text = std::fs::read_to_string(&file).map_err(|e| error(ReadProblem::Io(e)))?;
            let mut snapshot =
                Snapshot::from_json(&text).map_err(|e| error(ReadProblem::Format(e)))?;
            mark_stopped(&mut snapshot, now);
            let job = snapshot.job().map(str::to_owned);
            let at = *job_at.entry(job).or_insert_with(|| {
                jobs.push(Vec::new());
                jobs.len() - 1
            });
            jobs[at].push(snapshot);
        }
    }
    Ok(jobs.into_iter().map(Snapshot::merge).collect())
}

/// `path` itself, or a directory's snapshot files: its `*.json` files but the timelines
/// (`*.trace.json`) and those whose name starts with `.` (a writer's temporary files), by
/// name.
pub(super) fn files(path: &Path) -> Result<Vec<PathBuf>, ReadError> {
    files_named(path, |name| !name.ends_with(TIMELINE_SUFFIX))
}

/// The end of the name of a process's timeline in a snapshot directory.
pub(crate) const TIMELINE_SUFFIX: &str = ".trace.json";

/// `path` itself, or a directory's `*.json` files whose name is `wanted` (not those whose
/// name starts with `.`: a writer's temporary files), by name.
pub(crate) fn files_named(
    path: &Path,
    wanted: impl Fn(&str) -> bool,
) -> Result<Vec<PathBuf>, ReadError> {
    let error = |e| ReadError {
        path: path.to_owned(),
        problem: ReadProblem::Io(e),
    };
    if !path.metadata().map_err(error)?.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(error)? {
        let file = entry.map_err(error)?.path();
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(".json") && !name.starts_with('.') && wanted(&name) && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// Marks partial each source of `snapshot` that was running and has stopped since.
pub(super) fn mark_stopped(snapshot: &mut Snapshot, now: SystemTime) {
    let host = this_process::host();
    for source in &mut snapshot.sources {
        if source.state != SourceState::Live {
            continue;
        }
        let age = now.duration_since(source.taken).unwrap_or_default();
        let gone_here = source.host.is_some() && source.host == host && gone(source.pid);
        let stale_after = SNAPSHOT_STALE_AFTER.max(source.next_within.unwrap_or_default() * 3);
        if gone_here || age > stale_after {
            source.state = SourceState::Partial { age };
        }
    }
}

/// Whether process `pid` of this host has exited (on Linux, where `/proc` says; elsewhere
/// only a snapshot's age tells).
fn gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.is_dir() && !proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::insight::snapshot::Source;

    fn source(host: Option<&str>, pid: u32, age: Duration, state: SourceState) -> Source {
        Source {
            instance: format!("p{pid}"),
            service: "job".into(),
            host: host.map(str::to_owned),
            pid,
            job: None,
            taken: SystemTime::now() - age,
            next_within: None,
            state,
        }
    }

    #[test]
    fn a_running_process_is_partial_once_gone_or_silent_longer_than_it_said() {
        let here = this_process::host();
        let now = SystemTime::now();
        let mut snapshot = Snapshot {
            sources: vec![
                // This process, a second ago: running.
                source(
                    here.as_deref(),
                    std::process::id(),
                    Duration::from_secs(1),
                    SourceState::Live,
                ),
                // Elsewhere, silent past the limit: partial, with its age.
                source(
                    Some("elsewhere"),
                    7,
                    SNAPSHOT_STALE_AFTER * 2,
                    SourceState::Live,
                ),
                // Elsewhere, recent: running (its pid means nothing here).
                source(
                    Some("elsewhere"),
                    8,
                    Duration::from_secs(1),
                    SourceState::Live,
                ),
                // Done stays done, however old.
                source(
                    Some("elsewhere"),
                    9,
                    SNAPSHOT_STALE_AFTER * 2,
                    SourceState::Done,
                ),
                // Silent past the limit, but it said its next write would take long
                // (a large engine's snapshots, 1 % of a core): running.
                Source {
                    next_within: Some(SNAPSHOT_STALE_AFTER),
                    ..source(
                        Some("elsewhere"),
                        10,
                        SNAPSHOT_STALE_AFTER * 2,
                        SourceState::Live,
                    )
                },
            ],
            ..Snapshot::default()
        };
        mark_stopped(&mut snapshot, now);
        let states: Vec<SourceState> = snapshot.sources.iter().map(|s| s.state).collect();
        assert_eq!(states[0], SourceState::Live);
        assert!(
            matches!(states[1], SourceState::Partial { age } if age > SNAPSHOT_STALE_AFTER),
            "{states:?}"
        );
        assert_eq!(
            &states[2..],
            [SourceState::Live, SourceState::Done, SourceState::Live]
        );
    }
}
