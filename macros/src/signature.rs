//! Facts about an annotated function's signature that the expansions need.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, PathArguments, ReturnType, Type, TypeParamBound};

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

/// The type to give `typed_future` for an async body: the declared output type, or `_`
/// when that cannot be written (an `impl Trait` in it, or `!`).
pub(crate) fn output_type_hint(output: &ReturnType) -> TokenStream {
    if declared_output_type(output).is_empty() {
        return quote!(_);
    }
    match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    }
}

/// What a function's `impl Trait` return type streams, if it streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Streams {
    /// `impl Iterator<Item = B>` (or a subtrait of `Iterator` from `std`).
    Iterator,
    /// `impl Stream<Item = B>`.
    Stream,
}

/// Whether the declared return type is `impl Iterator<…>` or `impl Stream<…>` (matched
/// on the trait's last path segment, so `std::iter::Iterator` and `futures::Stream`
/// count too), and its item type when written as `Item = B` (`_` when not, or when `B`
/// has an `impl Trait` in it).
pub(crate) fn streams(output: &ReturnType) -> Option<(Streams, TokenStream)> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let Type::ImplTrait(impl_trait) = &**ty else {
        return None;
    };
    impl_trait.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        let streams = match last.ident.to_string().as_str() {
            "Iterator" | "DoubleEndedIterator" | "ExactSizeIterator" | "FusedIterator" => {
                Streams::Iterator
            }
            "Stream" => Streams::Stream,
            _ => return None,
        };
        Some((streams, item_type(&last.arguments)))
    })
}

/// `B` of `<Item = B>`, or `_`.
fn item_type(arguments: &PathArguments) -> TokenStream {
    let PathArguments::AngleBracketed(arguments) = arguments else {
        return quote!(_);
    };
    arguments
        .args
        .iter()
        .find_map(|argument| match argument {
            GenericArgument::AssocType(binding) if binding.ident == "Item" => {
                let nameable = !declared_output_type(&ReturnType::Type(
                    Default::default(),
                    Box::new(binding.ty.clone()),
                ))
                .is_empty();
                let ty = &binding.ty;
                nameable.then(|| quote!(#ty))
            }
            _ => None,
        })
        .unwrap_or_else(|| quote!(_))
}

/// The bounds of a streaming return type that the measuring wrapper cannot keep: it
/// implements the iterator traits of `std` (or `Stream`) and keeps the auto traits
/// `Send`, `Sync` and `Unpin` and lifetimes; `+ Clone`, `+ Debug` and the like it does
/// not.
pub(crate) fn unkept_stream_bounds(output: &ReturnType) -> Vec<&syn::TraitBound> {
    let ReturnType::Type(_, ty) = output else {
        return Vec::new();
    };
    let Type::ImplTrait(impl_trait) = &**ty else {
        return Vec::new();
    };
    impl_trait
        .bounds
        .iter()
        .filter_map(|bound| match bound {
            TypeParamBound::Trait(bound) => Some(bound),
            _ => None,
        })
        .filter(|bound| {
            let kept = [
                "Iterator",
                "DoubleEndedIterator",
                "ExactSizeIterator",
                "FusedIterator",
                "Stream",
                "Send",
                "Sync",
                "Unpin",
            ];
            !bound
                .path
                .segments
                .last()
                .is_some_and(|last| kept.iter().any(|name| last.ident == name))
        })
        .collect()
}
