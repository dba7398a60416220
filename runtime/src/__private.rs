//! The items the macros expand to. Not a public API: names and signatures change
//! without notice. Kept small and `#[inline]` so that every call site stays tiny.

pub use crate::error_report::{ErrorOfDebug, ErrorOfDisplay, ErrorOfError, ErrorOfResult, NoError};
pub use crate::hot_path::{enabled, CallSite, TaskGuard};
pub use crate::operator_future::OperatorFuture;
pub use crate::operator_iter::OperatorIter;
#[cfg(feature = "stream")]
pub use crate::operator_stream::{typed_stream, OperatorStream};
#[cfg(not(feature = "stream"))]
pub use crate::operator_stream_off::{typed_stream, OperatorStream};
pub use crate::pipeline_state::pipelines_enabled;
pub use crate::probe::{count_input, count_output, NoRows, NotResult, Probe, ViaResult, ViaRows};
pub use crate::step::StepGuard;
pub use crate::task::Task;
pub use opentelemetry::KeyValue;

/// Gives an async block the output type `R`, so its tail infers as the async fn's would.
#[inline(always)]
pub fn typed_future<R, F: core::future::Future<Output = R>>(future: F) -> F {
    future
}

/// A run span attribute from a `#[pipeline(attribute)]` field.
#[inline]
pub fn attribute<T: crate::attribute::AttributeValue + ?Sized>(
    key: &'static str,
    value: &T,
) -> KeyValue {
    KeyValue::new(key, value.attribute_value())
}

/// Gives a streaming operator's body the item type its signature declares, so that
/// inference inside it works as in the plain function.
#[inline(always)]
pub fn typed_iterator<T, I: Iterator<Item = T>>(iterator: I) -> I {
    iterator
}
