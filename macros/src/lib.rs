//! Procedural macros of [pipetel](https://docs.rs/pipetel). Depend on `pipetel`, which
//! re-exports them and holds the runtime the generated code calls.
//!
//! One module per macro (`operator/`, `pipeline_step.rs`, `pipeline_derive.rs`), each in
//! three steps: parse, validate (all errors combined, each at the offending token), expand
//! (small code calling `::pipetel::__private`). What the two function attributes share —
//! parsing the function, its body as a labelled block, hygienic names — is in
//! `function.rs`; the `key = value` arguments of all three in `args.rs`.

#![warn(unreachable_pub)]

mod args;
mod function;
mod operator;
mod pipeline_derive;
mod pipeline_step;
mod returns;
mod signature;

use proc_macro::TokenStream;

/// Whether the attributes expand into instrumented code (pipetel's `enabled` feature,
/// on by default). Off, they still check their arguments, then emit the item unchanged.
const INSTRUMENT: bool = cfg!(feature = "enabled");

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
/// relaxed atomic load more than the plain function, and nothing below is evaluated;
/// without pipetel's `enabled` feature the function is emitted exactly as written.
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
/// | `partition` | expression (an integer) | the partition the call belongs to: its rows out and busy time also count for the partition, for skew across partitions (not a new series) |
/// | `stream`, `iterator` | flag | the return type (or its `Ok` type) is a boxed stream or iterator behind an alias: count it per item |
///
/// Works on free functions and methods (`self`, `&self`, `&mut self`), generic
/// functions, and functions returning `Result`, `Option` or `impl Trait`, with early
/// `return` and `?`. Not on `const fn` or functions without a body.
///
/// `duration` is the operator's own time: operators it calls or pulls from count theirs.
/// An `async fn` is one task from its first poll: `duration` counts time inside `poll`
/// only, and a future dropped before it finishes counts in `task.cancelled`. A function
/// returning `impl Iterator<Item = B>` (or `impl Stream<Item = B>`, with pipetel's
/// `stream` feature) is one task until the iterator ends: each `next()` adds its time and
/// each item its rows (`rows_out` / `bytes_written` closures get each item); dropped
/// early, it counts as cancelled.
#[proc_macro_attribute]
pub fn operator(attr: TokenStream, item: TokenStream) -> TokenStream {
    operator::expand(attr.into(), item.into()).into()
}

/// Traces a pipeline step: a span named after the step, child of the current run.
///
/// ```ignore
/// #[pipetel::pipeline_step]
/// fn extract(&self) -> Result<Vec<Order>, EtlError> { /* … */ }
/// ```
///
/// The span is a child of the current [`Pipeline`](https://docs.rs/pipetel/latest/pipetel/trait.Pipeline.html)
/// run (a root span outside any run), and current while the step runs, so nested steps,
/// operators and spans of [`pipetel::otel::tracer`](https://docs.rs/pipetel/latest/pipetel/fn.tracer.html)
/// nest under it. It ends with `<step>.rows` (the `Rows` of the `Ok` value or the return
/// value); an `Err` return — including a `?` exit of a function declared to return
/// `Result` — or a panic records an `exception` event (type, message, sources) and the
/// Error status. The step also feeds `pipeline.step.duration` and `pipeline.rows`.
///
/// Keys: `name = "…"` (the step name; default: the function's name), `rows = |&output| n`
/// (the row count, replacing the automatic one). Works on sync and `async fn`s, free
/// functions and methods.
#[proc_macro_attribute]
pub fn pipeline_step(attr: TokenStream, item: TokenStream) -> TokenStream {
    pipeline_step::expand(attr.into(), item.into()).into()
}

/// Implements `pipetel::Pipeline` for a struct.
///
/// `#[pipeline(name = "…")]` on the struct sets `pipeline.name` (default: the struct's
/// name in snake case); `#[pipeline(attribute)]` on a field makes it the run span
/// attribute `pipeline.<field>`, `#[pipeline(attribute = "key")]` the attribute `key`.
#[proc_macro_derive(Pipeline, attributes(pipeline))]
pub fn derive_pipeline(input: TokenStream) -> TokenStream {
    pipeline_derive::expand(input.into()).into()
}
