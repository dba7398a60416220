//! The main example (`examples/src/regional_totals.rs`) as a binary of the test crate, so
//! the end-to-end tests can run it as a child process.

fn main() -> Result<(), String> {
    pipetel_examples::regional_totals::main()
}
