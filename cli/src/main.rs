//! `pipetel`: reports of snapshot files — those `PIPETEL_SNAPSHOT_DIR` collects from
//! the processes of a job, or any written by `PIPETEL_REPORT=….json` — one job's
//! processes merged (`pipetel::snapshot::merge_files`).
//!
//! ```text
//! pipetel report DIR_OR_FILES… [--json | --dot | --mermaid | --html FILE] [--job ID]
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod report;

use report::ReportArgs;

#[derive(Parser)]
#[command(name = "pipetel", version, about = "Reports of pipetel snapshot files")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The report of snapshot files, and of directories of them (such as
    /// PIPETEL_SNAPSHOT_DIR's), the processes of each job merged into one.
    Report(ReportArgs),
}

fn main() -> ExitCode {
    let Command::Report(args) = Cli::parse().command;
    match report::report(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pipetel: {message}");
            ExitCode::FAILURE
        }
    }
}
