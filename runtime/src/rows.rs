//! [`Rows`] and [`Bytes`]: how many rows, and how many bytes, a value holds.
//!
//! `#[operator]` counts `rows.in` from the arguments and `rows.out` from the return value
//! with [`Rows`]. A type without an implementation compiles and counts nothing; implement
//! [`Rows`] for your batch type (one line) to have it counted. [`Bytes`] is the same
//! idea for data sizes, used with the `bytes_read` / `bytes_written` attribute keys and
//! with [`OperatorHandle`](crate::engine::OperatorHandle).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

/// The number of rows a value holds.
///
/// Implemented for `Vec<T>`, `VecDeque<T>`, slices and arrays (one row per element),
/// and passed through `Option` (`None` is 0), `Result` (the `Ok` side; `Err` is 0),
/// references, `Box`, `Rc` and `Arc`.
///
/// ```
/// use pipetel::Rows;
///
/// struct Batch {
///     ids: Vec<u64>,
/// }
///
/// impl Rows for Batch {
///     fn rows(&self) -> u64 {
///         self.ids.len() as u64
///     }
/// }
///
/// let batch = Batch { ids: vec![1, 2, 3] };
/// assert_eq!(batch.rows(), 3);
/// assert_eq!(Some(&batch).rows(), 3);
/// assert_eq!(Ok::<_, ()>(vec![batch]).rows(), 1);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not say how many rows it holds",
    label = "`Rows` is not implemented for `{Self}`",
    note = "implement `pipetel::Rows` for `{Self}`, or count with `rows_in = …` / `rows_out = …`"
)]
pub trait Rows {
    /// The row count.
    fn rows(&self) -> u64;
}

/// The number of bytes a value holds.
///
/// Implemented for byte and text containers (`[u8]`, `Vec<u8>`, `str`, `String`,
/// `[u8; N]`), and passed through `Option`, `Result` (the `Ok` side), references,
/// `Box`, `Rc` and `Arc`.
///
/// ```
/// use pipetel::Bytes;
///
/// assert_eq!("héllo".bytes_len(), 6);
/// assert_eq!(Some(vec![0u8; 4]).bytes_len(), 4);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not say how many bytes it holds",
    label = "`Bytes` is not implemented for `{Self}`",
    note = "implement `pipetel::Bytes` for `{Self}`, or pass a number"
)]
pub trait Bytes {
    /// The size in bytes.
    fn bytes_len(&self) -> u64;
}

macro_rules! per_element {
    ($trait:ident :: $method:ident for $($ty:ty),*) => {$(
        impl<T> $trait for $ty {
            #[inline]
            fn $method(&self) -> u64 {
                self.len() as u64
            }
        }
    )*};
}
per_element!(Rows::rows for Vec<T>, VecDeque<T>, [T]);

impl<T, const N: usize> Rows for [T; N] {
    #[inline]
    fn rows(&self) -> u64 {
        N as u64
    }
}

macro_rules! byte_len {
    ($($ty:ty),*) => {$(
        impl Bytes for $ty {
            #[inline]
            fn bytes_len(&self) -> u64 {
                self.len() as u64
            }
        }
    )*};
}
byte_len!([u8], Vec<u8>, str, String, Cow<'_, str>, Cow<'_, [u8]>);

impl<const N: usize> Bytes for [u8; N] {
    #[inline]
    fn bytes_len(&self) -> u64 {
        N as u64
    }
}

macro_rules! pass_through {
    ($trait:ident :: $method:ident) => {
        impl<T: $trait + ?Sized> $trait for &T {
            #[inline]
            fn $method(&self) -> u64 {
                (**self).$method()
            }
        }
        impl<T: $trait + ?Sized> $trait for &mut T {
            #[inline]
            fn $method(&self) -> u64 {
                (**self).$method()
            }
        }
        impl<T: $trait + ?Sized> $trait for Box<T> {
            #[inline]
            fn $method(&self) -> u64 {
                (**self).$method()
            }
        }
        impl<T: $trait + ?Sized> $trait for Rc<T> {
            #[inline]
            fn $method(&self) -> u64 {
                (**self).$method()
            }
        }
        impl<T: $trait + ?Sized> $trait for Arc<T> {
            #[inline]
            fn $method(&self) -> u64 {
                (**self).$method()
            }
        }
        impl<T: $trait> $trait for Option<T> {
            #[inline]
            fn $method(&self) -> u64 {
                self.as_ref().map_or(0, $trait::$method)
            }
        }
        impl<T: $trait, E> $trait for Result<T, E> {
            #[inline]
            fn $method(&self) -> u64 {
                self.as_ref().map_or(0, $trait::$method)
            }
        }
    };
}
pass_through!(Rows::rows);
pass_through!(Bytes::bytes_len);
