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
use crate::signature::{self, Boxing, StreamShape, Streams};

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

/// `node_type`: a string literal (the call site's, resolved once), or an expression
/// evaluated per call (a plan node's name, a `macro_rules!` argument).
enum NodeType {
    Literal(LitStr),
    PerCall(Expr),
}

/// The validated attribute.
struct Operator {
    node_type: NodeType,
    name: Option<LitStr>,
    node_id: Option<Expr>,
    rows_in: Option<Expr>,
    rows_out: Option<Expr>,
    bytes_read: Option<Expr>,
    bytes_written: Option<Expr>,
    /// `partition = expr`: the partition (an integer) each call belongs to.
    partition: Option<Expr>,
    /// `stream` / `iterator`: the return type (or its `Ok` type) is a boxed stream or
    /// iterator behind a name the macro cannot see through.
    declared_stream: Option<Streams>,
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

    let static_type = match &operator.node_type {
        NodeType::Literal(text) => text.to_token_stream(),
        NodeType::PerCall(_) => quote!(""),
    };
    let name = operator
        .name
        .as_ref()
        .map_or_else(|| quote!(""), ToTokens::to_token_stream);
    let function_name = function.sig.ident.to_string();
    let site_static = quote! {
        static #site: #rt::CallSite =
            #rt::CallSite::new(#static_type, #name, #function_name, ::core::module_path!());
    };

