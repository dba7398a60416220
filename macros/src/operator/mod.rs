//! `#[operator(...)]`: parse the arguments and the item, validate them, expand.
//!
//! The expansion keeps the function's signature, attributes and body; it adds a
//! `static` call site, one flag check, and hands everything else to `#[inline]`
//! functions in `::pipetel::__private`. `return` statements of the body become
//! `break`s out of a labelled block so that every exit passes the finishing code;
//! a `?` (or a `return` inside a macro) exits through the task guard's `Drop`.

mod attribute;
mod expand;
mod validate;

use proc_macro2::TokenStream;

use crate::function;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_with(attr, item, crate::INSTRUMENT)
}

/// [`expand`], instrumenting or (with pipetel's `enabled` feature off) only validating.
fn expand_with(attr: TokenStream, item: TokenStream, instrument: bool) -> TokenStream {
    function::expand_attribute(
        attr,
        item,
        "#[operator]",
        instrument,
        validate::validate,
        expand::generate,
    )
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
