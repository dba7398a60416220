//! `#[operator(...)]`: parse the arguments and the item, validate them, expand.
//!
//! The expansion keeps the function's signature, attributes and body; it adds a
//! `static` call site, one flag check, and hands everything else to `#[inline]`
//! functions in `::pipetel::__private`. `return` statements of the body become
//! `break`s out of a labelled block so that every exit passes the finishing code;
//! a `?` (or a `return` inside a macro) exits through the task guard's `Drop`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Item, ItemFn, LitStr, Pat, ReturnType};

use crate::args::{self, Args, Errors};
use crate::returns;
use crate::signature;

const KEYS: &[&str] = &[
    "node_type",
    "node_id",
    "name",
    "rows_in",
    "rows_out",
    "bytes_read",
    "bytes_written",
];

/// The validated attribute.
struct Operator {
    node_type: LitStr,
    name: Option<LitStr>,
    node_id: Option<Expr>,
    rows_in: Option<Expr>,
    rows_out: Option<Expr>,
    bytes_read: Option<Expr>,
    bytes_written: Option<Expr>,
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match parse(attr, item).and_then(|(args, function)| {
        let operator = validate(&args, &function)?;
        Ok(generate(&operator, function))
    }) {
        Ok(tokens) => tokens,
        Err(error) => error.into_compile_error(),
    }
}

fn parse(attr: TokenStream, item: TokenStream) -> syn::Result<(Args, ItemFn)> {
    let args = syn::parse2::<Args>(attr);
    let function = parse_function(item, "#[operator]");
    match (args, function) {
        (Ok(args), Ok(function)) => Ok((args, function)),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
        (Err(error), _) | (_, Err(error)) => Err(error),
    }
}

/// The item under the attribute `attribute`, which must be a function with a body.
pub(crate) fn parse_function(item: TokenStream, attribute: &str) -> syn::Result<ItemFn> {
    let item: Item = syn::parse2(item).map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("{attribute} goes on a function with a body (a free function or a method)"),
        )
    })?;
    match item {
        Item::Fn(function) => Ok(function),
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

fn validate(args: &Args, function: &ItemFn) -> syn::Result<Operator> {
    let mut errors = Errors::default();
    args::check_keys(args, KEYS, "operator", &mut errors);
    let node_type = match args::find(args, "node_type") {
        Some(arg) => args::string_value(arg, "\"filter\"", &mut errors),
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
    if let Some(asyncness) = &signature.asyncness {
        errors.at(
            asyncness.span,
            "#[operator] does not support `async fn` yet; make the operator synchronous or count it by hand",
        );
    }
    let mut expr_of =
        |key: &str| args::find(args, key).and_then(|arg| arg.required_value(&mut errors).cloned());
    let operator = Operator {
        node_type: node_type.unwrap_or_else(|| LitStr::new("", Span::call_site())),
        name,
        node_id: expr_of("node_id"),
        rows_in: expr_of("rows_in"),
        rows_out: expr_of("rows_out"),
        bytes_read: expr_of("bytes_read"),
        bytes_written: expr_of("bytes_written"),
    };
    errors.finish().map(|()| operator)
}

fn generate(operator: &Operator, mut function: ItemFn) -> TokenStream {
    let rt = quote!(::pipetel::__private);
    let site = quote_spanned!(Span::mixed_site()=> __PIPETEL_SITE);
    let task = quote_spanned!(Span::mixed_site()=> __pipetel_task);
    let output = quote_spanned!(Span::mixed_site()=> __pipetel_output);
    let probe = quote_spanned!(Span::mixed_site()=> __pipetel_probe);

    let node_type = &operator.node_type;
    let name = operator
        .name
        .as_ref()
        .map_or_else(|| quote!(""), ToTokens::to_token_stream);
    let function_name = function.sig.ident.to_string();
    let is_method = function.sig.receiver().is_some();

    let series = match &operator.node_id {
        Some(node_id) => quote_spanned!(node_id.span()=> #site.series_for(&(#node_id))),
        None if is_method => {
            quote!(#site.series(::core::option::Option::Some(|| ::core::any::type_name::<Self>())))
        }
        None => quote!(#site.series(::core::option::Option::None)),
    };
    let rows_in = match &operator.rows_in {
        Some(count) => quote!(#rt::count_input(#count)),
        None => {
            let arguments = counted_arguments(&function);
            quote!(0u64 #( + (&&#rt::Probe(&#arguments)).__pipetel_rows() )*)
        }
    };
    let bytes_read = operator
        .bytes_read
        .as_ref()
        .map_or_else(|| quote!(0u64), |count| quote!(#rt::count_input(#count)));
    let rows_out = match &operator.rows_out {
        Some(count) => quote!(#rt::count_output(&#output, #count)),
        None => quote!((&&#probe).__pipetel_rows()),
    };
    let bytes_written = operator.bytes_written.as_ref().map_or_else(
        || quote!(0u64),
        |count| quote!(#rt::count_output(&#output, #count)),
    );
    let early_exit_fails = early_exit_fails(&function.sig.output);

    let output_type = signature::declared_output_type(&function.sig.output);
    let label = syn::Lifetime::new("'__pipetel_body", Span::mixed_site());
    let rewrote_returns = returns::into_breaks(&mut function.block, &label, false);
    let statements = &function.block.stmts;
    let body = if rewrote_returns {
        quote!(#label: { #(#statements)* })
    } else {
        quote!({ #(#statements)* })
    };

    let block = quote! {{
        static #site: #rt::CallSite =
            #rt::CallSite::new(#node_type, #name, #function_name, ::core::module_path!());
        let #task = if #rt::enabled() {
            #[allow(unused_imports)]
            use #rt::{NoRows as _, ViaRows as _};
            #rt::TaskGuard::start(#series, #rows_in, #bytes_read, #early_exit_fails)
        } else {
            ::core::option::Option::None
        };
        #[allow(clippy::diverging_sub_expression)]
        let #output #output_type = #body;
        #[allow(unreachable_code, unused_imports)]
        if let ::core::option::Option::Some(#task) = #task {
            use #rt::{NoRows as _, NotResult as _, ViaResult as _, ViaRows as _};
            let #probe = #rt::Probe(&#output);
            #task.finish(#rows_out, #bytes_written, (&&#probe).__pipetel_failed());
        }
        #output
    }};
    let ItemFn {
        attrs, vis, sig, ..
    } = function;
    quote!(#(#attrs)* #vis #sig #block)
}

/// The arguments whose rows count as `rows.in`: every `name: Type` argument (not `self`,
/// not destructuring patterns, not `_`).
fn counted_arguments(function: &ItemFn) -> Vec<&syn::Ident> {
    function
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(binding) if binding.subpat.is_none() => Some(&binding.ident),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// How an exit that skips the end of the body (a `?`) counts: as a failure, except in
/// functions returning `Option` (the `?` returned `None`) or nothing.
fn early_exit_fails(output: &ReturnType) -> bool {
    !matches!(output, ReturnType::Default) && !signature::last_segment_is(output, "Option")
}
