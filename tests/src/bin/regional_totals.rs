//! The main example (`examples/src/regional_totals.rs`) as a binary of the test crate, so
//! the end-to-end tests can run it as a child process.

/// Memory per operator in the report and the dashboard: every heap block charged to the
/// operator that allocated it.
#[global_allocator]
static ALLOCATOR: pipetel::alloc::Tracking<std::alloc::System> =
    pipetel::alloc::Tracking::new(std::alloc::System);

fn main() -> Result<(), String> {
    pipetel_examples::regional_totals::main()
}
