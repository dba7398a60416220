//! Log lines by operator: each `tracing` event emitted inside an operator's call counted
//! and kept as the operator's (`event_layer`, into `operator_lines`), and printed with its
//! operator's labels by the program's own `fmt` subscriber ([`WithOperator`]). Pipetel's
//! OTLP log records carry the labels too (`export::logs`), and so do the lines of the
//! child processes an operator starts (`process`).

pub(crate) mod event_layer;
pub(crate) mod operator_lines;
mod with_operator;

pub use with_operator::WithOperator;
