//! Rewrites the exits of a function body so that the code after a labelled block sees
//! every returned value: `return x` becomes `break 'label x`, and — for functions
//! declared to return `Result` — `x?` becomes a `match` that breaks with
//! `Err(From::from(e))`, exactly what `?` returns from such a function.
//!
//! In functions returning `Poll`, `ready!(e)` (`std::task::ready!`, `futures::ready!`)
//! becomes a `match` that breaks with `Poll::Pending`: a pending poll then ends at the
//! block like any return, rather than through the guard's `Drop` as an early exit.
//!
//! Closures, async blocks and nested items have exits of their own and are left alone;
//! so are other macro invocations, whose tokens are opaque here (such an exit leaves
//! through the guard's `Drop`).

use proc_macro2::Span;
use quote::{quote, quote_spanned};
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Item, Lifetime};

struct ExitsToBreaks<'a> {
    label: &'a Lifetime,
    rewrite_try: bool,
    rewrite_ready: bool,
    rewrote: bool,
}

impl ExitsToBreaks<'_> {
    /// `ready!(e)` as a `match` breaking with `Poll::Pending`, if `mac` is one.
    fn ready(&mut self, mac: &syn::Macro) -> Option<Expr> {
        if !self.rewrite_ready || mac.path.segments.last()?.ident != "ready" {
            return None;
        }
        let mut inner: Expr = mac.parse_body().ok()?;
        self.visit_expr_mut(&mut inner);
        let label = self.label;
        let span = mac
            .path
            .segments
            .last()?
            .ident
            .span()
            .resolved_at(Span::call_site());
        self.rewrote = true;
        Some(Expr::Verbatim(quote_spanned!(span=>
            match #inner {
                ::core::task::Poll::Ready(value) => value,
                ::core::task::Poll::Pending => break #label (::core::task::Poll::Pending),
            }
        )))
    }
}

impl VisitMut for ExitsToBreaks<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Macro(invocation) => {
                if let Some(rewritten) = self.ready(&invocation.mac) {
                    *expr = rewritten;
                }
            }
            Expr::Return(returned) => {
                if let Some(value) = &mut returned.expr {
                    self.visit_expr_mut(value);
                }
                let label = self.label;
                // In parentheses (macro output, so no lint): syn reads `'label ::path` as a
                // labelled loop when another attribute parses this function again.
                let value = returned
                    .expr
                    .as_ref()
                    .map_or_else(|| quote!(()), |value| parenthesized(quote!(#value)));
                // Verbatim: syn would read `'label ::path` as a labelled loop; rustc does not.
                *expr = Expr::Verbatim(
                    quote_spanned!(returned.return_token.span=> break #label #value),
                );
                self.rewrote = true;
            }
            Expr::Try(tried) if self.rewrite_try => {
                self.visit_expr_mut(&mut tried.expr);
                let label = self.label;
                let inner = &tried.expr;
                // At the `?` for error messages, but marked as macro output so that lints
                // (clippy's useless_conversion on `From::from`) leave it alone.
                let span = tried.question_token.span.resolved_at(Span::call_site());
                *expr = Expr::Verbatim(quote_spanned!(span=>
                    match #inner {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(error) => {
                            break #label (::core::result::Result::Err(::core::convert::From::from(error)))
                        }
                    }
                ));
                self.rewrote = true;
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_stmt_mut(&mut self, stmt: &mut syn::Stmt) {
        if let syn::Stmt::Macro(statement) = stmt {
            if let Some(rewritten) = self.ready(&statement.mac) {
                *stmt = syn::Stmt::Expr(rewritten, statement.semi_token);
            }
            return;
        }
        visit_mut::visit_stmt_mut(self, stmt);
    }

    fn visit_item_mut(&mut self, _item: &mut Item) {}
}

/// `(tokens)`, the parentheses marked as macro output.
fn parenthesized(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, tokens);
    group.set_span(Span::call_site());
    quote!(#group)
}

/// Rewrites the body's `return`s (and its `?`s when `rewrite_try`, its `ready!`s when
/// `rewrite_ready`); tells whether there was any.
pub(crate) fn into_breaks(
    body: &mut Block,
    label: &Lifetime,
    rewrite_try: bool,
    rewrite_ready: bool,
) -> bool {
    let mut visitor = ExitsToBreaks {
        label,
        rewrite_try,
        rewrite_ready,
        rewrote: false,
    };
    visitor.visit_block_mut(body);
    visitor.rewrote
}
