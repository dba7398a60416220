//! `std::sync::mpsc`, counted: [`channel`], [`sync_channel`] and their senders and
//! receiver, with the methods of std's.

use std::sync::mpsc;
use std::time::Duration;

use crate::channel::flow::{by_rows, CountItem, Flow};
use crate::operator::dynamic::Counted;
use crate::operator::wait::{waiting, Wait};
use crate::rows::Rows;

/// [`std::sync::mpsc::channel`], counted: an unbounded channel whose batches are edges of
/// the operator graph (see [the module](crate::channel)).
///
/// ```
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
///
/// #[pipetel::operator(node_type = "scan", node_id = "mpsc-doc")]
/// fn scan(n: u64) -> Vec<u64> {
///     (0..n).collect()
/// }
/// #[pipetel::operator(node_type = "sink", node_id = "mpsc-doc")]
/// fn sink(batch: Vec<u64>) -> u64 {
///     batch.iter().sum()
/// }
///
/// let (tx, rx) = pipetel::channel::channel();
/// let producer = std::thread::spawn(move || {
///     for n in [3, 4] {
///         tx.send(scan(n)).unwrap(); // sent by "scan", the operator that made the batch
///     }
/// });
/// let total: u64 = rx.iter().map(sink).sum(); // received by "sink", the next to start
/// producer.join().unwrap();
/// assert_eq!(total, 3 + 6);
///
/// let snapshot = pipetel::snapshot();
/// let edge = snapshot.edges.iter().find(|e| e.from.node_id == "mpsc-doc").unwrap();
/// assert_eq!((edge.from.node_type.as_str(), edge.to.node_type.as_str()), ("scan", "sink"));
/// assert_eq!((edge.rows, edge.batches), (7, 2));
/// # drop(telemetry);
/// ```
pub fn channel<T: Rows>() -> (Sender<T>, Receiver<T>) {
    channel_with(by_rows::<T>)
}

/// [`channel`] with each item counted by `count` (bytes, or items without [`Rows`]).
pub fn channel_with<T>(count: CountItem<T>) -> (Sender<T>, Receiver<T>) {
    let (sender, receiver) = mpsc::channel();
    let flow = Flow::new(count);
    (
        Sender {
            inner: sender,
            flow,
        },
        Receiver {
            inner: receiver,
            flow,
        },
    )
}

/// [`std::sync::mpsc::sync_channel`], counted: a channel holding at most `bound` items.
pub fn sync_channel<T: Rows>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    sync_channel_with(bound, by_rows::<T>)
}

/// [`sync_channel`] with each item counted by `count`.
pub fn sync_channel_with<T>(
    bound: usize,
    count: fn(&T) -> Counted,
) -> (SyncSender<T>, Receiver<T>) {
    let (sender, receiver) = mpsc::sync_channel(bound);
    let flow = Flow::new(count);
    (
        SyncSender {
            inner: sender,
            flow,
        },
        Receiver {
            inner: receiver,
            flow,
        },
    )
}

/// The sending half of [`channel`]: [`std::sync::mpsc::Sender`], counted.
#[derive(Debug)]
pub struct Sender<T> {
    inner: mpsc::Sender<T>,
    flow: Flow<T>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
            flow: self.flow,
        }
    }
}

impl<T> Sender<T> {
    /// Sends `item` ([`std::sync::mpsc::Sender::send`]); counted as sent if it was.
    pub fn send(&self, item: T) -> Result<(), mpsc::SendError<T>> {
        self.flow.send(item, |item| self.inner.send(item))
    }
}

/// The sending half of [`sync_channel`]: [`std::sync::mpsc::SyncSender`], counted.
#[derive(Debug)]
pub struct SyncSender<T> {
    inner: mpsc::SyncSender<T>,
    flow: Flow<T>,
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> Self {
        SyncSender {
            inner: self.inner.clone(),
            flow: self.flow,
        }
    }
}

impl<T> SyncSender<T> {
    /// Sends `item`, waiting while the channel is full
    /// ([`std::sync::mpsc::SyncSender::send`]): the wait is the sending operator's
    /// blocked time.
    pub fn send(&self, item: T) -> Result<(), mpsc::SendError<T>> {
        self.flow
            .send(item, |item| match self.inner.try_send(item) {
                Ok(()) => Ok(()),
                Err(mpsc::TrySendError::Full(item)) => {
                    waiting(Wait::Blocked, || self.inner.send(item))
                }
                Err(mpsc::TrySendError::Disconnected(item)) => Err(mpsc::SendError(item)),
            })
    }

    /// Sends `item` if the channel has room ([`std::sync::mpsc::SyncSender::try_send`]).
    pub fn try_send(&self, item: T) -> Result<(), mpsc::TrySendError<T>> {
        self.flow.send(item, |item| self.inner.try_send(item))
    }
}

/// The receiving half of [`channel`] and [`sync_channel`]: [`std::sync::mpsc::Receiver`],
/// counted. Dropped while the channel still holds items, it counts them as lost.
#[derive(Debug)]
pub struct Receiver<T> {
    inner: mpsc::Receiver<T>,
    flow: Flow<T>,
}

impl<T> Receiver<T> {
    /// Waits for an item ([`std::sync::mpsc::Receiver::recv`]): the wait is the
    /// receiving operator's starved time.
    pub fn recv(&self) -> Result<T, mpsc::RecvError> {
        let received = match self.inner.try_recv() {
            Ok(item) => Ok(item),
            Err(mpsc::TryRecvError::Empty) => waiting(Wait::Starved, || self.inner.recv()),
            Err(mpsc::TryRecvError::Disconnected) => Err(mpsc::RecvError),
        };
        self.flow.receive(received)
    }

    /// Takes an item if one is there ([`std::sync::mpsc::Receiver::try_recv`]).
    pub fn try_recv(&self) -> Result<T, mpsc::TryRecvError> {
        self.flow.receive(self.inner.try_recv())
    }

    /// Waits at most `timeout` for an item ([`std::sync::mpsc::Receiver::recv_timeout`]):
    /// the wait is the receiving operator's starved time.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, mpsc::RecvTimeoutError> {
        let received = match self.inner.try_recv() {
            Ok(item) => Ok(item),
            Err(mpsc::TryRecvError::Empty) => {
                waiting(Wait::Starved, || self.inner.recv_timeout(timeout))
            }
            Err(mpsc::TryRecvError::Disconnected) => Err(mpsc::RecvTimeoutError::Disconnected),
        };
        self.flow.receive(received)
    }

    /// The items as they come, until every sender is gone.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(|| self.recv().ok())
    }

    /// The items there now.
    pub fn try_iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(|| self.try_recv().ok())
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // What the channel still holds is dropped with it: lost between the operators.
        while let Ok(item) = self.inner.try_recv() {
            self.flow.lost(&item);
        }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Box<dyn Iterator<Item = T> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { receiver: self }
    }
}

/// The items of a [`Receiver`], as they come, until every sender is gone.
#[derive(Debug)]
pub struct IntoIter<T> {
    receiver: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}
