//! Rewrites the exits of a function body so that the code after a labelled block sees
//! every returned value: `return x` becomes `break 'label x`, and — for functions
//! declared to return `Result` — `x?` becomes a `match` that breaks with
//! `Err(From::from(e))`, exactly what `?` returns from such a function.
//!
//! Closures, async blocks and nested items have exits of their own and are left alone;
//! so are macro invocations, whose tokens are opaque here (such an exit leaves through
//! the guard's `Drop`).

use proc_macro2::Span;
use quote::{quote, quote_spanned};
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Item, Lifetime};

struct ExitsToBreaks<'a> {
    label: &'a Lifetime,
    rewrite_try: bool,
    rewrote: bool,
}

impl VisitMut for ExitsToBreaks<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Return(returned) => {
                if let Some(value) = &mut returned.expr {
                    self.visit_expr_mut(value);
                }
                let label = self.label;
                let value = returned
                    .expr
                    .as_ref()
                    .map_or_else(|| quote!(()), |value| quote!(#value));
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
                            break #label ::core::result::Result::Err(::core::convert::From::from(error))
                        }
                    }
                ));
                self.rewrote = true;
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_item_mut(&mut self, _item: &mut Item) {}
}

/// Rewrites the body's `return`s (and its `?`s when `rewrite_try`); tells whether there
/// was any.
pub(crate) fn into_breaks(body: &mut Block, label: &Lifetime, rewrite_try: bool) -> bool {
    let mut visitor = ExitsToBreaks {
        label,
        rewrite_try,
        rewrote: false,
    };
    visitor.visit_block_mut(body);
    visitor.rewrote
}
