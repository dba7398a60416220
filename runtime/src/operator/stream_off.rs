//! What `#[operator]` on a function returning `impl Stream` meets when pipetel's
//! `stream` feature is off: a bound no type meets, whose compile error says which
//! feature to turn on.

/// Never implemented: names the missing feature in the error.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`#[operator]` on a function returning `impl Stream` needs pipetel's `stream` feature",
    label = "this stream would be measured per item",
    note = "add `features = [\"stream\"]` to the `pipetel` dependency in Cargo.toml"
)]
pub trait StreamFeatureEnabled {}

/// Stands in for the item-typing helper of the `stream` feature.
#[doc(hidden)]
#[inline(always)]
pub fn typed_stream<T, S>(stream: S) -> S {
    stream
}

/// Stands in for the measuring stream of the `stream` feature.
#[doc(hidden)]
#[derive(Debug)]
pub struct OperatorStream;

impl OperatorStream {
    // Named as the real wrapper's constructor, which the macro calls.
    #[allow(clippy::new_ret_no_self)]
    /// Fails to compile (see [`StreamFeatureEnabled`]); returns the stream unchanged.
    pub fn new<S: StreamFeatureEnabled, C>(
        _task: Option<crate::operator::task::Task>,
        inner: S,
        _count: C,
    ) -> S {
        inner
    }
}
