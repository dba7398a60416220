//! `#[pipeline_step(...)]`: parse the arguments and the function, validate, expand.
//!
//! A sync step keeps its body inline in a labelled block, as `#[operator]` does, with its
//! `return`s — and, in a function returning `Result`, its `?`s — turned into `break`s,
//! so the step sees every error it returns. An async step's body becomes an
//! `async move` block polled with the step's span current.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Expr, ItemFn, LitStr};

use crate::args::{self, Args, Errors};
use crate::function;
use crate::signature;

const KEYS: &[&str] = &["name", "rows"];

/// The validated attribute.
struct Step {
    name: String,
    rows: Option<Expr>,
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_with(attr, item, crate::INSTRUMENT)
}

/// [`expand`], instrumenting or (with pipetel's `enabled` feature off) only validating.
fn expand_with(attr: TokenStream, item: TokenStream, instrument: bool) -> TokenStream {
    function::expand_attribute(
        attr,
        item,
        "#[pipeline_step]",
        instrument,
        validate,
        generate,
    )
}

fn validate(args: &Args, function: &ItemFn) -> syn::Result<Step> {
    let mut errors = Errors::default();
    args::check_keys(args, KEYS, "pipeline_step", &mut errors);
    let name = args::find(args, "name")
        .and_then(|arg| args::string_value(arg, "\"extract\"", &mut errors))
        .map_or_else(
            || function.sig.ident.to_string(),
            |name: LitStr| name.value(),
        );
    let rows = args::find(args, "rows").and_then(|arg| arg.required_value(&mut errors).cloned());
    if let Some(constness) = &function.sig.constness {
        errors.at(
            constness.span,
            "#[pipeline_step] cannot go on a `const fn`: a span needs code that runs at run time",
        );
    }
    errors.finish().map(|()| Step { name, rows })
}

fn generate(step: &Step, mut function: ItemFn) -> TokenStream {
    let rt = function::runtime();
    let guard = function::hygienic("__pipetel_step");
    let attached = function::hygienic("__pipetel_attached");
    let output = function::hygienic("__pipetel_output");
    let body_future = function::hygienic("__pipetel_body");
    let probe = function::hygienic("__pipetel_probe");
    let site = function::hygienic("__PIPETEL_STEP");

    let name = &step.name;
    let rows_key = format!("{name}.rows");
    let is_async = function.sig.asyncness.is_some();
    let early_exit_fails = signature::returns_result(&function.sig.output);
    let output_type = signature::declared_output_type(&function.sig.output);
    let rows = match &step.rows {
        Some(count) => quote!(#rt::count_output(&#output, #count)),
        None => quote!((&&#probe).__pipetel_rows()),
    };
    let finish = quote! {
        if let ::core::option::Option::Some(#guard) = #guard {
            #[allow(unused_imports)]
            use #rt::{
                ErrorOfDebug as _, ErrorOfDisplay as _, ErrorOfError as _, ErrorOfResult as _, NoError as _,
                NoRows as _, ViaRows as _,
            };
            let #probe = #rt::Probe(&#output);
            #guard.finish(#rows, (&&&&&#probe).__pipetel_error());
        }
    };
    let start = quote! {
        static #site: #rt::StepSite = #rt::StepSite::new(#name, #rows_key);
        let #guard = if #rt::pipelines_enabled() {
            #rt::StepGuard::start(&#site, #is_async, #early_exit_fails)
        } else {
            ::core::option::Option::None
        };
    };

    // A step that never returns (`-> !`) has no output to count or report: it ends by a
    // panic (the guard's `Drop`: failed), by being dropped (async: cancelled), or not at
    // all.
    let never = signature::returns_never(&function.sig.output);
    let block = if is_async && never {
        let statements = &function.block.stmts;
        quote! {
            #start
            let #body_future = #rt::typed_future::<_, _>(async move { #(#statements)* });
            match &#guard {
                ::core::option::Option::Some(#guard) => #guard.in_step(#body_future).await,
                ::core::option::Option::None => #body_future.await,
            }
        }
    } else if never {
        let body = function::labelled_body(&mut function, false);
        quote! {
            #start
            let #attached = #guard.as_ref().map(#rt::StepGuard::attach);
            #body
        }
    } else if is_async {
        let statements = &function.block.stmts;
        let output_hint = signature::output_type_hint(&function.sig.output);
        quote! {
            #start
            let #body_future = #rt::typed_future::<#output_hint, _>(async move { #(#statements)* });
            let #output #output_type = match &#guard {
                ::core::option::Option::Some(#guard) => {
                    #guard.in_step(#body_future).await
                }
                ::core::option::Option::None => #body_future.await,
            };
            #[allow(unreachable_code)]
            #finish
            #output
        }
    } else {
        let rewrite_try = signature::returns_result(&function.sig.output);
        let body = function::labelled_body(&mut function, rewrite_try);
        quote! {
            #start
            let #attached = #guard.as_ref().map(#rt::StepGuard::attach);
            #[allow(clippy::diverging_sub_expression)]
            let #output #output_type = #body;
            #[allow(unreachable_code)]
            ::core::mem::drop(#attached);
            #finish
            #output
        }
    };
    function::with_body(function, block)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::expand_with;

    #[test]
    fn without_instrumentation_the_step_comes_out_unchanged() {
        for item in [
            quote! { fn extract(&self) -> Result<Vec<u8>, String> { let v = self.read()?; Ok(v) } },
            quote! { async fn load(rows: Vec<u8>) -> usize { rows.len() } },
        ] {
            let off = expand_with(quote!(name = "extract"), item.clone(), false);
            assert_eq!(off.to_string(), item.to_string());
            let on = expand_with(quote!(name = "extract"), item.clone(), true);
            assert_ne!(on.to_string(), item.to_string());
        }
    }
}
