//! Procedural macros of [pipetel](https://docs.rs/pipetel). Depend on `pipetel`, which
//! re-exports them and holds the runtime the generated code calls.
//!
//! One file per macro (`operator.rs`), each in three steps: parse, validate (all errors
//! combined, each at the offending token), expand (small code calling `::pipetel::__private`).

mod args;
mod operator;
mod returns;

use proc_macro::TokenStream;

/// Counts an operator function's calls as per-operator metrics.
///
/// ```ignore
/// #[pipetel::operator(node_type = "filter")]
/// fn filter(batch: Vec<Row>) -> Vec<Row> { /* … */ }
/// ```
///
/// Every call adds, under the labels `node.id` and `node.type`: `rows.in` (the
/// [`Rows`](https://docs.rs/pipetel/latest/pipetel/trait.Rows.html) of the arguments),
/// `rows.out` (of the return value), `duration` (busy time), `task.active`, and
/// `task.completed` or `task.failed` (an `Err` return, a `?` exit of a `Result`
/// function, or a panic — which still propagates). With telemetry off a call costs one
/// relaxed atomic load more than the plain function, and nothing below is evaluated.
///
/// Keys:
///
/// | key | value | meaning |
/// |---|---|---|
/// | `node_type` | string literal, required | the `node.type` label: `"scan"`, `"filter"`, `"hash_join"` … |
/// | `node_id` | expression | the `node.id` label, evaluated per call (only when telemetry is on); an integer or string ([`NodeId`](https://docs.rs/pipetel/latest/pipetel/trait.NodeId.html)). Default: `name`, else the function's path (`module::function`, or `Type::method` for methods with `self`) |
/// | `name` | string literal | a display name, used as the default `node.id` |
/// | `rows_in` | expression (an integer) | replaces the rows counted from the arguments; evaluated on entry |
/// | `rows_out` | closure `\|&output\| integer` | replaces the rows counted from the return value |
/// | `bytes_read` | expression (an integer) | adds to `bytes.read` on entry |
/// | `bytes_written` | closure `\|&output\| integer` | adds to `bytes.written` on return |
///
/// Works on free functions and methods (`self`, `&self`, `&mut self`), generic
/// functions, and functions returning `Result`, `Option` or `impl Trait`, with early
/// `return` and `?`. Not on `const fn`; `async fn` is not supported yet.
#[proc_macro_attribute]
pub fn operator(attr: TokenStream, item: TokenStream) -> TokenStream {
    operator::expand(attr.into(), item.into()).into()
}
