//! `pipetel timeline`: the timelines of a job's processes (`*.trace.json`, as each
//! process that records one writes its own into the snapshot directory) as one Chrome
//! trace file, for Perfetto or `chrome://tracing`.

use std::path::PathBuf;

use clap::Args;
use pipetel::merge_chrome_traces;

use crate::output::print;
use crate::report::listed;

#[derive(Args)]
pub(crate) struct TimelineArgs {
    /// Timeline files (`*.trace.json`), or directories holding them.
    #[arg(required = true, value_name = "DIR_OR_FILES")]
    paths: Vec<PathBuf>,
    /// Write the merged timeline to FILE rather than to stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn timeline(args: &TimelineArgs) -> Result<(), String> {
    let merged = merge_chrome_traces(&args.paths).map_err(|error| error.to_string())?;
    let file: serde_json::Value = serde_json::from_str(&merged).map_err(|e| e.to_string())?;
    if file["otherData"]["processes"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        return Err(format!(
            "no timeline files (*.trace.json) in {}: a process writes its own into its \
             snapshot directory as it stops, when it records a timeline \
             (PIPETEL_REPORT=NAME.trace.json, or Config::record_timeline)",
            listed(&args.paths)
        ));
    }
    match &args.output {
        Some(path) => {
            std::fs::write(path, merged).map_err(|error| format!("{}: {error}", path.display()))
        }
        None => print(format_args!("{merged}\n")),
    }
}
