//! The validated `#[operator(...)]` attribute: what `validate` makes of the arguments and
//! `expand` turns into code.

use syn::{Expr, LitStr};

use crate::signature::Streams;

/// `node_type`: a string literal (the call site's, resolved once), or an expression
/// evaluated per call (a plan node's name, a `macro_rules!` argument).
pub(super) enum NodeType {
    Literal(LitStr),
    PerCall(Expr),
}

/// The validated attribute.
pub(super) struct Operator {
    pub(super) node_type: NodeType,
    pub(super) name: Option<LitStr>,
    pub(super) node_id: Option<Expr>,
    pub(super) rows_in: Option<Expr>,
    pub(super) rows_out: Option<Expr>,
    pub(super) bytes_read: Option<Expr>,
    pub(super) bytes_written: Option<Expr>,
    /// `partition = expr`: the partition (an integer) each call belongs to.
    pub(super) partition: Option<Expr>,
    /// `stream` / `iterator`: the return type (or its `Ok` type) is a boxed stream or
    /// iterator behind a name the macro cannot see through.
    pub(super) declared_stream: Option<Streams>,
}
