//! The `PIPETEL_*` variables share one vocabulary for on and off — `1`, `true`, `on` and
//! `0`, `false`, `off`, in any case — and take a path or an address only where one is
//! meant: the table, each row run as the `pipeline` program in a scratch directory.

use std::path::PathBuf;
use std::time::Duration;

use pipetel_tests::run_in;

const PROGRAM: &str = env!("CARGO_BIN_EXE_pipeline");
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// A new empty directory for one run.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pipetel-variables-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// What one run left: its stderr, and the files it wrote in its directory. Progress is
/// drawn only for what is seen running, so it is asked of the slow mode (1.5 s).
fn run_with(variable: &str, value: &str) -> (String, Vec<String>) {
    let dir = scratch_dir(&format!("{variable}-{}", value.trim()));
    let args: &[&str] = if variable == "PIPETEL_PROGRESS" {
        &["--slow"]
    } else {
        &[]
    };
    let output = run_in(Some(&dir), PROGRAM, args, &[(variable, value)], RUN_TIMEOUT);
    assert!(output.status.success(), "{variable}={value:?}");
    let files = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    (String::from_utf8_lossy(&output.stderr).into_owned(), files)
}

#[test]
fn every_pipetel_switch_takes_the_same_on_and_off_values() {
    const ON: [&str; 4] = ["1", "true", "ON", "On"];
    const OFF: [&str; 4] = ["0", "False", "off", "OFF"];
    for value in ON {
        let (stderr, files) = run_with("PIPETEL_REPORT", value);
        assert!(
            stderr.starts_with("RUN / STEP / OPERATOR"),
            "PIPETEL_REPORT={value:?} prints the report: {stderr}"
        );
        assert!(files.is_empty(), "PIPETEL_REPORT={value:?} wrote {files:?}");
        let (stderr, _) = run_with("PIPETEL_PROGRESS", value);
        assert!(
            stderr
                .lines()
                .any(|line| line.starts_with("pipetel: step crawl ")),
            "PIPETEL_PROGRESS={value:?} draws progress: {stderr}"
        );
        assert!(!stderr.contains("warning"), "{stderr}");
    }
    for value in OFF {
        for variable in [
            "PIPETEL_REPORT",
            "PIPETEL_PROGRESS",
            "PIPETEL_PROMETHEUS_ADDR",
        ] {
            let (stderr, files) = run_with(variable, value);
            assert_eq!(stderr, "", "{variable}={value:?} is off");
            assert!(files.is_empty(), "{variable}={value:?} wrote {files:?}");
        }
    }
}

#[test]
fn a_report_path_is_a_file_and_stderr_is_standard_error() {
    let (stderr, files) = run_with("PIPETEL_REPORT", "report.txt");
    assert_eq!(stderr, "");
    assert_eq!(files, ["report.txt"]);
    let (stderr, files) = run_with("PIPETEL_REPORT", "stderr");
    assert!(stderr.starts_with("RUN / STEP / OPERATOR"), "{stderr}");
    assert!(files.is_empty(), "{files:?}");
}
