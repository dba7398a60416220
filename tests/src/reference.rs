//! The reference tables the guide (`docs/`) holds between `<!-- generated: NAME -->` and
//! `<!-- end of generated: NAME -->`, each made by the code that sets what it describes.

/// The tables, by name, each with the file that holds it (from the repository's root).
pub const REFERENCE_TABLES: &[(&str, &str)] = &[
    ("limits", "docs/limits.md"),
    ("metrics", "docs/metrics.md"),
    ("environment", "docs/environment.md"),
    ("diagnoses", "docs/local-insight.md"),
];

/// Table `name` as the code makes it, or none when there is no such table.
pub fn reference_table(name: &str) -> Option<String> {
    match name {
        "limits" => Some(pipetel::__reference::limits_markdown()),
        "metrics" => Some(pipetel::__reference::metrics_markdown()),
        "environment" => Some(pipetel::__reference::environment_markdown()),
        "diagnoses" => Some(pipetel::__reference::diagnoses_markdown()),
        _ => None,
    }
}

/// What `text` holds between the markers of table `name`, or none when it has no such
/// markers.
pub fn between_markers<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let begin = format!("<!-- generated: {name} -->\n");
    let end = format!("<!-- end of generated: {name} -->");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    Some(&text[start..stop])
}
