//! Graphviz's `dot`, the real reader of pipetel's DOT output (Debian's `graphviz`,
//! installed by `scripts/test`).

use std::io::Write as _;
use std::process::{Command, Stdio};

/// What `dot -T<format>` makes of `source`; panics with Graphviz's message if it refuses it.
pub fn graphviz(source: &str, format: &str) -> String {
    let mut dot = Command::new("dot")
        .arg(format!("-T{format}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Graphviz's dot (Debian: graphviz; scripts/test installs it)");
    dot.stdin
        .take()
        .expect("stdin")
        .write_all(source.as_bytes())
        .expect("write");
    let output = dot.wait_with_output().expect("dot");
    assert!(
        output.status.success(),
        "dot refused:\n{source}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// The (nodes, edges) of the layout Graphviz makes of `source`.
pub fn laid_out(source: &str) -> (usize, usize) {
    let layout = graphviz(source, "plain");
    let count = |kind: &str| layout.lines().filter(|line| line.starts_with(kind)).count();
    (count("node "), count("edge "))
}
