//! What a job's driver shows: its own snapshot merged with those of the other processes
//! of its job in the snapshot directory (the dashboard's view, with
//! `PIPETEL_SNAPSHOT_DIR`).

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::insight::snapshot::Snapshot;
use crate::insight::snapshot_dir::read::{files, mark_stopped};
use crate::insight::snapshot_dir::write::file_name;
use crate::insight::this_process;
use crate::warn::RateLimited;

/// `own`, this process's snapshot now, merged with the latest of every other process
/// of its job in `dir`: the job as its driver's dashboard shows it. A file that cannot
/// be read is left out, with a warning naming it (at most one a minute).
pub(crate) fn with_job_mates(dir: &Path, own: Snapshot) -> Snapshot {
    static UNREADABLE: RateLimited = RateLimited::new(Duration::from_secs(60));
    let own_file = file_name(&this_process::instance());
    let job = own.sources.first().and_then(|source| source.job.clone());
    let now = SystemTime::now();
    let mut job_mates = vec![own];
    let Ok(files) = files(dir) else {
        return Snapshot::merge(job_mates);
    };
    for file in files {
        if file.file_name() == Some(own_file.as_os_str()) {
            continue;
        }
        let read = std::fs::read_to_string(&file)
            .map_err(|error| error.to_string())
            .and_then(|text| Snapshot::from_json(&text).map_err(|error| error.to_string()));
        match read {
            Ok(mut snapshot) => {
                if snapshot.sources.first().and_then(|s| s.job.as_ref()) == job.as_ref() {
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
