//! `pipetel`: reports of snapshot files — those `PIPETEL_SNAPSHOT_DIR` collects from
//! the processes of a job, or any written by `PIPETEL_REPORT=….json` — one job's
//! processes merged (`pipetel::snapshot::merge_files`); what changed from one run to
//! another; and one timeline of a job's processes.
//!
//! ```text
//! pipetel report DIR_OR_FILES… [--json | --dot | --mermaid | --html FILE] [--job ID]
//! pipetel diff BEFORE AFTER [--json | --html FILE]
//! pipetel timeline DIR_OR_FILES… [-o FILE]
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod diff;
mod output;
mod report;
mod timeline;

use diff::DiffArgs;
use report::ReportArgs;
use timeline::TimelineArgs;

#[derive(Parser)]
#[command(
    name = "pipetel",
    version,
    about = "Reports of pipetel snapshot files, diffs of two runs, and timelines of a job"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The report of snapshot files, and of directories of them (such as
    /// PIPETEL_SNAPSHOT_DIR's), the processes of each job merged into one.
    Report(ReportArgs),
    /// What changed from one run (BEFORE) to another (AFTER): each a snapshot or report
    /// JSON file, or a directory of one job's. Operators are matched by node.type and
    /// node.id; a change in busy time per call is called only beyond the noise.
    Diff(DiffArgs),
    /// The timelines of a job's processes (*.trace.json files, or directories such as
    /// PIPETEL_SNAPSHOT_DIR's that hold them) as one Chrome trace file: a process track
    /// each, their clocks aligned on the time of day each starts at.
    Timeline(TimelineArgs),
}

fn main() -> ExitCode {
    let done = match Cli::parse().command {
        Command::Report(args) => report::report(&args),
        Command::Diff(args) => diff::diff(&args),
        Command::Timeline(args) => timeline::timeline(&args),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pipetel: {message}");
            ExitCode::FAILURE
        }
    }
}
