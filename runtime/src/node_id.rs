//! [`NodeId`]: the values an `#[operator(node_id = …)]` expression may have.
//!
//! A `node_id` is evaluated per call (only while telemetry is on) and looked up in a
//! per-thread hash table, so it must be cheap to hash and compare: an integer or a string
//! slice. Plan node ids are usually one of those; a newtype implements
//! [`NodeId`] by handing out its inner value.

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

/// The comparable form of a node id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKey<'a> {
    /// An integer id; exported as its decimal form.
    Int(i128),
    /// A textual id; exported as is.
    Str(&'a str),
}

impl fmt::Display for NodeKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeKey::Int(id) => id.fmt(f),
            NodeKey::Str(id) => f.write_str(id),
        }
    }
}

/// A value usable as `node_id` in `#[operator(node_id = …)]`.
///
/// Implemented for the integer types and for string types; implement it for an id
/// newtype of your own:
///
/// ```
/// use pipetel::engine::{NodeId, NodeKey};
///
/// struct PlanNodeId(u32);
///
/// impl NodeId for PlanNodeId {
///     fn node_key(&self) -> NodeKey<'_> {
///         NodeKey::Int(self.0.into())
///     }
/// }
/// assert_eq!(PlanNodeId(7).node_key().to_string(), "7");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `node_id`",
    label = "expected an integer or a string here",
    note = "`node_id` takes an integer or a string (`u32`, `&str`, `String`, …), or a type implementing `pipetel::engine::NodeId`"
)]
pub trait NodeId {
    /// The id, as an integer or a string slice.
    fn node_key(&self) -> NodeKey<'_>;
}

macro_rules! int_node_ids {
    ($($int:ty),*) => {$(
        impl NodeId for $int {
            #[inline]
            fn node_key(&self) -> NodeKey<'_> {
                NodeKey::Int(*self as i128)
            }
        }
    )*};
}
int_node_ids!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, i128);

impl NodeId for str {
    #[inline]
    fn node_key(&self) -> NodeKey<'_> {
        NodeKey::Str(self)
    }
}

macro_rules! str_node_ids {
    ($($string:ty),*) => {$(
        impl NodeId for $string {
            #[inline]
            fn node_key(&self) -> NodeKey<'_> {
                NodeKey::Str(self)
            }
        }
    )*};
}
str_node_ids!(String, Box<str>, Rc<str>, Arc<str>, Cow<'_, str>);

impl<T: NodeId + ?Sized> NodeId for &T {
    #[inline]
    fn node_key(&self) -> NodeKey<'_> {
        (**self).node_key()
    }
}
