//! [`AttributeValue`]: the field types `#[pipeline(attribute)]` can put on a run span.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use opentelemetry::Value;

/// A value usable as a span attribute: strings, integers, floats and booleans, and
/// references and `Option`s of them (`None` becomes an empty string).
///
/// ```
/// use pipetel::otel::AttributeValue;
/// assert_eq!(42u16.attribute_value(), opentelemetry::Value::I64(42));
/// assert_eq!("s3".attribute_value(), opentelemetry::Value::from("s3"));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a span attribute",
    label = "this field's type is not a string, integer, float or bool",
    note = "implement `pipetel::otel::AttributeValue` for `{Self}`, or drop `#[pipeline(attribute)]` from the field"
)]
pub trait AttributeValue {
    /// The value as an OpenTelemetry attribute value.
    fn attribute_value(&self) -> Value;
}

macro_rules! text {
    ($($ty:ty),*) => {$(
        impl AttributeValue for $ty {
            fn attribute_value(&self) -> Value {
                Value::from(self.to_string())
            }
        }
    )*};
}
text!(str, String, Cow<'_, str>, Box<str>, Rc<str>, Arc<str>, char);

impl AttributeValue for std::path::Path {
    fn attribute_value(&self) -> Value {
        Value::from(self.display().to_string())
    }
}

impl AttributeValue for std::path::PathBuf {
    fn attribute_value(&self) -> Value {
        self.as_path().attribute_value()
    }
}

macro_rules! int {
    ($($ty:ty),*) => {$(
        impl AttributeValue for $ty {
            fn attribute_value(&self) -> Value {
                Value::I64(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl AttributeValue for f32 {
    fn attribute_value(&self) -> Value {
        Value::F64(f64::from(*self))
    }
}

impl AttributeValue for f64 {
    fn attribute_value(&self) -> Value {
        Value::F64(*self)
    }
}

impl AttributeValue for bool {
    fn attribute_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl<T: AttributeValue + ?Sized> AttributeValue for &T {
    fn attribute_value(&self) -> Value {
        (**self).attribute_value()
    }
}

impl<T: AttributeValue> AttributeValue for Option<T> {
    fn attribute_value(&self) -> Value {
        self.as_ref()
            .map_or_else(|| Value::from(""), T::attribute_value)
    }
}
