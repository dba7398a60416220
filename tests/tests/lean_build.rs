//! pipetel without its default features and with only the instrumentation (the local
//! report, progress, snapshots) pulls none of the OTLP transports' crates: an engine that
//! wants no export does not build tonic, reqwest or rustls. Read from cargo's own
//! resolution of the workspace (`cargo tree`), which is what a build would compile.

use std::collections::BTreeSet;
use std::process::Command;

/// The crates (by name) in pipetel's normal dependency graph with `features`.
fn crates(features: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "pipetel",
            "--no-default-features",
            "--features",
            features,
        ])
        .args(["-e", "normal", "--prefix", "none", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
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
