//! The report as a Graphviz digraph (`PIPETEL_REPORT=plan.dot`, [`Report::dot`]): data
//! flows down, one box per operator inside a cluster per step, rows and bytes on each
//! edge, what the conservation check flags in red.
//!
//! [`Report::dot`]: crate::Report::dot

use std::fmt::Write as _;

use crate::insight::report::diagram::Diagram;

/// The DOT text of `diagram`.
pub(crate) fn render(diagram: &Diagram) -> String {
    let mut out = String::from(
        "digraph pipetel {\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
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
            let color = if node.flagged {
                ", color=red, penwidth=2"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "{indent}n{n} [label=\"{}\"{color}];",
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
            "  n{} -> n{} [label=\"{}\"{color}];",
            edge.from,
            edge.to,
            label.join("\\n")
        );
    }
    out.push_str("}\n");
    out
}

/// Text safe inside a quoted DOT string.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
