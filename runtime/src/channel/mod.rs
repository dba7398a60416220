//! Channels that are edges of the operator graph: `std::sync::mpsc` here,
//! `channel::crossbeam` (feature `crossbeam-channel`) and `channel::tokio` (feature
//! `tokio`), each with the API of the channel it wraps.
//!
//! Each batch is counted as it is sent and received (its [`Rows`](crate::Rows), or what
//! a `*_with` constructor's function says), in the calling thread's own cells. The
//! snapshot shows an edge from each sending operator to each receiving one, with rows,
//! bytes and batches, and the channel's totals ([`ChannelSnapshot`](crate::snapshot::ChannelSnapshot)):
//! sent, received, in flight, and lost — items still in the channel when its receiver was
//! dropped, which the conservation check flags.
//!
//! - The **sending operator** is the operator running when `send` is called or, outside
//!   any, the one that last handed out rows on the thread: `tx.send(scan(lines))` is
//!   sent by `scan`.
//! - The **receiving operator** is the operator running when `recv` returns or, outside
//!   any, the next operator to start on the thread: in `for batch in rx { sink(batch) }`
//!   the batches go to `sink`.
//!
//! Sending and receiving cost a thread-local table lookup and three relaxed adds each;
//! with telemetry off, one relaxed load.

mod flow;
mod std_mpsc;

#[cfg(feature = "crossbeam-channel")]
#[cfg_attr(docsrs, doc(cfg(feature = "crossbeam-channel")))]
pub mod crossbeam;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

pub use std_mpsc::{
    channel, channel_with, sync_channel, sync_channel_with, IntoIter, Receiver, Sender, SyncSender,
};
