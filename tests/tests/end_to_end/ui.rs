//! trybuild: every supported function shape compiles (and runs, with telemetry on and
//! `#![deny(warnings)]`); every misuse fails with a message at the offending token.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}
