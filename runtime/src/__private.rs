//! The items the macros expand to. Not a public API: names and signatures change
//! without notice. Kept small and `#[inline]` so that every call site stays tiny.

pub use crate::operator::call::{partition_of, TaskGuard};
pub use crate::operator::call_site::CallSite;
pub use crate::operator::future::OperatorFuture;
pub use crate::operator::iter::OperatorIter;
pub use crate::operator::probe::{
    count_input, count_output, NoRows, NotResult, Probe, ViaResult, ViaRows,
};
pub use crate::operator::recording::enabled;
#[cfg(feature = "stream")]
pub use crate::operator::stream::{typed_stream, OperatorStream};
#[cfg(not(feature = "stream"))]
pub use crate::operator::stream_off::{typed_stream, OperatorStream};
pub use crate::operator::task::Task;
pub use crate::pipeline::error_report::{
    ErrorOfDebug, ErrorOfDisplay, ErrorOfError, ErrorOfResult, NoError,
};
pub use crate::pipeline::recorder::pipelines_enabled;
pub use crate::pipeline::step::StepGuard;
pub use crate::pipeline::totals::StepSite;
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
