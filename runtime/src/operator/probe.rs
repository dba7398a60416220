//! Autoref specialisation for the code `#[operator]` generates: count what has a
//! [`Rows`] impl, and count nothing — without a compile error — for what has none;
//! tell an `Err` return from any other.
//!
//! The macro writes `(&&Probe(&value)).__pipetel_rows()`. Method lookup tries the
//! receiver `&&Probe<T>` by value first, which only [`ViaRows`] (for `T: Rows`)
//! accepts; otherwise it takes one more reference and finds [`NoRows`]. This works
//! on concrete types at the call site; a generic `T` counts through `Rows` only when
//! the function declares `T: Rows`.

use crate::count::Count;
use crate::rows::Rows;

/// Wraps a borrowed value for method lookup.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// The preferred lookup: the value has [`Rows`].
pub trait ViaRows {
    /// Rows of the value.
    fn __pipetel_rows(&self) -> u64;
}

impl<T: Rows + ?Sized> ViaRows for &Probe<'_, T> {
    #[inline]
    fn __pipetel_rows(&self) -> u64 {
        self.0.rows()
    }
}

/// The fallback: the value has no [`Rows`]; it counts nothing.
pub trait NoRows {
    /// Always 0.
    fn __pipetel_rows(&self) -> u64;
}

impl<T: ?Sized> NoRows for &&Probe<'_, T> {
    #[inline]
    fn __pipetel_rows(&self) -> u64 {
        0
    }
}

/// The preferred lookup: the value is a `Result`; `Err` is a failed call.
pub trait ViaResult {
    /// Whether the value is an `Err`.
    fn __pipetel_failed(&self) -> bool;
}

impl<T, E> ViaResult for &Probe<'_, Result<T, E>> {
    #[inline]
    fn __pipetel_failed(&self) -> bool {
        self.0.is_err()
    }
}

impl<T, E> ViaResult for &Probe<'_, Option<Result<T, E>>> {
    #[inline]
    fn __pipetel_failed(&self) -> bool {
        matches!(self.0, Some(Err(_)))
    }
}

/// The fallback: any other value is a completed call.
pub trait NotResult {
    /// Always false.
    fn __pipetel_failed(&self) -> bool;
}

impl<T: ?Sized> NotResult for &&Probe<'_, T> {
    #[inline]
    fn __pipetel_failed(&self) -> bool {
        false
    }
}

/// Applies a `rows_out = …` / `bytes_written = …` closure to the return value.
#[inline]
pub fn count_output<R: ?Sized, N: Count>(output: &R, count: impl FnOnce(&R) -> N) -> u64 {
    count(output).count()
}

/// Converts a `rows_in = …` / `bytes_read = …` value.
#[inline]
pub fn count_input(count: impl Count) -> u64 {
    count.count()
}
