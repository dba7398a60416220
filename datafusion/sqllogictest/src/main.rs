//! DataFusion's own SQL logic tests — the `.slt` files that ship in the
//! `datafusion-sqllogictest` package, with its engine adapter and per-file setup — run
//! twice, without and with pipetel's rule (and pipetel counting), record by record. A
//! record that passes without the rule and fails with it is a change the rule made to
//! what DataFusion does: it is printed, and the run fails.
//!
//! Records can fail both ways: some read data kept outside the package (DataFusion's
//! repository and its `testing` submodule). Those say nothing about the rule and are
//! counted apart. The files run in a scratch copy, as DataFusion's runner writes into
//! `test_files/scratch/`.
//!
//! `scripts/sqllogictest [name-filter]`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use datafusion_spark::SessionStateBuilderSpark;
use datafusion_sqllogictest::{
    df_value_validator, is_spark_path, read_dir_recursive, setup_scratch_dir, should_skip_record,
    value_normalizer, DataFusion, TestContext,
};
use indicatif::ProgressBar;
use sqllogictest::{parse_file, strict_column_validator, Record};

/// Folders of the package's test files that need what a plain run does not have: a
/// Postgres server, generated TPC-H data, SQLite's corpus, an encryption feature.
const NEEDS_MORE: &[&str] = &["pg_compat", "tpch", "sqlite", "encrypted_parquet"];

/// One record's outcome in one run: passed, or the error's first line.
type Outcome = Result<(), String>;

#[derive(Default)]
struct Totals {
    files: usize,
    records: usize,
    passed_without: usize,
    passed_with: usize,
    /// Passed without the rule, failed with it.
    broken: Vec<String>,
    /// Failed without the rule, passed with it.
    mended: Vec<String>,
    time_without: Duration,
    time_with: Duration,
}

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let package = package_dir("datafusion-sqllogictest");
    let work = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/sqllogictest-work");
    copy_tree(&package.join("test_files"), &work.join("test_files"));
    if package.join("data").is_dir() {
        copy_tree(&package.join("data"), &work.join("data"));
    }
    std::env::set_current_dir(&work).expect("enter the scratch copy");

    let _telemetry = pipetel::Config::new().collect_locally(true).init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut files: Vec<PathBuf> = read_dir_recursive("test_files")
        .expect("read test_files")
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "slt"))
        .filter(|path| {
            let relative = relative(path);
            !NEEDS_MORE.iter().any(|folder| relative.starts_with(folder))
                && relative.to_string_lossy().contains(filter.as_str())
        })
        .collect();
    files.sort();

    let mut totals = Totals::default();
    for path in files {
        let relative = relative(&path);
        let started = Instant::now();
        let Some(without) = runtime.block_on(run_file(&path, &relative, false)) else {
            continue;
        };
        totals.time_without += started.elapsed();
        let started = Instant::now();
        let with = runtime
            .block_on(run_file(&path, &relative, true))
            .expect("the file ran without the rule");
        totals.time_with += started.elapsed();
        totals.files += 1;
        totals.records += without.len();
        for (index, (without, with)) in without.iter().zip(&with).enumerate() {
            totals.passed_without += usize::from(without.is_ok());
            totals.passed_with += usize::from(with.is_ok());
            let at = format!("{} record {}", relative.display(), index + 1);
            match (without, with) {
                (Ok(()), Err(error)) => totals.broken.push(format!("{at}: {error}")),
                (Err(_), Ok(())) => totals.mended.push(at),
                _ => {}
            }
        }
        eprintln!(
            "{}: {} records, {} passed without the rule, {} with it",
            relative.display(),
            without.len(),
            without.iter().filter(|outcome| outcome.is_ok()).count(),
            with.iter().filter(|outcome| outcome.is_ok()).count()
        );
    }

    println!(
        "{} files, {} records: {} passed without the rule ({:.1} s), {} with it ({:.1} s)",
        totals.files,
        totals.records,
        totals.passed_without,
        totals.time_without.as_secs_f64(),
        totals.passed_with,
        totals.time_with.as_secs_f64()
    );
    for mended in &totals.mended {
        println!("passes only with the rule: {mended}");
    }
    for broken in &totals.broken {
        println!("FAILS ONLY WITH THE RULE: {broken}");
    }
    if !totals.broken.is_empty() {
        std::process::exit(1);
    }
}

/// `path` from inside `test_files/`.
fn relative(path: &Path) -> PathBuf {
    path.strip_prefix("test_files")
        .unwrap_or(path)
        .to_path_buf()
}

/// Each record of the file at `path`, run in one session as DataFusion's runner does:
/// `None` when DataFusion's setup skips the file.
async fn run_file(path: &Path, relative: &Path, with_rule: bool) -> Option<Vec<Outcome>> {
    setup_scratch_dir(relative).expect("a scratch folder");
    let test_ctx = TestContext::try_new_for_test_file(relative).await?;
    // Both runs use the session DataFusion's setup made, rebuilt (the rule can only be
    // added to a state being built): the rule is the one difference between them.
    let mut state = SessionStateBuilder::new_from_existing(test_ctx.session_ctx().state());
    if is_spark_path(relative) {
        // Rebuilding keeps Spark's functions or DataFusion's of the same name, whichever
        // a hash map lists last: Spark's again, as DataFusion's setup has them.
        state = state.with_spark_features();
    }
    if with_rule {
        state = state.with_physical_optimizer_rule(pipetel_datafusion::rule());
    }
    let ctx = SessionContext::new_with_state(state.build());
    let relative_path = relative.to_path_buf();
    let mut runner = sqllogictest::Runner::new(move || {
        let ctx = ctx.clone();
        let relative_path = relative_path.clone();
        async move { Ok(DataFusion::new(ctx, relative_path, ProgressBar::hidden())) }
    });
    runner.add_label("Datafusion");
    runner.with_column_validator(strict_column_validator);
    runner.with_normalizer(value_normalizer);
    runner.with_validator(df_value_validator);
    let records = parse_file(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let mut outcomes = Vec::new();
    for record in records {
        if let Record::Halt { .. } = record {
            break;
        }
        if should_skip_record::<DataFusion>(&record, &[]) {
            continue;
        }
        // Only the records that run something count: comments, labels and control
        // records pass in any engine.
        let counts = matches!(record, Record::Statement { .. } | Record::Query { .. });
        let outcome = runner
            .run_async(record)
            .await
            .map(drop)
            .map_err(|error| error.to_string());
        if counts {
            outcomes.push(outcome);
        }
    }
    runner.shutdown_async().await;
    drop(test_ctx);
    Some(outcomes)
}

/// Where cargo unpacked the package `name` this crate depends on.
fn package_dir(name: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "cargo metadata failed");
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let manifest = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|package| package["name"] == name)
        .and_then(|package| package["manifest_path"].as_str())
        .unwrap_or_else(|| panic!("{name} among the packages"));
    PathBuf::from(manifest)
        .parent()
        .expect("the manifest's folder")
        .to_path_buf()
}

/// `from` copied to `to`, afresh.
fn copy_tree(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).expect("clear the scratch copy");
    }
    std::fs::create_dir_all(to).expect("make the scratch copy");
    for entry in std::fs::read_dir(from).expect("read the package's files") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}
