//! What a job's driver shows: its own snapshot merged with those of the other processes
//! of its job in the snapshot directory (the dashboard's view, with
//! `PIPETEL_SNAPSHOT_DIR`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::insight::snapshot::Snapshot;
use crate::insight::snapshot_dir::read::{files, mark_stopped};
use crate::insight::snapshot_dir::write::file_name;
use crate::insight::this_process;
use crate::warn::RateLimited;

/// A file's snapshot as last parsed, with the file's modification time and length then:
/// a file unchanged since (a process that is done) is not parsed again.
struct Parsed {
    modified: SystemTime,
    len: u64,
    snapshot: Snapshot,
}

/// The snapshots parsed so far, by file: at most the directory's files (those gone are
/// dropped at each read).
static PARSED: Mutex<Option<HashMap<PathBuf, Parsed>>> = Mutex::new(None);

/// `own`, this process's snapshot now, merged with the latest of every other process
/// of its job in `dir`: the job as its driver's dashboard shows it. A file is parsed
/// again only when it changed; one that cannot be read is left out, with a warning
/// naming it (at most one a minute).
pub(crate) fn with_job_mates(dir: &Path, own: Snapshot) -> Snapshot {
    static UNREADABLE: RateLimited = RateLimited::new(Duration::from_secs(60));
    let own_file = file_name(&this_process::instance());
    let job = own.job().map(str::to_owned);
    let now = SystemTime::now();
    let mut job_mates = vec![own];
    let Ok(files) = files(dir) else {
        return Snapshot::merge(job_mates);
    };
    let mut parsed = PARSED.lock().unwrap_or_else(PoisonError::into_inner);
    let parsed = parsed.get_or_insert_with(HashMap::new);
    parsed.retain(|file, _| files.contains(file));
    for file in files {
        // Its own file: an older snapshot of this process, which the merge would drop
        // for `own`; not parsed at all.
        if file.file_name() == Some(own_file.as_os_str()) {
            continue;
        }
        match read(&file, parsed) {
            Ok(snapshot) => {
                if snapshot.job() == job.as_deref() {
                    let mut snapshot = snapshot.clone();
                    mark_stopped(&mut snapshot, now);
                    job_mates.push(snapshot);
                }
            }
            Err(error) => UNREADABLE.warn(format_args!(
                "{}: {error}; the dashboard leaves it out",
                file.display()
            )),
        }
    }
    Snapshot::merge(job_mates)
}

/// `file`'s snapshot: as parsed before when the file has not changed since, else parsed
/// now (and kept).
fn read<'p>(file: &Path, parsed: &'p mut HashMap<PathBuf, Parsed>) -> Result<&'p Snapshot, String> {
    let metadata = std::fs::metadata(file).map_err(|error| error.to_string())?;
    let modified = metadata.modified().map_err(|error| error.to_string())?;
    let len = metadata.len();
    let fresh = parsed
        .get(file)
        .is_some_and(|kept| kept.modified == modified && kept.len == len);
    if !fresh {
        let text = std::fs::read_to_string(file).map_err(|error| error.to_string())?;
        let snapshot = Snapshot::from_json(&text).map_err(|error| error.to_string())?;
        parsed.insert(
            file.to_owned(),
            Parsed {
                modified,
                len,
                snapshot,
            },
        );
    }
    Ok(&parsed[file].snapshot)
}
