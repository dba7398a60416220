//! `--name value` on the command line, for the programs that take a few numbers: the
//! engines' benchmarks (`-- --orders N`), the cluster example, the test programs. Included
//! with `#[path]` by each.

/// The value after `name` on the command line, or `default` when `name` is not given.
/// Panics, naming the argument, on a value that is not one.
pub fn argument<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|arg| arg == name) {
        None => default,
        Some(at) => args
            .get(at + 1)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{name} takes a number")),
    }
}
