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
            if finder.0 || matches!(ungrouped(ty), Type::Never(_)) {
                TokenStream::new()
            } else {
                quote!(: #ty)
            }
        }
    }
}

/// Whether the declared return type is a `Result`: its last path segment is `Result` or
/// ends in it, as with `io::Result<T>`, `anyhow::Result<T>` or an engine's
/// `DaftResult<T>`.
pub(crate) fn returns_result(output: &ReturnType) -> bool {
    last_segment(output).is_some_and(|name| name.ends_with("Result"))
}

/// Whether the function is declared to return `!` (it never returns).
pub(crate) fn returns_never(output: &ReturnType) -> bool {
    matches!(output, ReturnType::Type(_, ty) if matches!(ungrouped(ty), Type::Never(_)))
}

/// Whether the declared return type's last path segment is `name`.
pub(crate) fn last_segment_is(output: &ReturnType, name: &str) -> bool {
    last_segment(output).is_some_and(|last| last == name)
}

/// The declared return type's last path segment, looking through the invisible group a
/// `macro_rules!` `$ty:ty` fragment arrives in.
fn last_segment(output: &ReturnType) -> Option<String> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    match ungrouped(ty) {
        Type::Path(path) => path.path.segments.last().map(|last| last.ident.to_string()),
        _ => None,
    }
}

/// `ty` without the invisible groups around it (`$ty:ty` fragments).
pub(crate) fn ungrouped(mut ty: &Type) -> &Type {
    while let Type::Group(group) = ty {
        ty = &group.elem;
    }
    ty
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

/// How a streaming return value is held, so the wrapper can be put back in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Boxing {
    /// `impl Iterator` / `impl Stream`: the wrapper is returned as is.
    Impl,
    /// `Box<dyn Iterator …>` (or an alias of it, with the `iterator` key): `Box::new`.
    Boxed,
    /// `Pin<Box<dyn Stream …>>` (or an alias of it, with the `stream` key): `Box::pin`.
    PinnedBox,
}

/// What a function returns that streams: what it streams, how it is held, the item type
/// (`_` when not written), and whether it comes inside a `Result` (`Ok` is wrapped,
/// `Err` fails the call).
#[derive(Debug, Clone)]
pub(crate) struct StreamShape {
    pub(crate) streams: Streams,
    pub(crate) boxing: Boxing,
    pub(crate) item: TokenStream,
    pub(crate) in_result: bool,
}

/// The stream shape of the declared return type, if it streams: `impl Iterator<…>` /
/// `impl Stream<…>` (matched on the trait's last path segment, so `std::iter::Iterator`
/// and `futures::Stream` count too), `Box<dyn Iterator<…>>`, `Pin<Box<dyn Stream<…>>>`,
/// each also as the `Ok` type of a `Result`. `declared` is what the `stream` /
/// `iterator` key says of a type the macro cannot see through (an alias).
pub(crate) fn stream_shape(output: &ReturnType, declared: Option<Streams>) -> Option<StreamShape> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    if let Some((streams, boxing, item)) = shape_of(ty) {
        return Some(StreamShape {
            streams,
            boxing,
            item,
            in_result: false,
        });
    }
    let ok_type = result_ok_type(ty);
    if let Some((streams, boxing, item)) = ok_type.and_then(shape_of) {
        return Some(StreamShape {
            streams,
            boxing,
            item,
            in_result: true,
        });
    }
    let streams = declared?;
    let boxing = match streams {
        Streams::Iterator => Boxing::Boxed,
        Streams::Stream => Boxing::PinnedBox,
    };
    Some(StreamShape {
        streams,
        boxing,
        item: quote!(_),
        in_result: ok_type.is_some(),
    })
}

/// `T` of a `Result<T, …>` (any path ending in `Result` with a first type argument).
fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ungrouped(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    if !last.ident.to_string().ends_with("Result") {
        return None;
    }
    let PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return None;
    };
    arguments.args.iter().find_map(|argument| match argument {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

/// The streaming trait among `bounds`, and its item type.
fn streaming_bound<'a>(
    bounds: impl IntoIterator<Item = &'a TypeParamBound>,
) -> Option<(Streams, TokenStream)> {
    bounds.into_iter().find_map(|bound| {
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

/// The single type argument of a path type whose last segment is `name`.
fn argument_of<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ungrouped(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return None;
    };
    match arguments.args.first()? {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    }
}

fn shape_of(ty: &Type) -> Option<(Streams, Boxing, TokenStream)> {
    match ty {
        Type::ImplTrait(impl_trait) => {
            let (streams, item) = streaming_bound(&impl_trait.bounds)?;
            Some((streams, Boxing::Impl, item))
        }
        Type::Group(group) => shape_of(&group.elem),
        _ => {
            if let Some(Type::TraitObject(object)) = argument_of(ty, "Box") {
                return match streaming_bound(&object.bounds)? {
                    (Streams::Iterator, item) => Some((Streams::Iterator, Boxing::Boxed, item)),
                    (Streams::Stream, _) => None,
                };
            }
            let boxed = argument_of(ty, "Pin").and_then(|inner| argument_of(inner, "Box"));
            if let Some(Type::TraitObject(object)) = boxed {
                return match streaming_bound(&object.bounds)? {
                    (Streams::Stream, item) => Some((Streams::Stream, Boxing::PinnedBox, item)),
                    (Streams::Iterator, _) => None,
                };
            }
            None
        }
    }
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
