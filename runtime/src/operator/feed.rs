//! [`Operator::feeds`] and [`Feed`]: a link of the operator graph stated by an engine that
//! knows its plan's shape, and the batches counted across it.
//!
//! pipetel finds links by itself when an operator runs nested in another (a parent
//! pulling from its child) or when batches cross a pipetel channel. An engine whose
//! operators hand batches over in other ways — a child polled on a task of its own, a
//! queue of the engine's — states the link once and counts each batch it hands over.

use crate::counters::cells::Tally;
use crate::counters::links::{self, Endpoint, Via, NO_LINK};
use crate::counters::registry::NO_SERIES;
use crate::counters::thread_state::this_thread;
use crate::operator::dynamic::Operator;
use crate::operator::recording::enabled;

/// The link from one [`Operator`] to the operator it feeds, made by
/// [`Operator::feeds`]: a small `Copy` value, `Send` and `Sync`.
///
/// ```
/// use pipetel::Operator;
///
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
/// let scan = Operator::new("scan", "feed-doc");
/// let join = Operator::new("join", "feed-doc");
/// let into_join = scan.feeds(&join);
///
/// // The engine hands the join a batch of 100 rows (900 bytes) from the scan.
/// into_join.hand_over(100, 900);
///
/// let snapshot = pipetel::snapshot();
/// let edge = snapshot
///     .edges
///     .iter()
///     .find(|edge| edge.from.node_id == "feed-doc" && edge.to.node_type == "join")
///     .unwrap();
/// assert_eq!((edge.rows, edge.bytes, edge.batches), (100, 900, 1));
/// # drop(telemetry);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Feed {
    link: u32,
    consumer: u32,
}

impl Operator {
    /// States that this operator's output is `consumer`'s input: an edge of the operator
    /// graph, whatever threads or tasks the two run on. Count each batch handed over with
    /// [`Feed::hand_over`]. Takes a lock: state each link once, when the plan is built,
    /// and before its operators run (a link found first by nesting and stated later is
    /// counted by both until each thread's cache learns it is stated).
    ///
    /// Nested calls of the two operators then count nothing on the link (the feed does),
    /// so an engine may both state its links and run its operators nested. An operator
    /// whose output is stated adds no link by nesting at all: nested in an operator it
    /// does not feed (work an engine spawned from inside that operator's call), it hands
    /// that operator nothing.
    pub fn feeds(&self, consumer: &Operator) -> Feed {
        let (Some(from), Some(to)) = (self.series(), consumer.series()) else {
            return Feed {
                link: NO_LINK,
                consumer: NO_SERIES,
            };
        };
        let link = links::resolve(Endpoint::Operator(from), Endpoint::Operator(to), Via::Plan);
        Feed { link, consumer: to }
    }

    /// States that this operator's output is the input of `consumer` running in another
    /// process (a stage of a distributed plan handing its rows to the network boundary
    /// that reads it): [`Feed::hand_over`] counts the batches across the edge only, and
    /// the consumer counts its own rows in where it runs
    /// ([`add_rows_in`](Operator::add_rows_in)). Merged
    /// ([`Snapshot::merge`](crate::snapshot::Snapshot::merge)), the edge then carries
    /// what this process handed over and the consumer says what it took: the
    /// conservation check compares the two across the processes.
    ///
    /// ```
    /// use pipetel::Operator;
    ///
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let stage = Operator::new("RepartitionExec", "elsewhere-doc");
    /// let boundary = Operator::new("NetworkShuffleExec", "elsewhere-doc");
    /// stage.feeds_elsewhere(&boundary).hand_over(100, 900);
    ///
    /// let snapshot = pipetel::snapshot();
    /// let edge = snapshot
    ///     .edges
    ///     .iter()
    ///     .find(|edge| edge.from.node_id == "elsewhere-doc")
    ///     .unwrap();
    /// assert_eq!(edge.rows, 100);
    /// // The boundary's rows in are counted by the process it runs in.
    /// let boundary = snapshot.operator("NetworkShuffleExec", "elsewhere-doc");
    /// assert_eq!(boundary.map_or(0, |op| op.rows.received), 0);
    /// # drop(telemetry);
    /// ```
    pub fn feeds_elsewhere(&self, consumer: &Operator) -> Feed {
        Feed {
            consumer: NO_SERIES,
            ..self.feeds(consumer)
        }
    }
}

impl Feed {
    /// Counts a batch of `rows` rows and `bytes` bytes handed over: one batch across the
    /// link, and `rows` in for the consumer. On the calling thread's own cells, inside an
    /// operator call or not.
    #[inline]
    pub fn hand_over(&self, rows: u64, bytes: u64) {
        if self.link == NO_LINK || !enabled() {
            return;
        }
        let thread = this_thread();
        thread.shard().link_cells(self.link).add_batch(rows, bytes);
        if self.consumer != NO_SERIES {
            thread.cells(self.consumer).add(Tally::RowsIn, rows);
        }
    }
}
