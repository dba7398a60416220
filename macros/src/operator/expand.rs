//! `#[operator]`'s expand step: the call site's `static`, one flag check, and the
//! function's shape (sync call, `poll` function, `async fn`, iterator or stream) handed
//! to `#[inline]` functions of `::pipetel::__private`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat, ReturnType};

use crate::function;
use crate::operator::attribute::{NodeType, Operator};
use crate::signature::{self, Boxing, StreamShape, Streams};

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

pub(super) fn generate(operator: &Operator, mut function: ItemFn) -> TokenStream {
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
    // A future that never completes (`-> !`) has no output to count: it ends by a panic
    // (failed) or by being dropped (cancelled).
    let count = if signature::returns_never(&function.sig.output) {
        quote!(|_| (0u64, 0u64, false))
    } else {
        count_closure(operator, names)
    };
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
