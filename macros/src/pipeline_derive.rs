//! `#[derive(Pipeline)]`: parse the struct and its `#[pipeline(...)]` attributes,
//! validate, expand to an `impl ::pipetel::Pipeline`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::args::{self, Args, Errors};

const STRUCT_KEYS: &[&str] = &["name"];
const FIELD_KEYS: &[&str] = &["attribute"];

/// The validated derive input.
struct PipelineStruct {
    name: String,
    /// `(attribute key, field, field type)` for every `#[pipeline(attribute)]` field.
    attributes: Vec<(String, syn::Ident, syn::Type)>,
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<DeriveInput>(input).and_then(|input| {
        let pipeline = validate(&input)?;
        Ok(generate(&pipeline, &input))
    }) {
        Ok(tokens) => tokens,
        Err(error) => error.into_compile_error(),
    }
}

fn validate(input: &DeriveInput) -> syn::Result<PipelineStruct> {
    let mut errors = Errors::default();
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => named.named.iter().collect(),
            Fields::Unit => Vec::new(),
            Fields::Unnamed(unnamed) => {
                errors.at(
                    unnamed.paren_token.span.join(),
                    "#[derive(Pipeline)] needs named fields (or none): a tuple struct's fields have no names to use as span attributes",
                );
                Vec::new()
            }
        },
        Data::Enum(data) => {
            errors.at(
                data.enum_token.span,
                "#[derive(Pipeline)] goes on a struct, not on an enum",
            );
            Vec::new()
        }
        Data::Union(data) => {
            errors.at(
                data.union_token.span,
                "#[derive(Pipeline)] goes on a struct, not on a union",
            );
            Vec::new()
        }
    };
    let container = Args::from_attributes(&input.attrs, "pipeline").unwrap_or_else(|error| {
        errors.push(error);
        Args(Vec::new())
    });
    args::check_keys(&container, STRUCT_KEYS, "pipeline", &mut errors);
    let name = args::find(&container, "name")
        .and_then(|arg| args::string_value(arg, "\"orders\"", &mut errors))
        .map_or_else(
            || snake_case(&input.ident.to_string()),
            |name: LitStr| name.value(),
        );

    let mut attributes = Vec::new();
    for field in fields {
        let field_args = match Args::from_attributes(&field.attrs, "pipeline") {
            Ok(field_args) => field_args,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        args::check_keys(&field_args, FIELD_KEYS, "pipeline", &mut errors);
        let Some(arg) = args::find(&field_args, "attribute") else {
            continue;
        };
        let ident = field.ident.clone().expect("named field");
        let key = match &arg.value {
            None => format!("pipeline.{ident}"),
            Some(_) => match args::string_value(arg, "\"pipeline.destination\"", &mut errors) {
                Some(key) => key.value(),
                None => continue,
            },
        };
        attributes.push((key, ident, field.ty.clone()));
    }
    errors
        .finish()
        .map(|()| PipelineStruct { name, attributes })
}

fn generate(pipeline: &PipelineStruct, input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let name = &pipeline.name;
    // Each value at its field's type, so a type that cannot be an attribute is named there.
    let values = pipeline.attributes.iter().map(|(key, field, ty)| {
        quote_spanned!(ty.span()=> ::pipetel::__private::attribute(#key, &self.#field))
    });
    quote! {
        impl #impl_generics ::pipetel::Pipeline for #ident #type_generics #where_clause {
            fn pipeline_name(&self) -> &'static str {
                #name
            }

            fn pipeline_attributes(&self) -> ::std::vec::Vec<::pipetel::__private::KeyValue> {
                ::std::vec![#(#values),*]
            }
        }
    }
}

/// `OrdersPipeline` → `orders_pipeline`, `HTTPLoader` → `http_loader`.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut snake = String::with_capacity(name.len() + 4);
    for (index, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && index > 0 {
            let previous = chars[index - 1];
            let next_is_lower = chars.get(index + 1).is_some_and(|next| next.is_lowercase());
            if previous.is_lowercase()
                || previous.is_ascii_digit()
                || (previous.is_uppercase() && next_is_lower)
            {
                snake.push('_');
            }
        }
        snake.extend(c.to_lowercase());
    }
    snake
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn struct_names_become_snake_case() {
        assert_eq!(snake_case("OrdersPipeline"), "orders_pipeline");
        assert_eq!(snake_case("HTTPLoader"), "http_loader");
        assert_eq!(snake_case("Etl2Warehouse"), "etl2_warehouse");
        assert_eq!(snake_case("Nightly"), "nightly");
    }
}
