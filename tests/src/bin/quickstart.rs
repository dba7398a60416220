//! The main example (`cargo run --example quickstart`) as a binary the tests can start:
//! the same `main`, from `pipetel_examples`.

/// Memory per operator in the report and the dashboard: every heap block charged to the
/// operator that allocated it.
#[global_allocator]
static ALLOCATOR: pipetel::alloc::Tracking<std::alloc::System> =
    pipetel::alloc::Tracking::new(std::alloc::System);

fn main() -> Result<(), String> {
    pipetel_examples::regional_totals::main()
}
