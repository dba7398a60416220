//! The guide's reference tables are the code's: each table between its
//! `<!-- generated: NAME -->` markers is what the code that sets its values prints
//! (`cargo run -p pipetel-tests --bin reference -- NAME`), and a table that drifted from
//! the code, or a marker gone, fails with the file and line at fault.

use pipetel_tests::{between_markers, reference_table, REFERENCE_TABLES};

/// A file of the repository, by its path from the root.
fn repository_file(path: &str) -> String {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The first line where `written` (in `file`) and `made` differ, both shown.
fn first_difference(file: &str, written: &str, made: &str) -> Option<String> {
    let (mut written_lines, mut made_lines) = (written.lines(), made.lines());
    for number in 1.. {
        match (written_lines.next(), made_lines.next()) {
            (None, None) => return None,
            (written, made) if written == made => continue,
            (written, made) => {
                return Some(format!(
                    "line {number} of the table:\n  {file}: {}\n  the code:  {}",
                    written.unwrap_or("(none)"),
                    made.unwrap_or("(none)")
                ))
            }
        }
    }
    None
}

#[test]
fn every_reference_table_in_the_guide_is_what_the_code_prints() {
    for &(name, file) in REFERENCE_TABLES {
        let text = repository_file(file);
        let written = between_markers(&text, name)
            .unwrap_or_else(|| panic!("{file} has no `<!-- generated: {name} -->` table"));
        let made = reference_table(name).expect("a table of that name");
        if let Some(difference) = first_difference(file, written, &made) {
            panic!(
                "{file}'s {name} table differs from the code, {difference}\nprint it anew \
                 with `cargo run -p pipetel-tests --bin reference -- {name}` and put it \
                 between the markers"
            );
        }
    }
}

#[test]
fn a_table_that_drifted_from_the_code_is_found_at_its_line() {
    let made = reference_table("limits").expect("the limits");
    let drifted = made.replacen("28,672", "28,000", 1);
    assert_ne!(drifted, made, "the planted value is in the table");
    let text =
        format!("before\n<!-- generated: limits -->\n{drifted}<!-- end of generated: limits -->\n");
    let written = between_markers(&text, "limits").expect("the markers");
    let difference = first_difference("limits.md", written, &made).expect("the drift is found");
    assert!(
        difference.contains("line 4") && difference.contains("28,000"),
        "{difference}"
    );
    assert!(difference.contains("limits.md: "), "{difference}");
    assert_eq!(first_difference("limits.md", &made, &made), None);
    assert!(between_markers("no markers", "limits").is_none());
}
