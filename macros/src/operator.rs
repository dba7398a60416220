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
use syn::{Expr, FnArg, ItemFn, LitStr, Pat, ReturnType};

use crate::args::{self, Args, Errors};
use crate::function;
use crate::signature::{self, Streams};

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
    expand_with(attr, item, crate::INSTRUMENT)
}

/// [`expand`], instrumenting or (with pipetel's `enabled` feature off) only validating.
fn expand_with(attr: TokenStream, item: TokenStream, instrument: bool) -> TokenStream {
    function::expand_attribute(attr, item, "#[operator]", instrument, validate, generate)
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
    if signature.asyncness.is_none() && signature::streams(&signature.output).is_some() {
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

/// The identifiers the expansion introduces, hygienic so the body cannot see them.
struct Names {
    rt: TokenStream,
    site: TokenStream,
    task: TokenStream,
    running: TokenStream,
    output: TokenStream,
    probe: TokenStream,
}

impl Names {
    fn new() -> Self {
        Names {
            rt: function::runtime(),
            site: function::hygienic("__PIPETEL_SITE"),
            task: function::hygienic("__pipetel_task"),
            running: function::hygienic("__pipetel_running"),
            output: function::hygienic("__pipetel_output"),
            probe: function::hygienic("__pipetel_probe"),
        }
    }
}

fn generate(operator: &Operator, mut function: ItemFn) -> TokenStream {
    let names = Names::new();
    let Names { rt, site, .. } = &names;

    let node_type = &operator.node_type;
    let name = operator
        .name
        .as_ref()
        .map_or_else(|| quote!(""), ToTokens::to_token_stream);
    let function_name = function.sig.ident.to_string();
    let site_static = quote! {
        static #site: #rt::CallSite =
            #rt::CallSite::new(#node_type, #name, #function_name, ::core::module_path!());
    };

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
    let start = Start {
        series,
        rows_in,
        bytes_read,
    };

    let block = if function.sig.asyncness.is_some() {
        expand_async(operator, &names, &start, &function)
    } else if let Some((streams, item)) = signature::streams(&function.sig.output) {
        expand_streaming(operator, &names, &start, &mut function, streams, &item)
    } else {
        expand_call(operator, &names, &start, &mut function)
    };
    function::with_body(function, quote!(#site_static #block))
}

/// The expressions evaluated when a call starts.
struct Start {
    series: TokenStream,
    rows_in: TokenStream,
    bytes_read: TokenStream,
}

impl Start {
    /// `Option<TaskGuard>` for a sync call (given how its early exits count) or
    /// `Option<Task>` for an async or streaming one; `None` when telemetry is off.
    fn task(&self, names: &Names, sync_early_exit_fails: Option<bool>) -> TokenStream {
        let Start {
            series,
            rows_in,
            bytes_read,
        } = self;
        let rt = &names.rt;
        let guard = match sync_early_exit_fails {
            None => quote!(#rt::Task::start(#series, #rows_in, #bytes_read)),
            Some(fails) => {
                quote!(#rt::TaskGuard::start(#series, #rows_in, #bytes_read, #fails))
            }
        };
        quote! {
            if #rt::enabled() {
                #[allow(unused_imports)]
                use #rt::{NoRows as _, ViaRows as _};
                #guard
            } else {
                ::core::option::Option::None
            }
        }
    }
}

/// A synchronous call: the body inline in a labelled block, one guard around it.
fn expand_call(
    operator: &Operator,
    names: &Names,
    start: &Start,
    function: &mut ItemFn,
) -> TokenStream {
    let Names {
        rt,
        task,
        output,
        probe,
        ..
    } = names;
    let rows_out = match &operator.rows_out {
        Some(count) => quote_spanned!(count.span()=> #rt::count_output(&#output, #count)),
        None => quote!((&&#probe).__pipetel_rows()),
    };
    let bytes_written = operator.bytes_written.as_ref().map_or_else(
        || quote!(0u64),
        |count| quote_spanned!(count.span()=> #rt::count_output(&#output, #count)),
    );
    let early_exit_fails = early_exit_fails(&function.sig.output);
    let output_type = signature::declared_output_type(&function.sig.output);
    let body = function::labelled_body(function, false);
    let task_start = start.task(names, Some(early_exit_fails));
    quote! {
        let #task = #task_start;
        #[allow(clippy::diverging_sub_expression)]
        let #output #output_type = #body;
        #[allow(unreachable_code, unused_imports)]
        if let ::core::option::Option::Some(#task) = #task {
            use #rt::{NoRows as _, NotResult as _, ViaResult as _, ViaRows as _};
            let #probe = #rt::Probe(&#output);
            #task.finish(#rows_out, #bytes_written, (&&#probe).__pipetel_failed());
        }
        #output
    }
}

/// An `async fn`: the body becomes an `async move` block, awaited through
/// `OperatorFuture`, which times each poll.
fn expand_async(
    operator: &Operator,
    names: &Names,
    start: &Start,
    function: &ItemFn,
) -> TokenStream {
    let Names { rt, task, .. } = names;
    let hint = signature::output_type_hint(&function.sig.output);
    let statements = &function.block.stmts;
    let count = count_closure(operator, names);
    let task_start = start.task(names, None);
    let body = function::hygienic("__pipetel_body");
    // Off, the body is awaited directly: no wrapper, no check per poll.
    quote! {
        let #task = #task_start;
        let #body = #rt::typed_future::<#hint, _>(async move { #(#statements)* });
        match #task {
            ::core::option::Option::Some(#task) => {
                #rt::OperatorFuture::new(#task, #body, #count).await
            }
            ::core::option::Option::None => #body.await,
        }
    }
}

/// A function returning `impl Iterator` / `impl Stream`: the body runs as the task's
/// first segment, and the returned value is wrapped to time each item.
fn expand_streaming(
    operator: &Operator,
    names: &Names,
    start: &Start,
    function: &mut ItemFn,
    streams: Streams,
    item: &TokenStream,
) -> TokenStream {
    let Names {
        rt,
        task,
        running,
        output,
        ..
    } = names;
    let (wrapper, typed) = match streams {
        Streams::Iterator => (quote!(#rt::OperatorIter), quote!(#rt::typed_iterator)),
        Streams::Stream => (quote!(#rt::OperatorStream), quote!(#rt::typed_stream)),
    };
    let body = function::labelled_body(function, false);
    let count = count_closure(operator, names);
    let task_start = start.task(names, None);
    quote! {
        let mut #task = #task_start;
        let #running = #task.as_mut().map(#rt::Task::enter);
        #[allow(clippy::diverging_sub_expression)]
        let #output = #typed::<#item, _>(#body);
        #[allow(unreachable_code)]
        ::core::mem::drop(#running);
        #[allow(unreachable_code)]
        #wrapper::new(#task, #output, #count)
    }
}

/// `|value: &T| (rows out, bytes written, is an Err)` for an async output or a streamed
/// item.
fn count_closure(operator: &Operator, names: &Names) -> TokenStream {
    let Names {
        rt, output, probe, ..
    } = names;
    let rows_out = match &operator.rows_out {
        Some(count) => quote_spanned!(count.span()=> #rt::count_output(#output, #count)),
        None => quote!((&&#probe).__pipetel_rows()),
    };
    let bytes_written = operator.bytes_written.as_ref().map_or_else(
        || quote!(0u64),
        |count| quote_spanned!(count.span()=> #rt::count_output(#output, #count)),
    );
    quote! {
        |#output| {
            #[allow(unused_imports)]
            use #rt::{NoRows as _, NotResult as _, ViaResult as _, ViaRows as _};
            let #probe = #rt::Probe(#output);
            (#rows_out, #bytes_written, (&&#probe).__pipetel_failed())
        }
    }
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

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::expand_with;

    #[test]
    fn without_instrumentation_the_function_comes_out_unchanged() {
        let shapes = [
            quote! { pub fn keep(batch: Vec<u8>) -> Vec<u8> { if batch.is_empty() { return batch; } batch } },
            quote! { async fn fetch(&self, id: u32) -> Result<Vec<u8>, String> { let x = id.to_string(); Ok(x.into_bytes()) } },
            quote! { fn scan(n: u8) -> impl Iterator<Item = u8> + Send { 0..n } },
        ];
        for item in shapes {
            let attr = quote!(node_type = "scan", rows_out = |v: &Vec<u8>| v.len());
            let off = expand_with(attr.clone(), item.clone(), false);
            assert_eq!(off.to_string(), item.to_string());
            let on = expand_with(attr, item.clone(), true);
            assert_ne!(on.to_string(), item.to_string());
            assert!(on.to_string().contains("__private"));
        }
    }

    #[test]
    fn without_instrumentation_misuse_is_still_an_error() {
        let off = expand_with(
            quote!(node_typo = "scan"),
            quote!(
                fn f() {}
            ),
            false,
        );
        let message = off.to_string();
        assert!(message.contains("compile_error"), "{message}");
        assert!(message.contains("node_type"), "{message}");
    }
}
