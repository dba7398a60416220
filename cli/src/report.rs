//! `pipetel report`: the report of snapshot files and directories of them, the processes
//! of each job merged into one.

use std::path::PathBuf;

use clap::Args;
use pipetel::snapshot::{merge_files, Snapshot};
use pipetel::Report;

use crate::output::print;

#[derive(Args)]
#[group(id = "format", multiple = false)]
pub(crate) struct Formats {
    /// Print the merged snapshot as JSON (the snapshot format).
    #[arg(long)]
    json: bool,
    /// Print the operator graph in Graphviz DOT.
    #[arg(long)]
    dot: bool,
    /// Print the operator graph as a Mermaid flowchart.
    #[arg(long)]
    mermaid: bool,
    /// Write the one-file HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct ReportArgs {
    /// Snapshot files (JSON), or directories of them.
    #[arg(required = true, value_name = "DIR_OR_FILES")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    format: Formats,
    /// The job to report on, when the files hold several: its trace id, or the id its
    /// processes started their parts of it in (`Query::start_in_job`).
    #[arg(long, value_name = "ID")]
    job: Option<String>,
}

pub(crate) fn report(args: &ReportArgs) -> Result<(), String> {
    let jobs = merge_files(&args.paths).map_err(|error| error.to_string())?;
    let jobs: Vec<Snapshot> = match &args.job {
        Some(wanted) => jobs
            .into_iter()
            .filter(|job| job.job() == Some(wanted.as_str()))
            .collect(),
        None => jobs,
    };
    let format = &args.format;
    let text_only = !(format.json || format.dot || format.mermaid || format.html.is_some());
    match jobs.len() {
        0 => Err(match &args.job {
            Some(job) => format!("no snapshot of job {job} in {}", listed(&args.paths)),
            None => format!("no snapshot files in {}", listed(&args.paths)),
        }),
        1 => write(Report::of(jobs.into_iter().next().expect("one")), format),
        _ if text_only => {
            for job in jobs {
                let id = job.job().unwrap_or("(none)").to_owned();
                print(format_args!("JOB {id}\n{}\n", Report::of(job)))?;
            }
            Ok(())
        }
        n => Err(format!(
            "{n} jobs in {}: choose one with --job ({})",
            listed(&args.paths),
            jobs.iter()
                .map(|job| job.job().unwrap_or("(none)"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn write(report: Report, format: &Formats) -> Result<(), String> {
    if format.json {
        print(format_args!("{}\n", report.json()))?;
    } else if format.dot {
        print(report.dot())?;
    } else if format.mermaid {
        print(report.mermaid())?;
    } else if let Some(file) = &format.html {
        std::fs::write(file, report.html())
            .map_err(|error| format!("{}: {error}", file.display()))?;
    } else {
        print(&report)?;
    }
    Ok(())
}

pub(crate) fn listed(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
