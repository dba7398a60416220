//! What a build of pipetel pulls in. Without its default features and with only the
//! instrumentation (the local report, progress, snapshots) it pulls none of the OTLP
//! transports' crates, no progress bars and no process reader: an engine that wants no
//! export does not build tonic, reqwest, rustls, indicatif or sysinfo. With its default
//! features it embeds no page (the HTML report and dashboard are opt-in). Read from
//! cargo's own resolution of the workspace (`cargo tree`, `cargo metadata`), which is
//! what a build would compile.

use std::collections::BTreeSet;
use std::process::Command;

/// What `cargo args` prints, offline, in the workspace; a failure says what cargo said.
fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(args)
        .arg("--offline")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cargo {args:?}: {e}"));
    assert!(
        output.status.success(),
        "cargo {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The crates (by name) in pipetel's normal dependency graph with `features`.
fn crates(features: &str) -> BTreeSet<String> {
    cargo(&[
        "tree",
        "-p",
        "pipetel",
        "--no-default-features",
        "--features",
        features,
        "-e",
        "normal",
        "--prefix",
        "none",
    ])
    .lines()
    .filter_map(|line| line.split_whitespace().next())
    .map(str::to_owned)
    .collect()
}

const TRANSPORT_CRATES: [&str; 6] = ["tonic", "reqwest", "rustls", "hyper", "aws-lc-sys", "prost"];

#[test]
fn the_local_build_pulls_no_transport() {
    let lean = crates("enabled");
    let found: Vec<&&str> = TRANSPORT_CRATES
        .iter()
        .filter(|name| lean.contains(**name))
        .collect();
    assert!(found.is_empty(), "the lean build pulls {found:?}");
    println!("pipetel with `enabled` only: {} crates", lean.len());

    let full = crates("enabled,otlp-grpc,otlp-http,tls");
    for name in ["tonic", "reqwest", "rustls"] {
        assert!(
            full.contains(name),
            "the default build has no {name}: is the check blind?"
        );
    }
    assert!(lean.len() < full.len());
    println!("with the default transports: {} crates", full.len());
}

#[test]
fn the_lean_build_draws_no_bars_and_reads_no_process() {
    let lean = crates("enabled");
    for name in ["indicatif", "sysinfo", "tiny_http", "socket2"] {
        assert!(!lean.contains(name), "the lean build pulls {name}");
    }
    let full = crates("enabled,otlp-grpc,otlp-http,tls,progress-bars");
    for name in ["indicatif", "sysinfo"] {
        assert!(
            full.contains(name),
            "the default build has no {name}: is the check blind?"
        );
    }
}

/// The features `features` turn on in pipetel, following each feature's own list, from
/// the manifest as cargo reads it (`cargo metadata`).
fn enabled_features(features: &[&str]) -> BTreeSet<String> {
    let metadata: serde_json::Value =
        serde_json::from_str(&cargo(&["metadata", "--format-version", "1", "--no-deps"]))
            .expect("JSON");
    let pipetel = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|package| package["name"] == "pipetel")
        .expect("pipetel in the workspace");
    let table = &pipetel["features"];
    let mut enabled = BTreeSet::new();
    let mut next: Vec<String> = features.iter().map(|f| (*f).to_owned()).collect();
    while let Some(feature) = next.pop() {
        if enabled.insert(feature.clone()) {
            for implied in table[&feature].as_array().into_iter().flatten() {
                let implied = implied.as_str().expect("a feature name");
                // `dep:x` and `x/feature` name dependencies, not pipetel's features
                if !implied.contains(':') && !implied.contains('/') {
                    next.push(implied.to_owned());
                }
            }
        }
    }
    enabled
}

/// The page and Viz.js (1.3 MB, its Graphviz part under the EPL 1.0) are compiled only
/// with the `html` feature: a program that takes pipetel's defaults carries none of it.
#[test]
fn the_default_build_embeds_no_page() {
    let default = enabled_features(&["default"]);
    for feature in ["html", "dashboard"] {
        assert!(
            !default.contains(feature),
            "`{feature}` is among the default features: {default:?}"
        );
    }
    assert!(
        enabled_features(&["dashboard"]).contains("html"),
        "the dashboard without the page: is the check blind?"
    );
}
