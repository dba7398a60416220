//! [`tokio::sync::mpsc`], counted (feature `tokio`): [`channel`] and
//! [`unbounded_channel`], with the methods of Tokio's senders and receivers that move
//! items. The receiver is where an async operator awaits its input: the operator polling
//! `recv` receives the batch.

use std::future::Future as _;

use tokio::sync::mpsc;

use crate::channel::flow::{by_rows, CountItem, Flow};
use crate::operator::wait::{output_full, waiting, Wait};
use crate::rows::Rows;

/// [`tokio::sync::mpsc::channel`], counted: at most `buffer` items in the channel.
///
/// ```
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     let (tx, mut rx) = pipetel::channel::tokio::channel::<Vec<u8>>(2);
///     tx.send(vec![1, 2, 3]).await.unwrap();
///     assert_eq!(rx.recv().await.unwrap().len(), 3);
/// });
/// let channel = pipetel::snapshot().channels.pop().unwrap();
/// assert_eq!((channel.rows_sent, channel.rows_received), (3, 3));
/// # drop(telemetry);
/// ```
pub fn channel<T: Rows>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    channel_with(buffer, by_rows::<T>)
}

/// [`channel`] with each item counted by `count`.
pub fn channel_with<T>(buffer: usize, count: CountItem<T>) -> (Sender<T>, Receiver<T>) {
    let (sender, receiver) = mpsc::channel(buffer);
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

/// [`tokio::sync::mpsc::unbounded_channel`], counted.
pub fn unbounded_channel<T: Rows>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    unbounded_channel_with(by_rows::<T>)
}

/// [`unbounded_channel`] with each item counted by `count`.
pub fn unbounded_channel_with<T>(
    count: CountItem<T>,
) -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let flow = Flow::new(count);
    (
        UnboundedSender {
            inner: sender,
            flow,
        },
        UnboundedReceiver {
            inner: receiver,
            flow,
        },
    )
}

/// [`tokio::sync::mpsc::Sender`], counted.
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
    /// [`tokio::sync::mpsc::Sender::send`]: counted as sent when it was. While the
    /// channel is full, the sending operator's task is blocked (not starved).
    pub async fn send(&self, item: T) -> Result<(), mpsc::error::SendError<T>> {
        // Counted once the channel has room (the permit), on the thread that sends.
        let mut reserve = std::pin::pin!(self.inner.reserve());
        let permit = std::future::poll_fn(|cx| {
            let polled = reserve.as_mut().poll(cx);
            if polled.is_pending() {
                output_full();
            }
            polled
        })
        .await;
        match permit {
            Ok(permit) => {
                let _ = self.flow.sent(&item);
                permit.send(item);
                Ok(())
            }
            Err(_) => Err(mpsc::error::SendError(item)),
        }
    }

    /// [`tokio::sync::mpsc::Sender::try_send`].
    pub fn try_send(&self, item: T) -> Result<(), mpsc::error::TrySendError<T>> {
        self.flow.send(item, |item| self.inner.try_send(item))
    }

    /// [`tokio::sync::mpsc::Sender::blocking_send`]: a wait for room is the sending
    /// operator's blocked time.
    pub fn blocking_send(&self, item: T) -> Result<(), mpsc::error::SendError<T>> {
        self.flow
            .send(item, |item| match self.inner.try_send(item) {
                Ok(()) => Ok(()),
                Err(mpsc::error::TrySendError::Full(item)) => {
                    waiting(Wait::Blocked, || self.inner.blocking_send(item))
                }
                Err(mpsc::error::TrySendError::Closed(item)) => Err(mpsc::error::SendError(item)),
            })
    }
}

/// [`tokio::sync::mpsc::UnboundedSender`], counted.
#[derive(Debug)]
pub struct UnboundedSender<T> {
    inner: mpsc::UnboundedSender<T>,
    flow: Flow<T>,
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        UnboundedSender {
            inner: self.inner.clone(),
            flow: self.flow,
        }
    }
}

impl<T> UnboundedSender<T> {
    /// [`tokio::sync::mpsc::UnboundedSender::send`].
    pub fn send(&self, item: T) -> Result<(), mpsc::error::SendError<T>> {
        self.flow.send(item, |item| self.inner.send(item))
    }
}

/// [`tokio::sync::mpsc::Receiver`], counted. Dropped while the channel holds items, it
/// closes the channel and counts them as lost.
#[derive(Debug)]
pub struct Receiver<T> {
    inner: mpsc::Receiver<T>,
    flow: Flow<T>,
}

impl<T> Receiver<T> {
    /// [`tokio::sync::mpsc::Receiver::recv`].
    pub async fn recv(&mut self) -> Option<T> {
        self.flow.receive_some(self.inner.recv().await)
    }

    /// [`tokio::sync::mpsc::Receiver::try_recv`].
    pub fn try_recv(&mut self) -> Result<T, mpsc::error::TryRecvError> {
        self.flow.receive(self.inner.try_recv())
    }

    /// [`tokio::sync::mpsc::Receiver::blocking_recv`]: a wait for an item is the
    /// receiving operator's starved time.
    pub fn blocking_recv(&mut self) -> Option<T> {
        let received = match self.inner.try_recv() {
            Ok(item) => Some(item),
            Err(mpsc::error::TryRecvError::Empty) => {
                waiting(Wait::Starved, || self.inner.blocking_recv())
            }
            Err(mpsc::error::TryRecvError::Disconnected) => None,
        };
        self.flow.receive_some(received)
    }

    /// [`tokio::sync::mpsc::Receiver::close`].
    pub fn close(&mut self) {
        self.inner.close();
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.inner.close();
        while let Ok(item) = self.inner.try_recv() {
            self.flow.lost(&item);
        }
    }
}

/// [`tokio::sync::mpsc::UnboundedReceiver`], counted. Dropped while the channel holds
/// items, it closes the channel and counts them as lost.
#[derive(Debug)]
pub struct UnboundedReceiver<T> {
    inner: mpsc::UnboundedReceiver<T>,
    flow: Flow<T>,
}

impl<T> UnboundedReceiver<T> {
    /// [`tokio::sync::mpsc::UnboundedReceiver::recv`].
    pub async fn recv(&mut self) -> Option<T> {
        self.flow.receive_some(self.inner.recv().await)
    }

    /// [`tokio::sync::mpsc::UnboundedReceiver::try_recv`].
    pub fn try_recv(&mut self) -> Result<T, mpsc::error::TryRecvError> {
        self.flow.receive(self.inner.try_recv())
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.inner.close();
        while let Ok(item) = self.inner.try_recv() {
            self.flow.lost(&item);
        }
    }
}