    let is_method = function.sig.receiver().is_some();
    let self_type = if is_method {
        quote!(::core::option::Option::Some(|| ::core::any::type_name::<
            Self,
        >()))
    } else {
        quote!(::core::option::Option::None)
    };
    let series = match (&operator.node_type, &operator.node_id) {
        (NodeType::Literal(_), Some(node_id)) => {
            quote_spanned!(node_id.span()=> #site.series_for(&(#node_id)))
        }
        (NodeType::Literal(_), None) => quote!(#site.series(#self_type)),
        (NodeType::PerCall(node_type), node_id) => {
            let node_id = match node_id {
                Some(node_id) => {
                    quote_spanned!(node_id.span()=> ::core::option::Option::Some(&(#node_id)))
                }
                None => quote!(::core::option::Option::None::<&str>),
            };
            let node_type = quote_spanned!(node_type.span()=>
                ::core::convert::AsRef::<str>::as_ref(&(#node_type)));
            quote!(#site.series_of_type(#node_type, #node_id, #self_type))
        }
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
    let partition = operator
        .partition
        .as_ref()
        .map(|partition| quote_spanned!(partition.span()=> #rt::partition_of(&(#partition))));
    let start = Start {
        series,
        rows_in,
        bytes_read,
        partition,
    };

    let block = if function.sig.asyncness.is_some() {
        expand_async(operator, &names, &start, &function)
    } else if let Some(shape) =
        signature::stream_shape(&function.sig.output, operator.declared_stream)
    {
        expand_streaming(operator, &names, &start, &mut function, &shape)
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
    /// The partition's slot, when the attribute gives one.
    partition: Option<TokenStream>,
}

impl Start {
    /// `Option<TaskGuard>` for a sync call (given how its early exits count) or
    /// `Option<Task>` for an async or streaming one; `None` when telemetry is off.
    fn task(&self, names: &Names, sync_early_exit_fails: Option<bool>) -> TokenStream {
        let Start {
            series,
            rows_in,
            bytes_read,
            partition,
        } = self;
        let rt = &names.rt;
        let guard = match (sync_early_exit_fails, partition) {
            (None, None) => quote!(#rt::Task::start(#series, #rows_in, #bytes_read)),
            (None, Some(partition)) => {
                quote!(#rt::Task::start_in(#series, #partition, #rows_in, #bytes_read))
            }
            (Some(fails), None) => {
                quote!(#rt::TaskGuard::start(#series, #rows_in, #bytes_read, #fails))
            }
            (Some(fails), Some(partition)) => quote!(
                #rt::TaskGuard::start_in(#series, #partition, #rows_in, #bytes_read, #fails)
            ),
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
    let (rows_out, bytes_written) = returned_counts(operator, names);
    let early_exit_fails = early_exit_fails(&function.sig.output);
    let output_type = signature::declared_output_type(&function.sig.output);
    let body = function::labelled_body(function, false);
    if signature::last_segment_is(&function.sig.output, "Poll") {
        return expand_poll(operator, names, start, &output_type, &body);
    }
    let task_start = start.task(names, Some(early_exit_fails));
    if signature::returns_never(&function.sig.output) {
        // The body never returns: it ends by a panic (the guard's `Drop`: failed) or
        // not at all.
        return quote! {
            let #task = #task_start;
            #body
        };
    }
    // The guard is closed through a reference where it lies: moved out of its `Option`
    // it was copied (`TaskGuard::finish`).
    quote! {
        let mut #task = #task_start;
        #[allow(clippy::diverging_sub_expression)]
        let #output #output_type = #body;
        #[allow(unreachable_code, unused_imports)]
        if #task.is_some() {
            use #rt::{NoRows as _, NotResult as _, ViaResult as _, ViaRows as _};
            let #probe = #rt::Probe(&#output);
            #rt::TaskGuard::finish(&mut #task, #rows_out, #bytes_written, (&&#probe).__pipetel_failed());
        }
        // Closed (or never started): nothing for its `Drop` to do.
        ::core::mem::forget(#task);
        #output
    }
}

/// `rows.out` and `bytes.written` of the value a sync call returned: the attribute's
/// closures over `&output`, else the value's `Rows` (through the probe) and no bytes.
fn returned_counts(operator: &Operator, names: &Names) -> (TokenStream, TokenStream) {
    let Names {
        rt, output, probe, ..
    } = names;
    let rows_out = match &operator.rows_out {
        Some(count) => quote_spanned!(count.span()=> #rt::count_output(&#output, #count)),
        None => quote!((&&#probe).__pipetel_rows()),
    };
    let bytes_written = operator.bytes_written.as_ref().map_or_else(
        || quote!(0u64),
        |count| quote_spanned!(count.span()=> #rt::count_output(&#output, #count)),
    );
    (rows_out, bytes_written)
}

/// A hand-written `poll` / `poll_next` (a function returning `Poll`): a `Pending` is busy
/// time only; a `Ready` is one call, with the rows of what it holds and failed if that is
/// an `Err` (`Ready(Err(_))`, `Ready(Some(Err(_)))`).
fn expand_poll(
    operator: &Operator,
    names: &Names,
    start: &Start,
    output_type: &TokenStream,
    body: &TokenStream,
) -> TokenStream {
    let Names {
        rt,
        task,
        output,
        probe,
        ..
    } = names;
    let (rows_out, bytes_written) = returned_counts(operator, names);
    let Start {
        series,
        rows_in,
        bytes_read,
        ..
    } = start;
    quote! {
        let mut #task = if #rt::enabled() {
            #[allow(unused_imports)]
            use #rt::{NoRows as _, ViaRows as _};
            #rt::TaskGuard::start_poll(#series, #rows_in, #bytes_read)
        } else {
            ::core::option::Option::None
        };
        #[allow(clippy::diverging_sub_expression)]
        let #output #output_type = #body;
        #[allow(unreachable_code, unused_imports)]
        if #task.is_some() {
            use #rt::{NoRows as _, NotResult as _, ViaResult as _, ViaRows as _};
            match &#output {
                ::core::task::Poll::Ready(ready) => {
                    let #probe = #rt::Probe(ready);
                    #rt::TaskGuard::finish_poll(&mut #task, false, #rows_out, #bytes_written, (&&#probe).__pipetel_failed());
                }
                ::core::task::Poll::Pending => #rt::TaskGuard::finish_poll(&mut #task, true, 0, 0, false),
            }
        }
        ::core::mem::forget(#task);
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

/// A function returning a stream or an iterator (`impl …`, a box of `dyn …`, either in a
/// `Result`): the body runs as the task's first segment, and the returned value is
/// wrapped to time each item, then put back as declared (boxed again, or inside `Ok`);
/// an `Err` ends the call as failed.
fn expand_streaming(
    operator: &Operator,
    names: &Names,
    start: &Start,
    function: &mut ItemFn,
    shape: &StreamShape,
) -> TokenStream {
    let Names {
        rt,
        task,
        running,
        output,
        ..
    } = names;
    let (wrapper, typed) = match shape.streams {
        Streams::Iterator => (quote!(#rt::OperatorIter), quote!(#rt::typed_iterator)),
        Streams::Stream => (quote!(#rt::OperatorStream), quote!(#rt::typed_stream)),
    };
    let item = &shape.item;
    let output_type = signature::declared_output_type(&function.sig.output);
    let body = function::labelled_body(function, false);
    let count = count_closure(operator, names);
    let task_start = start.task(names, None);
    let value = function::hygienic("__pipetel_value");
    let wrap = |value: &TokenStream| {
        let wrapped = quote!(#wrapper::new(#task, #value, #count));
        match shape.boxing {
            Boxing::Impl => wrapped,
            Boxing::Boxed => quote!(::std::boxed::Box::new(#wrapped)),
            Boxing::PinnedBox => quote!(::std::boxed::Box::pin(#wrapped)),
        }
    };
    let (binding, returned) = if shape.in_result {
        let wrapped = wrap(&value);
        (
            quote!(let #output #output_type = #body;),
            quote! {
                match #output {
                    ::core::result::Result::Ok(#value) => ::core::result::Result::Ok(#wrapped),
                    ::core::result::Result::Err(error) => {
                        if let ::core::option::Option::Some(#task) = #task {
                            #task.fail();
                        }
                        ::core::result::Result::Err(error)
                    }
                }
            },
        )
    } else if shape.boxing == Boxing::Impl {
        (
            quote!(let #output = #typed::<#item, _>(#body);),
            wrap(output),
        )
    } else {
        (quote!(let #output #output_type = #body;), wrap(output))
    };
    quote! {
        let mut #task = #task_start;
        let #running = #task.as_mut().map(#rt::Task::enter);
        #[allow(clippy::diverging_sub_expression)]
        #binding
        #[allow(unreachable_code)]
        ::core::mem::drop(#running);
        #[allow(unreachable_code)]
        let #value #output_type = #returned;
        #value
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
/// not destructuring patterns, not `_`, not one under `#[cfg(…)]`, which may not exist).
fn counted_arguments(function: &ItemFn) -> Vec<&syn::Ident> {
    function
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) if typed.attrs.iter().any(|a| a.path().is_ident("cfg")) => None,
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
