//! The names operators go by in the report: short, and still telling them apart.
//!
//! An operator's full name is its `node.type` and `node.id`; the default `node.id` of
//! `#[operator]` is the function's module path (`my_crate::plan::filter`), which would
//! fill a table column on its own. The report shows the last segment of such a path
//! (just the type when the function is named after it) and adds segments only where two
//! operators would otherwise show the same name. The JSON keeps the full ids.

use std::collections::HashMap;

use crate::insight::snapshot::OperatorSnapshot;

/// The display name of each operator of `operators`, by (node.type, node.id).
pub(crate) fn display_names(operators: &[OperatorSnapshot]) -> HashMap<(String, String), String> {
    names_of(
        operators
            .iter()
            .map(|op| (op.node_type.clone(), op.node_id.clone()))
            .collect(),
    )
}

/// The display name of each operator of `keys` (node.type, node.id), by its key.
pub(crate) fn names_of(keys: Vec<(String, String)>) -> HashMap<(String, String), String> {
    let mut segments = vec![1; keys.len()];
    loop {
        let names: Vec<String> = keys
            .iter()
            .zip(&segments)
            .map(|((node_type, node_id), &n)| short(node_type, node_id, n))
            .collect();
        let mut seen: HashMap<&str, Vec<usize>> = HashMap::new();
        for (index, name) in names.iter().enumerate() {
            seen.entry(name.as_str()).or_default().push(index);
        }
        let mut lengthened = false;
        for clashing in seen.values().filter(|indices| indices.len() > 1) {
            for &index in clashing {
                if segments[index] < keys[index].1.split("::").count() {
                    segments[index] += 1;
                    lengthened = true;
                }
            }
        }
        if !lengthened {
            return keys.into_iter().zip(names).collect();
        }
    }
}

/// `node_type` with the last `segments` segments of a module-path `node_id` (the whole
/// id otherwise); the type alone when the id's last segment is the type.
fn short(node_type: &str, node_id: &str, segments: usize) -> String {
    let parts: Vec<&str> = node_id.split("::").collect();
    if parts.len() == 1 {
        return format!("{node_type} {node_id}");
    }
    let tail = parts[parts.len().saturating_sub(segments)..].join("::");
    if tail == node_type {
        node_type.to_owned()
    } else {
        format!("{node_type} {tail}")
    }
}

/// The display name of an operator, from `names` (by (node.type, node.id)).
pub(crate) fn display_name(
    names: &HashMap<(String, String), String>,
    node_type: &str,
    node_id: &str,
) -> String {
    names
        .get(&(node_type.to_owned(), node_id.to_owned()))
        .cloned()
        .unwrap_or_else(|| format!("{node_type} {node_id}"))
}

#[cfg(test)]
mod tests {
    use super::display_names;
    use crate::insight::snapshot::OperatorSnapshot;

    fn op(node_type: &str, node_id: &str) -> OperatorSnapshot {
        OperatorSnapshot {
            node_type: node_type.into(),
            node_id: node_id.into(),
            ..OperatorSnapshot::default()
        }
    }

    #[test]
    fn module_paths_shorten_to_what_tells_operators_apart() {
        let operators = [
            op("filter", "shop::orders::filter"),
            op("project", "shop::orders::keep_columns"),
            op("scan", "orders.csv"),
            op("join", "shop::orders::join"),
            op("join", "shop::returns::join"),
            op("HashJoinExec", "3"),
        ];
        let names = display_names(&operators);
        let name = |t: &str, i: &str| names[&(t.to_owned(), i.to_owned())].clone();
        assert_eq!(name("filter", "shop::orders::filter"), "filter");
        assert_eq!(
            name("project", "shop::orders::keep_columns"),
            "project keep_columns"
        );
        assert_eq!(name("scan", "orders.csv"), "scan orders.csv");
        assert_eq!(name("join", "shop::orders::join"), "join orders::join");
        assert_eq!(name("join", "shop::returns::join"), "join returns::join");
        assert_eq!(name("HashJoinExec", "3"), "HashJoinExec 3");
    }
}
