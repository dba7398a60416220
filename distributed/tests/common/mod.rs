//! What the distributed tests share: the `cluster` example's binary, which they run as a
//! user does (`cluster`) and as the workers (`cluster worker`).

use std::path::PathBuf;

/// The `cluster` example's binary, built beside the test's by `cargo test`.
pub fn cluster_binary() -> PathBuf {
    let test = std::env::current_exe().expect("this test binary");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let binary = profile.join("examples").join("cluster");
    assert!(
        binary.exists(),
        "{} is built by `cargo test -p pipetel-datafusion-distributed` (all its targets)",
        binary.display()
    );
    binary
}
