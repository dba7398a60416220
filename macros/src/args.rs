//! Parsing of `key = value` attribute arguments shared by the macros: a list of
//! [`Arg`]s, unknown and duplicate keys reported at the key, all errors combined.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

/// One `key = value` argument, or a bare `key` (a flag).
pub(crate) struct Arg {
    pub(crate) key: Ident,
    pub(crate) value: Option<Expr>,
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        if !input.peek(Token![=]) {
            return Ok(Arg { key, value: None });
        }
        input.parse::<Token![=]>()?;
        let value = Some(input.parse()?);
        Ok(Arg { key, value })
    }
}

impl Arg {
    /// The value, or an error at the key when it has none.
    pub(crate) fn required_value(&self, errors: &mut Errors) -> Option<&Expr> {
        if self.value.is_none() {
            let key = &self.key;
            errors.at(key.span(), format!("`{key}` needs a value: `{key} = …`"));
        }
        self.value.as_ref()
    }
}

/// The arguments of an attribute, in order.
pub(crate) struct Args(pub(crate) Vec<Arg>);

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let list = Punctuated::<Arg, Token![,]>::parse_terminated(input)?;
        Ok(Args(list.into_iter().collect()))
    }
}

impl Args {
    /// The arguments of every `#[name(...)]` attribute in `attributes`, in order.
    pub(crate) fn from_attributes(attributes: &[syn::Attribute], name: &str) -> syn::Result<Args> {
        let mut all = Vec::new();
        for attribute in attributes.iter().filter(|a| a.path().is_ident(name)) {
            all.extend(attribute.parse_args_with(Args::parse)?.0);
        }
        Ok(Args(all))
    }
}

/// Collects errors so that one expansion reports all of them at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Checks every key against `known`, reporting unknown and repeated keys at the key.
pub(crate) fn check_keys(args: &Args, known: &[&str], macro_name: &str, errors: &mut Errors) {
    for (index, arg) in args.0.iter().enumerate() {
        let key = arg.key.to_string();
        if !known.contains(&key.as_str()) {
            let message = match known.iter().find(|k| edit_distance(k, &key) <= 2) {
                Some(close) => {
                    format!("unknown key `{key}` in #[{macro_name}]; did you mean `{close}`?")
                }
                None => {
                    let expected: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                    format!(
                        "unknown key `{key}` in #[{macro_name}]; expected one of {}",
                        expected.join(", ")
                    )
                }
            };
            errors.at(arg.key.span(), message);
        } else if args.0[..index].iter().any(|earlier| earlier.key == arg.key) {
            errors.at(
                arg.key.span(),
                format!("duplicate key `{key}`: give it once"),
            );
        }
    }
}

/// The first argument named `key`.
pub(crate) fn find<'a>(args: &'a Args, key: &str) -> Option<&'a Arg> {
    args.0.iter().find(|arg| arg.key == key)
}

/// The value of `key` as a non-empty string literal, or an error at the value.
pub(crate) fn string_value(arg: &Arg, example: &str, errors: &mut Errors) -> Option<LitStr> {
    let key = &arg.key;
    let mut value = arg.required_value(errors)?;
    // A literal passed through `macro_rules!` arrives in an invisible group.
    while let Expr::Group(group) = value {
        value = &group.expr;
    }
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) if !text.value().trim().is_empty() => Some(text.clone()),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => {
            errors.at(
                text.span(),
                format!("`{key}` cannot be empty, as in `{key} = {example}`"),
            );
            None
        }
        other => {
            errors.push(syn::Error::new_spanned(
                other,
                format!("`{key}` takes a string literal, as in `{key} = {example}`"),
            ));
            None
        }
    }
}

/// The Levenshtein distance between two short keys, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("node_type", "node_type"), 0);
        assert_eq!(edit_distance("node_type", "node_typ"), 1);
        assert_eq!(edit_distance("node_type", "nod_tpe"), 2);
        assert_eq!(edit_distance("rows_in", "rows_out"), 3);
        assert_eq!(edit_distance("", "name"), 4);
    }
}
