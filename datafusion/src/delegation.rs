//! The wrapper answers every method of DataFusion's `ExecutionPlan` as its node does: the
//! trait's methods, read from the source of the DataFusion this crate builds against,
//! against the methods `PipetelExec` implements. A method a new DataFusion adds fails
//! this test until the wrapper delegates it (or this table says why it does not), rather
//! than answering with the trait's default behind the node's back.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

/// Methods of `ExecutionPlan` the wrapper leaves to the trait's default, and why.
const NOT_DELEGATED: &[(&str, &str)] = &[
    (
        "static_name",
        "`where Self: Sized`: not a method of a plan node (`dyn ExecutionPlan`)",
    ),
    (
        "try_to_proto",
        "behind DataFusion's `proto` feature: datafusion-proto follows `downcast_delegate` \
         to the node and calls the node's `try_to_proto`, never the wrapper's",
    ),
];

/// The machine's target triple, as rustc names it.
fn host() -> String {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

/// The source of `datafusion-physical-plan`, as cargo resolved it for this crate.
/// Offline, and for this machine's platform only: a build downloads no other platform's
/// crates (windows-sys …), and unfiltered metadata would need them all.
fn physical_plan_source() -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let manifest = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|package| package["name"] == "datafusion-physical-plan")
        .and_then(|package| package["manifest_path"].as_str())
        .expect("datafusion-physical-plan among the packages");
    PathBuf::from(manifest)
        .parent()
        .expect("the manifest's folder")
        .join("src/execution_plan.rs")
}

fn parse(path: &str, source: &str) -> syn::File {
    syn::parse_file(source).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The methods of the trait named `ExecutionPlan` in `file`.
fn trait_methods(file: &syn::File) -> BTreeSet<String> {
    file.items
        .iter()
        .find_map(|item| match item {
            syn::Item::Trait(found) if found.ident == "ExecutionPlan" => Some(found),
            _ => None,
        })
        .expect("trait ExecutionPlan")
        .items
        .iter()
        .filter_map(|item| match item {
            syn::TraitItem::Fn(method) => Some(method.sig.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// The methods of `impl ExecutionPlan for PipetelExec` in `file`.
fn wrapper_methods(file: &syn::File) -> BTreeSet<String> {
    file.items
        .iter()
        .find_map(|item| match item {
            syn::Item::Impl(found)
                if found.trait_.as_ref().is_some_and(|(_, path, _)| {
                    path.segments
                        .last()
                        .is_some_and(|last| last.ident == "ExecutionPlan")
                }) =>
            {
                Some(found)
            }
            _ => None,
        })
        .expect("impl ExecutionPlan for PipetelExec")
        .items
        .iter()
        .filter_map(|item| match item {
            syn::ImplItem::Fn(method) => Some(method.sig.ident.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_wrapper_answers_every_method_of_the_trait_as_its_node() {
    let path = physical_plan_source();
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let trait_methods = trait_methods(&parse(&path.display().to_string(), &source));
    let wrapper = wrapper_methods(&parse("src/exec.rs", include_str!("exec.rs")));
    let left_out: BTreeSet<&str> = NOT_DELEGATED.iter().map(|(name, _)| *name).collect();
    assert!(
        trait_methods.len() > 30,
        "{trait_methods:?}: the trait read whole"
    );

    let missing: Vec<&String> = trait_methods
        .iter()
        .filter(|method| !wrapper.contains(*method) && !left_out.contains(method.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "ExecutionPlan methods PipetelExec does not delegate to its node: {missing:?} — \
         delegate each in src/exec.rs (a rewrite that returns a plan goes through \
         `rewrap`), or say in NOT_DELEGATED why the default is right"
    );
    let stale: Vec<&&str> = left_out
        .iter()
        .filter(|method| !trait_methods.contains(**method) || wrapper.contains(**method))
        .collect();
    assert!(
        stale.is_empty(),
        "NOT_DELEGATED names methods the trait lacks or the wrapper implements: {stale:?}"
    );
}
