//! What `#[operator]` and `#[pipeline_step]` share about the function they go on:
//! parsing it together with the attribute's arguments (every error at once), its body as
//! a labelled block that every `return` leaves through, and the names the expansions add.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::{Item, ItemFn};

use crate::args::Args;
use crate::returns;

/// The path of the runtime items the expansions call (`#[doc(hidden)]` in pipetel).
pub(crate) fn runtime() -> TokenStream {
    quote!(::pipetel::__private)
}

/// An identifier the expansion introduces, hygienic so that the body can neither see
/// nor shadow it.
pub(crate) fn hygienic(name: &str) -> TokenStream {
    syn::Ident::new(name, Span::mixed_site()).into_token_stream()
}

/// One attribute macro on a function, in three steps: parse the arguments and the
/// function (both, so that errors in each are reported together), `validate` them (all
/// errors at once, each at its token), then `generate` the instrumented function — or,
/// when not `instrument`ing (pipetel's `enabled` feature off), emit it unchanged.
pub(crate) fn expand_attribute<V>(
    attr: TokenStream,
    item: TokenStream,
    attribute: &str,
    instrument: bool,
    validate: impl FnOnce(&Args, &ItemFn) -> syn::Result<V>,
    generate: impl FnOnce(&V, ItemFn) -> TokenStream,
) -> TokenStream {
    let expanded = parse(attr, item, attribute).and_then(|(args, function)| {
        let validated = validate(&args, &function)?;
        Ok(if instrument {
            generate(&validated, function)
        } else {
            function.into_token_stream()
        })
    });
    expanded.unwrap_or_else(syn::Error::into_compile_error)
}

/// The arguments and the function, or every error of both.
fn parse(attr: TokenStream, item: TokenStream, attribute: &str) -> syn::Result<(Args, ItemFn)> {
    match (syn::parse2::<Args>(attr), parse_function(item, attribute)) {
        (Ok(args), Ok(function)) => Ok((args, function)),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
        (Err(error), _) | (_, Err(error)) => Err(error),
    }
}

/// The item under the attribute `attribute`, which must be a function with a body.
fn parse_function(item: TokenStream, attribute: &str) -> syn::Result<ItemFn> {
    let item: Item = syn::parse2(item).map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("{attribute} goes on a function with a body (a free function or a method)"),
        )
    })?;
    match item {
        Item::Fn(function) => Ok(function),
        Item::Verbatim(tokens) if syn::parse2::<syn::TraitItemFn>(tokens.clone()).is_ok() => {
            let function = syn::parse2::<syn::TraitItemFn>(tokens)?;
            Err(syn::Error::new(
                function.sig.ident.span(),
                format!(
                    "{attribute} goes on a function with a body, and this one has none: in a \
                     trait, put it on the method in each `impl` (or on a default body)"
                ),
            ))
        }
        other => {
            let (span, what) = item_kind(&other);
            Err(syn::Error::new(
                span,
                format!("{attribute} goes on a function, not on {what}"),
            ))
        }
    }
}

/// Where to point at a non-function item, and what to call it.
fn item_kind(item: &Item) -> (Span, &'static str) {
    match item {
        Item::Struct(item) => (item.struct_token.span, "a struct"),
        Item::Enum(item) => (item.enum_token.span, "an enum"),
        Item::Union(item) => (item.union_token.span, "a union"),
        Item::Const(item) => (item.const_token.span, "a constant"),
        Item::Static(item) => (item.static_token.span, "a static"),
        Item::Trait(item) => (item.trait_token.span, "a trait"),
        Item::Impl(item) => (
            item.impl_token.span,
            "an impl block (put it on the methods)",
        ),
        Item::Mod(item) => (item.mod_token.span, "a module"),
        Item::Type(item) => (item.type_token.span, "a type alias"),
        Item::Use(item) => (item.use_token.span, "a use declaration"),
        other => (other.span(), "this item"),
    }
}

/// The body as a block expression, inline: its `return`s (and, with `rewrite_try`, its
/// `?`s) become `break`s out of a labelled block, so that the code after the block sees
/// every value the function returns. A block, not a closure: borrows, `#[track_caller]`
/// and `unsafe` behave as in the plain function.
pub(crate) fn labelled_body(function: &mut ItemFn, rewrite_try: bool) -> TokenStream {
    let label = syn::Lifetime::new("'__pipetel_body", Span::mixed_site());
    let polls = crate::signature::last_segment_is(&function.sig.output, "Poll");
    let rewrote = returns::into_breaks(&mut function.block, &label, rewrite_try, polls);
    let statements = &function.block.stmts;
    if rewrote {
        quote!(#label: { #(#statements)* })
    } else {
        quote!({ #(#statements)* })
    }
}

/// The instrumented function: its attributes and signature as written, around `block`;
/// the body's inner attributes (`#![allow(…)]`, which syn keeps with the function's)
/// stay at the top of the body.
pub(crate) fn with_body(function: ItemFn, block: TokenStream) -> TokenStream {
    let ItemFn {
        attrs, vis, sig, ..
    } = function;
    let (inner, outer): (Vec<_>, Vec<_>) = attrs
        .into_iter()
        .partition(|attribute| matches!(attribute.style, syn::AttrStyle::Inner(_)));
    quote!(#(#outer)* #vis #sig { #(#inner)* #block })
}
