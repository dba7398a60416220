//! Custom instruments from pipetel's providers: [`meter`] and [`tracer`] hand out the
//! OpenTelemetry meters and tracers `init` configured, so a user's own counters,
//! histograms and spans share pipetel's export, resource and trace context.

use std::borrow::Cow;

use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::Meter;

/// A meter of the instrumentation scope `scope`, exporting with pipetel's metrics
/// (a no-op meter while metrics are off).
///
/// ```
/// let _telemetry = pipetel::init();
/// let spilled = pipetel::otel::meter("my_engine").u64_counter("spill.bytes").with_unit("By").build();
/// spilled.add(4096, &[opentelemetry::KeyValue::new("disk", "nvme0")]);
/// ```
pub fn meter(scope: &'static str) -> Meter {
    opentelemetry::global::meter(scope)
}

/// A tracer of the instrumentation scope `scope`, exporting with pipetel's traces (a
/// no-op tracer while traces are off). Its spans nest under the current run and step.
///
/// ```
/// use opentelemetry::trace::Tracer as _;
///
/// let _telemetry = pipetel::init();
/// pipetel::otel::tracer("my_engine").in_span("compact", |_context| {
///     // … work …
/// });
/// ```
pub fn tracer(scope: impl Into<Cow<'static, str>>) -> BoxedTracer {
    opentelemetry::global::tracer(scope)
}
