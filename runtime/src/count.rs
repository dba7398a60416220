//! [`Count`]: the integer types an attribute count expression may produce.

/// An integer given to `rows_in`, `rows_out`, `bytes_read` or `bytes_written`.
///
/// Implemented for the unsigned and signed integer types; a negative value counts 0.
///
/// ```
/// use pipetel::engine::Count;
/// assert_eq!(vec![1, 2, 3].len().count(), 3);
/// assert_eq!((-4i32).count(), 0);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a count",
    label = "expected an integer here",
    note = "`rows_in`, `rows_out`, `bytes_read` and `bytes_written` take an integer (`usize`, `u64`, …)"
)]
pub trait Count {
    /// The value as a `u64`.
    fn count(self) -> u64;
}

macro_rules! unsigned {
    ($($int:ty),*) => {$(
        impl Count for $int {
            #[inline]
            fn count(self) -> u64 {
                self as u64
            }
        }
    )*};
}
unsigned!(u8, u16, u32, u64, usize);

macro_rules! signed {
    ($($int:ty),*) => {$(
        impl Count for $int {
            #[inline]
            fn count(self) -> u64 {
                self.max(0) as u64
            }
        }
    )*};
}
signed!(i8, i16, i32, i64, isize);
