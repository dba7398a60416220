//! What every pipetel channel counts, whatever channel it wraps: each batch sent (on the
//! link from the sending operator into the channel), received (on the link from the
//! channel to the receiving operator) and lost (still in the channel when its receiver
//! was dropped), in the calling thread's own cells.
//!
//! The sending operator is the one running when `send` is called or, outside any, the
//! one that last handed out rows on the thread (`tx.send(scan(lines))`). The receiving
//! operator is the one running when `recv` returns or, outside any, the next one to start
//! on the thread (`for batch in rx { sink(batch) }`).

use crate::counters::links::{self, Endpoint, NO_LINK};
use crate::counters::registry::NO_SERIES;
use crate::counters::thread_state::{this_thread, PendingReceive};
use crate::operator::clock::ticks;
use crate::operator::dynamic::Counted;
use crate::operator::recording::enabled;
use crate::rows::Rows;
use crate::timeline;

/// How a channel counts an item.
pub(crate) type CountItem<T> = fn(&T) -> Counted;

/// An item's rows, by its [`Rows`].
pub(crate) fn by_rows<T: Rows>(item: &T) -> Counted {
    Counted::rows(item.rows())
}

/// One channel's identity and counting: shared by its senders and receivers (`Copy`).
pub(crate) struct Flow<T> {
    channel: u32,
    count: CountItem<T>,
}

impl<T> Clone for Flow<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Flow<T> {}

impl<T> std::fmt::Debug for Flow<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "channel {}", self.channel)
    }
}

/// A batch counted as sent, to take back if the send fails.
#[derive(Debug)]
pub(crate) struct Sent {
    link: u32,
    rows: u64,
    bytes: u64,
}

impl<T> Flow<T> {
    /// A new channel's flow.
    pub(crate) fn new(count: CountItem<T>) -> Flow<T> {
        Flow {
            channel: links::new_channel(),
            count,
        }
    }

    /// Counts `item` as sent; hand the result to [`unsend`](Self::unsend) if the send
    /// fails.
    #[inline]
    pub(crate) fn sent(&self, item: &T) -> Option<Sent> {
        if !enabled() {
            return None;
        }
        let thread = this_thread();
        let from = match thread.current().series {
            NO_SERIES => match thread.last_output() {
                NO_SERIES => Endpoint::Outside,
                series => Endpoint::Operator(series),
            },
            series => Endpoint::Operator(series),
        };
        let link = links::channel_link(from, Endpoint::Channel(self.channel));
        if link == NO_LINK {
            return None;
        }
        let Counted { rows, bytes, .. } = (self.count)(item);
        thread.shard().link_cells(link).add_batch(rows, bytes);
        if timeline::recording() {
            if let Endpoint::Operator(series) = from {
                let inside = thread.current().series != NO_SERIES;
                timeline::handover(self.channel, true, series, inside, ticks());
            }
        }
        Some(Sent { link, rows, bytes })
    }

    /// Takes back a batch counted as sent whose send failed (on the thread that counted it).
    #[cold]
    pub(crate) fn unsend(&self, sent: Option<Sent>) {
        if let Some(Sent { link, rows, bytes }) = sent {
            this_thread()
                .shard()
                .link_cells(link)
                .remove_batch(rows, bytes);
        }
    }

    /// Counts `item` as sent and sends it with `send`; takes the count back if the send
    /// fails (the item comes back in the error).
    #[inline]
    pub(crate) fn send<E>(&self, item: T, send: impl FnOnce(T) -> Result<(), E>) -> Result<(), E> {
        let sent = self.sent(&item);
        send(item).inspect_err(|_| self.unsend(sent))
    }

    /// Counts what a receive returned, if it is an item.
    #[inline]
    pub(crate) fn receive<E>(&self, received: Result<T, E>) -> Result<T, E> {
        received.inspect(|item| self.received(item))
    }

    /// Counts what an async receive returned, if it is an item.
    #[cfg(feature = "tokio")]
    #[inline]
    pub(crate) fn receive_some(&self, received: Option<T>) -> Option<T> {
        received.inspect(|item| self.received(item))
    }

    /// Counts `item` as received.
    #[inline]
    pub(crate) fn received(&self, item: &T) {
        if !enabled() {
            return;
        }
        let thread = this_thread();
        let channel = Endpoint::Channel(self.channel);
        let Counted { rows, bytes, .. } = (self.count)(item);
        if timeline::recording() {
            let series = thread.current().series;
            timeline::handover(self.channel, false, series, series != NO_SERIES, ticks());
        }
        match thread.current().series {
            NO_SERIES => {
                let link = links::channel_link(channel, Endpoint::Outside);
                if link != NO_LINK {
                    thread.shard().link_cells(link).add_batch(rows, bytes);
                    thread.leave_received(PendingReceive {
                        channel: self.channel,
                        link,
                        rows,
                        bytes,
                    });
                }
            }
            series => {
                let link = links::channel_link(channel, Endpoint::Operator(series));
                if link != NO_LINK {
                    thread.shard().link_cells(link).add_batch(rows, bytes);
                }
            }
        }
    }

    /// Counts `item` as lost: the channel held it when its receiver was dropped.
    pub(crate) fn lost(&self, item: &T) {
        if !enabled() {
            return;
        }
        let link = links::channel_link(Endpoint::Channel(self.channel), Endpoint::Dropped);
        if link != NO_LINK {
            let Counted { rows, bytes, .. } = (self.count)(item);
            this_thread()
                .shard()
                .link_cells(link)
                .add_batch(rows, bytes);
        }
    }
}
