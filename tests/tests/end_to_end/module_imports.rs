//! Imports go one way (ARCHITECTURE.md): no cycle between the modules of any crate of the
//! workspace, and no folder of the runtime importing from a folder above it.

use pipetel_tests::module_graph::{display, ModuleGraph, ModulePath};
use std::path::Path;

/// The runtime's top-level modules, lowest first: a module may import from its own row
/// and the rows before it, never from a row after it. ARCHITECTURE.md's map says why each
/// stands where it does.
const RUNTIME_LAYERS: &[&[&str]] = &[
    // the vocabulary: names, warnings, and the traits users implement
    &[
        "names",
        "warn",
        "rows",
        "count",
        "node_id",
        "partition",
        "attribute",
        "arrow",
        "linger",
        "listener",
        "latest",
    ],
    &["env"],
    // the process's memory and CPU time, read from the operating system
    &["process_usage"],
    &["counters"],
    // the tracking allocator: reads the current operator and the labels from counters
    &["alloc"],
    // the timeline's recorder: reads the labels and resets floors in counters
    &["timeline"],
    &["operator"],
    &["channel"],
    &["pipeline"],
    // log lines by operator: read the current operator and the labels from counters
    &["logs"],
    &["insight"],
    &["export", "dashboard"],
    // child processes' lines: the current operator, its lines, the line logger
    &["process"],
    &["telemetry"],
    &["config"],
    // the crate's face and the expansions' door see everything
    &["", "__private", "__reference"],
];

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
}

fn crate_src(name: &str) -> std::path::PathBuf {
    workspace().join(name).join("src")
}

fn cycles_of(crate_dir: &str) -> Vec<String> {
    let graph = ModuleGraph::read(&crate_src(crate_dir));
    assert!(graph.module_count() > 1, "{crate_dir}: no modules read");
    graph
        .cycles()
        .into_iter()
        .map(|(members, cycle)| {
            format!(
                "{crate_dir}: {} modules in a cycle ({}), for one: {}",
                members.len(),
                members.iter().map(display).collect::<Vec<_>>().join(", "),
                cycle.iter().map(display).collect::<Vec<_>>().join(" -> "),
            )
        })
        .collect()
}

#[test]
fn no_crate_has_an_import_cycle() {
    let cycles: Vec<String> = ["runtime", "macros", "datafusion", "examples", "tests"]
        .into_iter()
        .flat_map(cycles_of)
        .collect();
    assert!(
        cycles.is_empty(),
        "imports must go one way; break each cycle by moving what both sides use \
         below them:\n{}",
        cycles.join("\n")
    );
}

fn layer(module: &ModulePath) -> usize {
    let top = module.first().map_or("", String::as_str);
    RUNTIME_LAYERS
        .iter()
        .position(|row| row.contains(&top))
        .unwrap_or_else(|| {
            panic!("runtime module `{top}` has no row in RUNTIME_LAYERS: give it one")
        })
}

#[test]
fn no_runtime_folder_imports_from_one_above_it() {
    let graph = ModuleGraph::read(&crate_src("runtime"));
    let upward: Vec<String> = graph
        .imports()
        .into_iter()
        .filter(|import| layer(&import.to) > layer(&import.from))
        .map(|import| {
            format!(
                "{} ({}) imports {}",
                display(&import.from),
                graph
                    .file(&import.from)
                    .strip_prefix(workspace())
                    .unwrap_or(graph.file(&import.from))
                    .display(),
                display(&import.to)
            )
        })
        .collect();
    assert!(
        upward.is_empty(),
        "a runtime folder imports from a folder above it (RUNTIME_LAYERS):\n{}",
        upward.join("\n")
    );
}

/// The reader itself: a planted cycle and a planted upward import are found, through a
/// face's re-export, a `super` path, and a path inside a macro.
#[test]
fn the_reader_finds_a_planted_cycle() {
    let dir = std::env::temp_dir().join(format!("pipetel-module-graph-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("low")).unwrap();
    let write = |path: &str, text: &str| std::fs::write(dir.join(path), text).unwrap();
    write("lib.rs", "mod low;\nmod high;\n");
    write("low/mod.rs", "mod a;\nmod b;\npub(crate) use a::A;\n");
    write(
        "low/a.rs",
        "pub struct A;\nfn f() { let _ = super::b::B; }\n",
    );
    write(
        "low/b.rs",
        "pub struct B;\nmacro_rules! m { () => { $crate::low::A } }\n",
    );
    write(
        "high.rs",
        "use crate::low::A;\n#[cfg(test)]\nmod tests { use super::*; }\n",
    );
    let graph = ModuleGraph::read(&dir);
    let cycles = graph.cycles();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    let shown: Vec<String> = cycles[0].1.iter().map(display).collect();
    assert_eq!(shown, ["low::a", "low::b", "low::a"]);
    let imports: Vec<(String, String)> = graph
        .imports()
        .into_iter()
        .map(|i| (display(&i.from), display(&i.to)))
        .collect();
    assert!(
        imports.contains(&("high".into(), "low::a".into())),
        "{imports:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
