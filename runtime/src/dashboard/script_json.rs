//! Data for a page's `<script type="application/json">` element: JSON no string of which
//! can close the element.

/// `value` as JSON that cannot end the script element it sits in (nor open a comment or
/// an entity): `<`, `>` and `&` escaped as JSON allows.
pub(crate) fn script_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|error| format!("{{\"error\": {:?}}}", error.to_string()))
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}
