//! `pipetel diff BEFORE AFTER`: what changed from one run to another, each run a snapshot
//! or report JSON file or a directory of them (a job's processes merged).

use std::path::{Path, PathBuf};

use clap::Args;
use pipetel::diff::Diff;
use pipetel::snapshot::{merge_files, Snapshot};
use pipetel::Report;

use crate::output::print;

#[derive(Args)]
pub(crate) struct DiffArgs {
    /// The earlier run: a snapshot file (JSON), or a directory of them.
    #[arg(value_name = "BEFORE")]
    before: PathBuf,
    /// The later run.
    #[arg(value_name = "AFTER")]
    after: PathBuf,
    #[command(flatten)]
    format: DiffFormats,
}

#[derive(Args)]
#[group(id = "diff_format", multiple = false)]
struct DiffFormats {
    /// Print the diff as JSON.
    #[arg(long)]
    json: bool,
    /// Write the diff as one HTML page, the two runs side by side, to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

pub(crate) fn diff(args: &DiffArgs) -> Result<(), String> {
    let before = one_run(&args.before)?;
    let after = one_run(&args.after)?;
    if let Some(file) = &args.format.html {
        let page = Report::of(before).diff_html(&Report::of(after));
        return std::fs::write(file, page).map_err(|error| format!("{}: {error}", file.display()));
    }
    let diff: Diff = before.diff(&after);
    if args.format.json {
        print(format_args!("{}\n", diff.json()))?;
    } else {
        print(&diff)?;
    }
    Ok(())
}

/// The one run `path` holds: its job's processes merged.
fn one_run(path: &Path) -> Result<Snapshot, String> {
    let mut jobs = merge_files([path]).map_err(|error| error.to_string())?;
    match jobs.len() {
        0 => Err(format!("no snapshot files in {}", path.display())),
        1 => Ok(jobs.remove(0)),
        n => Err(format!(
            "{n} jobs in {}: a diff compares one run with one run; give the directory or \
             files of one job ({})",
            path.display(),
            jobs.iter()
                .map(|job| job.job().unwrap_or("(none)"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
