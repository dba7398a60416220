//! A test in a process of its own: [`own_process!`](crate::own_process!) as a test's first
//! line runs the test again in a child of the test binary, alone, and fails when the
//! child does.
//!
//! Telemetry is one per process (`init` starts it once; the counters, the graph and the
//! series caps are the process's), and the in-process tests start it with
//! configurations of their own — a cap of three node ids, no collection at all, a span
//! exporter, the diagnoses' log. So they share one test binary, each in its process.

use std::process::Command;

/// The environment variable a child runs under: the name of the one test it runs.
const TEST_VAR: &str = "PIPETEL_TESTS_OWN_PROCESS";

/// Runs the test it is the first line of in a child process of its own, and returns
/// from the test; in that child, lets the test go on.
///
/// ```no_run
/// #[test]
/// fn alone() {
///     pipetel_tests::own_process!();
///     let _telemetry = pipetel::Config::new().collect_locally(true).init();
/// }
/// ```
#[macro_export]
macro_rules! own_process {
    () => {
        fn here() {}
        if !$crate::own_process::in_child(::std::any::type_name_of_val(&here)) {
            return;
        }
    };
}

/// Whether this process is the child that runs the test `here` names (its function's
/// path, ending in `::here`); in the parent, runs that child first, echoes its output
/// and fails when it did not pass exactly that one test.
#[doc(hidden)]
pub fn in_child(here: &str) -> bool {
    let test = test_name(here);
    if std::env::var(TEST_VAR).as_deref() == Ok(test) {
        return true;
    }
    let binary = std::env::current_exe().expect("the test binary's path");
    let output = Command::new(binary)
        .args([test, "--exact", "--test-threads=1", "--nocapture"])
        .env(TEST_VAR, test)
        .output()
        .expect("run the test's own process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Through `print!`, so that the harness captures it as the test's own output.
    print!("{stdout}{stderr}");
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{test}, in its own process: {}",
        output.status
    );
    false
}

/// The harness's name of a test from its function's path: the crate and the trailing
/// `::here` left out.
fn test_name(here: &str) -> &str {
    let path = here
        .strip_suffix("::here")
        .expect("own_process! names its marker function `here`");
    path.split_once("::").map_or(path, |(_crate, test)| test)
}

#[cfg(test)]
mod tests {
    use super::test_name;

    #[test]
    fn the_harness_names_a_test_by_its_module_path_less_the_crate() {
        assert_eq!(
            test_name("in_process::counting::rows_are_counted::here"),
            "counting::rows_are_counted"
        );
        assert_eq!(
            test_name("counting::rows_are_counted::here"),
            "rows_are_counted"
        );
    }
}
