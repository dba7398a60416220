//! `#[operator]`'s validate step: every key checked against its expected form, every
//! error at its token and combined, and the function's shape (a stream or iterator
//! declared or seen) settled.

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, LitStr, ReturnType};

use crate::args::{self, Args, Errors};
use crate::operator::attribute::{NodeType, Operator};
use crate::signature::{self, Boxing, Streams};

const KEYS: &[&str] = &[
    "node_type",
    "node_id",
    "name",
    "rows_in",
    "rows_out",
    "bytes_read",
    "bytes_written",
    "stream",
    "iterator",
    "partition",
];

pub(super) fn validate(args: &Args, function: &ItemFn) -> syn::Result<Operator> {
    let mut errors = Errors::default();
    args::check_keys(args, KEYS, "operator", &mut errors);
    let node_type = match args::find(args, "node_type") {
        Some(arg) => node_type(arg, &mut errors),
        None => {
            errors.at(
                Span::call_site(),
                "#[operator] needs `node_type`, as in `#[operator(node_type = \"filter\")]`",
            );
            None
        }
    };
    let name = args::find(args, "name")
        .and_then(|arg| args::string_value(arg, "\"orders scan\"", &mut errors));
    let signature = &function.sig;
    if let Some(constness) = &signature.constness {
        errors.at(
            constness.span,
            "#[operator] cannot go on a `const fn`: counting calls needs code that runs at run time",
        );
    }
    let mut declared_stream = None;
    for (key, streams) in [("stream", Streams::Stream), ("iterator", Streams::Iterator)] {
        let Some(arg) = args::find(args, key) else {
            continue;
        };
        if let Some(value) = &arg.value {
            errors.push(syn::Error::new_spanned(
                value,
                format!("`{key}` is a flag: write `{key}`, with no value"),
            ));
        } else if declared_stream.is_some() {
            errors.at(arg.key.span(), "give `stream` or `iterator`, not both");
        } else if let Some(asyncness) = &signature.asyncness {
            errors.at(
                asyncness.span,
                format!(
                    "`{key}` is for a function that returns a {key}; an `async fn` is measured \
                     per poll already: remove `{key}`"
                ),
            );
        } else if matches!(signature.output, ReturnType::Default) {
            errors.at(
                arg.key.span(),
                format!(
                    "`{key}` says the return value is a {key}, and this function returns nothing"
                ),
            );
        } else {
            declared_stream = Some(streams);
        }
    }
    let impl_stream = signature::stream_shape(&signature.output, None)
        .is_some_and(|shape| shape.boxing == Boxing::Impl && !shape.in_result);
    if signature.asyncness.is_none() && impl_stream {
        for bound in signature::unkept_stream_bounds(&signature.output) {
            let name = bound.path.to_token_stream().to_string().replace(' ', "");
            errors.at(
                bound.span(),
                format!(
                    "#[operator] measures this return value per item through a wrapper, which \
                     keeps the iterator (or stream) traits, `Send`, `Sync`, `Unpin` and \
                     lifetimes but not `{name}`: remove `+ {name}`, or return a named type to \
                     count the call once"
                ),
            );
        }
    }
    let mut expr_of =
        |key: &str| args::find(args, key).and_then(|arg| arg.required_value(&mut errors).cloned());
    let operator = Operator {
        node_type: node_type
            .unwrap_or_else(|| NodeType::Literal(LitStr::new("", Span::call_site()))),
        name,
        node_id: expr_of("node_id"),
        rows_in: expr_of("rows_in"),
        rows_out: expr_of("rows_out"),
        bytes_read: expr_of("bytes_read"),
        bytes_written: expr_of("bytes_written"),
        partition: expr_of("partition"),
        declared_stream,
    };
    if let (Some(partition), true) = (
        &operator.partition,
        signature::last_segment_is(&signature.output, "Poll"),
    ) {
        errors.push(syn::Error::new_spanned(
            partition,
            "`partition` is for calls that run to an end; a function returning `Poll` is one \
             poll of a task: give the partition where the task is made (`Operator::partition`)",
        ));
    }
    errors.finish().map(|()| operator)
}

/// `node_type = "filter"`, or an expression giving the type per call. A literal passed
/// through `macro_rules!` (`$t:literal`, or `$t:expr` given a literal) arrives in an
/// invisible group, and is still a literal.
fn node_type(arg: &args::Arg, errors: &mut Errors) -> Option<NodeType> {
    let mut value = arg.required_value(errors)?;
    while let Expr::Group(group) = value {
        value = &group.expr;
    }
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) if text.value().trim().is_empty() => {
            errors.at(
                text.span(),
                "`node_type` cannot be empty, as in `node_type = \"filter\"`",
            );
            None
        }
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => Some(NodeType::Literal(text.clone())),
        Expr::Lit(other) => {
            errors.push(syn::Error::new_spanned(
                other,
                "`node_type` takes a string, as in `node_type = \"filter\"`, or an expression \
                 giving one (`node_type = self.kind()`)",
            ));
            None
        }
        other => Some(NodeType::PerCall(other.clone())),
    }
}
