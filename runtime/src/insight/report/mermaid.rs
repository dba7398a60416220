//! The report as a Mermaid flowchart (`PIPETEL_REPORT=plan.mmd`, [`Report::mermaid`]):
//! data flows down, one box per operator inside a box per step, rows and bytes on each
//! edge, what the conservation check flags in red.
//!
//! [`Report::mermaid`]: crate::Report::mermaid

use std::fmt::Write as _;

use crate::insight::figures::diagram::Diagram;

/// The Mermaid text of `diagram`.
pub(crate) fn render(diagram: &Diagram) -> String {
    let mut out = String::from("flowchart TD\n");
    for (g, (group, members)) in diagram.groups.iter().enumerate() {
        let indent = match group {
            Some(name) => {
                let _ = writeln!(out, "  subgraph g{g}[\"step {}\"]", escape(name));
                "    "
            }
            None => "  ",
        };
        for &n in members {
            let label: Vec<String> = diagram.nodes[n].lines.iter().map(|l| escape(l)).collect();
            let _ = writeln!(out, "{indent}n{n}[\"{}\"]", label.join("<br/>"));
        }
        if group.is_some() {
            out.push_str("  end\n");
        }
    }
    for edge in &diagram.edges {
        let label: Vec<String> = edge.lines.iter().map(|l| escape(l)).collect();
        let _ = writeln!(
            out,
            "  n{} -->|\"{}\"| n{}",
            edge.from,
            label.join("<br/>"),
            edge.to
        );
    }
    for (n, _) in diagram
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, node)| node.flagged)
    {
        let _ = writeln!(out, "  style n{n} stroke:#d00,stroke-width:3px");
    }
    for (e, _) in diagram
        .edges
        .iter()
        .enumerate()
        .filter(|(_, edge)| edge.flagged)
    {
        let _ = writeln!(out, "  linkStyle {e} stroke:#d00,stroke-width:3px");
    }
    out
}

/// Text safe inside a quoted Mermaid label.
fn escape(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}
