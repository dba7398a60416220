//! Prints the reference tables made from the code, as the guide holds them between its
//! `<!-- generated: NAME -->` markers: `cargo run -p pipetel-tests --bin reference --
//! limits`. `tests/tests/end_to_end/reference_tables.rs` fails when the two differ.

use std::process::ExitCode;

fn main() -> ExitCode {
    let name = std::env::args().nth(1).unwrap_or_default();
    match pipetel_tests::reference_table(&name) {
        Some(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        None => {
            eprintln!(
                "reference: no table {name:?}; the tables: {}",
                pipetel_tests::REFERENCE_TABLES
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            ExitCode::FAILURE
        }
    }
}
