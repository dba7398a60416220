//! [`crossbeam_channel`], counted (feature `crossbeam-channel`): [`bounded`] and
//! [`unbounded`], with the methods of crossbeam's sender and receiver that move items.
//! A [`Receiver`] is `Clone`, as crossbeam's; when the last one is dropped, items still
//! in the channel are counted as lost.

use std::sync::Arc;
use std::time::Duration;

use crate::channel::flow::{by_rows, CountItem, Flow};
use crate::operator::wait::{waiting, Wait};
use crate::rows::Rows;

/// [`crossbeam_channel::bounded`], counted.
///
/// ```
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
/// let (tx, rx) = pipetel::channel::crossbeam::bounded::<Vec<u8>>(2);
/// tx.send(vec![1, 2, 3]).unwrap();
/// assert_eq!(rx.recv().unwrap().len(), 3);
/// let channel = pipetel::snapshot().channels.pop().unwrap();
/// assert_eq!((channel.rows_sent, channel.rows_received), (3, 3));
/// # drop(telemetry);
/// ```
pub fn bounded<T: Rows>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    bounded_with(capacity, by_rows::<T>)
}

/// [`bounded`] with each item counted by `count`.
pub fn bounded_with<T>(capacity: usize, count: CountItem<T>) -> (Sender<T>, Receiver<T>) {
    wrap(crossbeam_channel::bounded(capacity), count)
}

/// [`crossbeam_channel::unbounded`], counted.
pub fn unbounded<T: Rows>() -> (Sender<T>, Receiver<T>) {
    unbounded_with(by_rows::<T>)
}

/// [`unbounded`] with each item counted by `count`.
pub fn unbounded_with<T>(count: CountItem<T>) -> (Sender<T>, Receiver<T>) {
    wrap(crossbeam_channel::unbounded(), count)
}

fn wrap<T>(
    (sender, receiver): (crossbeam_channel::Sender<T>, crossbeam_channel::Receiver<T>),
    count: CountItem<T>,
) -> (Sender<T>, Receiver<T>) {
    let flow = Flow::new(count);
    (
        Sender {
            inner: sender,
            flow,
        },
        Receiver {
            inner: Arc::new(ReceiverInner {
                inner: receiver,
                flow,
            }),
        },
    )
}

/// [`crossbeam_channel::Sender`], counted.
#[derive(Debug)]
pub struct Sender<T> {
    inner: crossbeam_channel::Sender<T>,
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
    /// [`crossbeam_channel::Sender::send`]: a wait for room is the sending operator's
    /// blocked time.
    pub fn send(&self, item: T) -> Result<(), crossbeam_channel::SendError<T>> {
        self.flow
            .send(item, |item| match self.inner.try_send(item) {
                Ok(()) => Ok(()),
                Err(crossbeam_channel::TrySendError::Full(item)) => {
                    waiting(Wait::Blocked, || self.inner.send(item))
                }
                Err(crossbeam_channel::TrySendError::Disconnected(item)) => {
                    Err(crossbeam_channel::SendError(item))
                }
            })
    }

    /// [`crossbeam_channel::Sender::try_send`].
    pub fn try_send(&self, item: T) -> Result<(), crossbeam_channel::TrySendError<T>> {
        self.flow.send(item, |item| self.inner.try_send(item))
    }

    /// [`crossbeam_channel::Sender::send_timeout`]: a wait for room is the sending
    /// operator's blocked time.
    pub fn send_timeout(
        &self,
        item: T,
        timeout: Duration,
    ) -> Result<(), crossbeam_channel::SendTimeoutError<T>> {
        self.flow
            .send(item, |item| match self.inner.try_send(item) {
                Ok(()) => Ok(()),
                Err(crossbeam_channel::TrySendError::Full(item)) => {
                    waiting(Wait::Blocked, || self.inner.send_timeout(item, timeout))
                }
                Err(crossbeam_channel::TrySendError::Disconnected(item)) => {
                    Err(crossbeam_channel::SendTimeoutError::Disconnected(item))
                }
            })
    }

    /// Items in the channel now.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the channel is empty now.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

#[derive(Debug)]
struct ReceiverInner<T> {
    inner: crossbeam_channel::Receiver<T>,
    flow: Flow<T>,
}

impl<T> Drop for ReceiverInner<T> {
    fn drop(&mut self) {
        // The last receiver: what the channel still holds is lost between the operators.
        while let Ok(item) = self.inner.try_recv() {
            self.flow.lost(&item);
        }
    }
}

/// [`crossbeam_channel::Receiver`], counted.
#[derive(Debug)]
pub struct Receiver<T> {
    inner: Arc<ReceiverInner<T>>,
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> Receiver<T> {
    /// [`crossbeam_channel::Receiver::recv`]: a wait for an item is the receiving
    /// operator's starved time.
    pub fn recv(&self) -> Result<T, crossbeam_channel::RecvError> {
        let ReceiverInner { inner, flow } = &*self.inner;
        let received = match inner.try_recv() {
            Ok(item) => Ok(item),
            Err(crossbeam_channel::TryRecvError::Empty) => waiting(Wait::Starved, || inner.recv()),
            Err(crossbeam_channel::TryRecvError::Disconnected) => Err(crossbeam_channel::RecvError),
        };
        flow.receive(received)
    }

    /// [`crossbeam_channel::Receiver::try_recv`].
    pub fn try_recv(&self) -> Result<T, crossbeam_channel::TryRecvError> {
        let ReceiverInner { inner, flow } = &*self.inner;
        flow.receive(inner.try_recv())
    }

    /// [`crossbeam_channel::Receiver::recv_timeout`]: a wait for an item is the
    /// receiving operator's starved time.
    pub fn recv_timeout(
        &self,
        timeout: Duration,
    ) -> Result<T, crossbeam_channel::RecvTimeoutError> {
        let ReceiverInner { inner, flow } = &*self.inner;
        let received = match inner.try_recv() {
            Ok(item) => Ok(item),
            Err(crossbeam_channel::TryRecvError::Empty) => {
                waiting(Wait::Starved, || inner.recv_timeout(timeout))
            }
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                Err(crossbeam_channel::RecvTimeoutError::Disconnected)
            }
        };
        flow.receive(received)
    }

    /// The items as they come, until every sender is gone.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(|| self.recv().ok())
    }

    /// Items in the channel now.
    pub fn len(&self) -> usize {
        self.inner.inner.len()
    }

    /// Whether the channel is empty now.
    pub fn is_empty(&self) -> bool {
        self.inner.inner.is_empty()
    }
}
