//! The main example (`cargo run --example quickstart`) as a binary the tests can start:
//! the same `main`, from `pipetel_examples`.

fn main() -> Result<(), String> {
    pipetel_examples::regional_totals::main()
}
