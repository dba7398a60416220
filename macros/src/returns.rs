//! Rewrites the `return`s of a function body into `break`s out of a labelled block, so
//! that the code after the block sees every returned value.
//!
//! Closures, async blocks and nested items have `return`s of their own and are left
//! alone; so are macro invocations, whose tokens are opaque here (such a `return` exits
//! through the task guard's `Drop`, like a `?`).

use quote::quote;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Item, Lifetime};

struct ReturnsToBreaks<'a> {
    label: &'a Lifetime,
    rewrote: bool,
}

impl VisitMut for ReturnsToBreaks<'_> {
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
                *expr = syn::parse_quote_spanned!(returned.return_token.span=> break #label #value);
                self.rewrote = true;
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_item_mut(&mut self, _item: &mut Item) {}
}

/// Rewrites the body's `return`s; tells whether there was any.
pub(crate) fn into_breaks(body: &mut Block, label: &Lifetime) -> bool {
    let mut visitor = ReturnsToBreaks {
        label,
        rewrote: false,
    };
    visitor.visit_block_mut(body);
    visitor.rewrote
}
