//! The report as a Graphviz digraph (`PIPETEL_REPORT=plan.dot`, [`Report::dot`]): data
//! flows down, one box per operator inside a cluster per step, rows and bytes on each
//! edge, what the conservation check flags in red.
//!
//! [`Report::dot`]: crate::Report::dot

use std::fmt::Write as _;

use crate::insight::figures::diagram::Diagram;

/// The DOT text of `diagram`.
pub(crate) fn render(diagram: &Diagram) -> String {
    render_styled(diagram, &|_| String::new())
}

/// The DOT text of `diagram`, each node `n` with id `op{n}` and the attributes
/// `style(n)` gives (for the dashboard: colours), each edge with id `edge{from}-{to}`.
pub(crate) fn render_styled(diagram: &Diagram, style: &dyn Fn(usize) -> String) -> String {
    let mut out = String::from(
        "digraph pipetel {\n  rankdir=TB;\n  graph [fontname=\"Helvetica\", fontsize=11];\n  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
    );
    for (g, (group, members)) in diagram.groups.iter().enumerate() {
        let indent = match group {
            Some(name) => {
                let _ = writeln!(
                    out,
                    "  subgraph cluster_{g} {{\n    label=\"step {}\";",
                    escape(name)
                );
                "    "
            }
            None => "  ",
        };
        for &n in members {
            let node = &diagram.nodes[n];
            let label: Vec<String> = node.lines.iter().map(|l| escape(l)).collect();
            let mut attributes = style(n);
            if node.flagged {
                // After the style: the conservation check's red wins.
                attributes.push_str(", color=red, penwidth=3");
            }
            let attributes = attributes.trim_start_matches(", ");
            let separator = if attributes.is_empty() { "" } else { ", " };
            let _ = writeln!(
                out,
                "{indent}n{n} [id=\"op{n}\", label=\"{}\"{separator}{attributes}];",
                label.join("\\n")
            );
        }
        if group.is_some() {
            out.push_str("  }\n");
        }
    }
    for edge in &diagram.edges {
        let label: Vec<String> = edge.lines.iter().map(|l| escape(l)).collect();
        let color = if edge.flagged {
            ", color=red, penwidth=2"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  n{from} -> n{to} [id=\"edge{from}-{to}\", label=\"{}\"{color}];",
            label.join("\\n"),
            from = edge.from,
            to = edge.to,
        );
    }
    out.push_str("}\n");
    out
}

/// Text safe inside a quoted DOT string.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
