//! Facts about an annotated function's signature that the expansions need.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ReturnType, Type};

/// `: Type` for the output binding, so the body's tail is inferred against the declared
/// return type as in the plain function — unless that type has an `impl Trait` or is `!`,
/// which cannot be written there.
pub(crate) fn declared_output_type(output: &ReturnType) -> TokenStream {
    struct FindsImplTrait(bool);
    impl<'ast> syn::visit::Visit<'ast> for FindsImplTrait {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    match output {
        ReturnType::Default => quote!(: ()),
        ReturnType::Type(_, ty) => {
            let mut finder = FindsImplTrait(false);
            syn::visit::Visit::visit_type(&mut finder, ty);
            if finder.0 || matches!(**ty, Type::Never(_)) {
                TokenStream::new()
            } else {
                quote!(: #ty)
            }
        }
    }
}

/// Whether the declared return type is a `Result` (its last path segment is `Result`,
/// as with `io::Result<T>` or `anyhow::Result<T>`).
pub(crate) fn returns_result(output: &ReturnType) -> bool {
    last_segment_is(output, "Result")
}

/// Whether the declared return type's last path segment is `name`.
pub(crate) fn last_segment_is(output: &ReturnType, name: &str) -> bool {
    match output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Path(path) => path
                .path
                .segments
                .last()
                .is_some_and(|last| last.ident == name),
            _ => false,
        },
        ReturnType::Default => false,
    }
}
