//! The links of the operator graph: which operator (or channel) hands its output to which,
//! each with an id whose per-thread cells count the rows, bytes and batches that crossed
//! it.
//!
//! A link is recorded once per (from, to) pair, under a lock, off the hot path; after
//! that a thread finds it in the producer's cells ([`ConsumerSlot`]) and counts into its
//! own shard. The three ways a link is found:
//! - [`Via::Call`]: an operator's segment ran nested in another's (a parent iterator or
//!   stream pulling from its child, a function operator calling another);
//! - [`Via::Channel`]: an operator sent into, or received from, a pipetel channel (the
//!   channel is an [`Endpoint`] of its own; readers join sender and receiver through it);
//! - [`Via::Plan`]: an engine stated the link ([`Operator::feeds`](crate::Operator::feeds)).
//!
//! At most [`MAX_LINKS`] links; past it, new pairs are not recorded (one warning naming
//! the limit), and their operators still count everything else.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard};

use crate::warn::warn;

/// The most links (distinct producer → consumer pairs, counting each side of a channel
/// as one) a process records (32,768, as many as its tables hold series: each run that
/// counts apart links its own series). Past it, a new pair is not recorded, with one
/// warning naming this limit.
pub const MAX_LINKS: usize = 32_768;

/// No link: a segment that ran in no other operator.
pub(crate) const NO_LINK: u32 = u32::MAX;

/// One end of a link: an operator series, or a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Endpoint {
    /// The operator with this series id.
    Operator(u32),
    /// The pipetel channel with this id.
    Channel(u32),
    /// No operator: a channel's sender or receiver used outside any operator.
    Outside,
    /// Gone: batches a channel still held when its receivers were dropped.
    Dropped,
}

/// How a link was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Via {
    /// The producer ran nested in the consumer.
    Call,
    /// Batches crossed a pipetel channel.
    Channel,
    /// The engine stated it.
    Plan,
}

/// A recorded link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) from: Endpoint,
    pub(crate) to: Endpoint,
    pub(crate) via: Via,
}

#[derive(Default)]
struct Links {
    links: Vec<Link>,
    by_ends: HashMap<(Endpoint, Endpoint), u32>,
    /// The producers whose output the engine stated ([`Via::Plan`]).
    stated: std::collections::HashSet<Endpoint>,
    channels: u32,
    warned: bool,
}

static LINKS: LazyLock<Mutex<Links>> = LazyLock::new(Mutex::default);

fn links() -> MutexGuard<'static, Links> {
    LINKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The id of the link `from → to`, recording it (found `via`) on first sight;
/// [`NO_LINK`] past [`MAX_LINKS`]. A link stated by the engine ([`Via::Plan`]) keeps
/// that name when a nested call later finds it too: its rows are counted by whoever
/// stated it, never twice.
#[cold]
pub(crate) fn resolve(from: Endpoint, to: Endpoint, via: Via) -> u32 {
    let mut links = links();
    if via == Via::Plan {
        links.stated.insert(from);
    }
    if let Some(&id) = links.by_ends.get(&(from, to)) {
        if via == Via::Plan {
            links.links[id as usize].via = Via::Plan;
        }
        return id;
    }
    if links.links.len() >= MAX_LINKS {
        if !links.warned {
            links.warned = true;
            warn(format_args!(
                "the process recorded {MAX_LINKS} links between operators \
                 (pipetel::limits::MAX_LINKS); further ones are not recorded, and the graph misses them"
            ));
        }
        return NO_LINK;
    }
    let id = links.links.len() as u32;
    links.links.push(Link { from, to, via });
    links.by_ends.insert((from, to), id);
    id
}

/// A new channel's id.
pub(crate) fn new_channel() -> u32 {
    let mut links = links();
    links.channels += 1;
    links.channels
}

/// Every link recorded, by link id.
pub(crate) fn all() -> Vec<Link> {
    links().links.clone()
}

thread_local! {
    /// The links this thread found by nesting, by (producer, consumer) series.
    static SEEN: std::cell::RefCell<HashMap<(u32, u32), u32>> =
        std::cell::RefCell::new(HashMap::new());
}

/// The link a producer nested in `consumer` counts its output on: the recorded link, or
/// [`NO_LINK`] when the engine stated it (whoever stated it counts its rows), when the
/// engine stated where the producer's output goes (nested in an operator it does not
/// feed, it runs there on a task that operator's scope spawned, and hands it nothing),
/// or past [`MAX_LINKS`].
fn counted_link(producer: u32, consumer: u32) -> u32 {
    if links().stated.contains(&Endpoint::Operator(producer)) {
        return NO_LINK;
    }
    let id = resolve(
        Endpoint::Operator(producer),
        Endpoint::Operator(consumer),
        Via::Call,
    );
    match id {
        NO_LINK => NO_LINK,
        id if links().links[id as usize].via == Via::Plan => NO_LINK,
        id => id,
    }
}

/// Where a producer's cells on one thread remember the consumer it last ran nested in,
/// and the link between them: the hot path's one load and compare for a pair seen before.
///
/// Packed in one word (only the owning thread writes it): the consumer's series id in the
/// high half, the link id and whether the producer counts its rows on it (the link was
/// found by nesting, not stated) in the low half.
#[derive(Debug)]
pub(crate) struct ConsumerSlot(std::sync::atomic::AtomicU64);

/// The link a segment counts its output on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CountedLink(u32);

impl CountedLink {
    /// The link's id, if the segment counts on one.
    #[inline(always)]
    pub(crate) fn id(self) -> Option<u32> {
        (self.0 != NO_LINK).then_some(self.0)
    }
}

impl ConsumerSlot {
    /// No consumer yet.
    pub(crate) const fn new() -> ConsumerSlot {
        ConsumerSlot(std::sync::atomic::AtomicU64::new(u64::MAX))
    }

    /// The link from `producer` to `consumer` (a series running on this thread with
    /// `producer`'s segment nested in it) that the producer's output counts on. One load
    /// and a compare when the pair is the one seen last on this thread.
    #[inline(always)]
    pub(crate) fn link_to(&self, producer: u32, consumer: u32) -> CountedLink {
        match self.link_if_seen(consumer) {
            Some(link) => link,
            None => self.learn(producer, consumer),
        }
    }

    /// [`link_to`](Self::link_to) when the pair is the one seen last on this thread
    /// (one load and a compare); `None` otherwise.
    #[inline(always)]
    pub(crate) fn link_if_seen(&self, consumer: u32) -> Option<CountedLink> {
        let packed = self.0.load(std::sync::atomic::Ordering::Relaxed);
        ((packed >> 32) as u32 == consumer).then_some(CountedLink(packed as u32))
    }

    #[cold]
    #[inline(never)]
    fn learn(&self, producer: u32, consumer: u32) -> CountedLink {
        // A producer alternating between consumers misses the slot every time: a
        // per-thread table spares those calls the process-wide lock.
        let counted = SEEN
            .try_with(|seen| {
                *seen
                    .borrow_mut()
                    .entry((producer, consumer))
                    .or_insert_with(|| counted_link(producer, consumer))
            })
            .unwrap_or_else(|_| counted_link(producer, consumer));
        self.0.store(
            u64::from(consumer) << 32 | u64::from(counted),
            std::sync::atomic::Ordering::Relaxed,
        );
        CountedLink(counted)
    }
}

/// `producer`'s link to pipetel channel `channel` (a send), or the channel's link to
/// `consumer` (a receive): per thread, the lock only the first time.
pub(crate) fn channel_link(from: Endpoint, to: Endpoint) -> u32 {
    SEEN_CHANNELS
        .try_with(|seen| {
            *seen
                .borrow_mut()
                .entry((from, to))
                .or_insert_with(|| resolve(from, to, Via::Channel))
        })
        .unwrap_or_else(|_| resolve(from, to, Via::Channel))
}

thread_local! {
    /// The channel links this thread counted on.
    static SEEN_CHANNELS: std::cell::RefCell<HashMap<(Endpoint, Endpoint), u32>> =
        std::cell::RefCell::new(HashMap::new());
}
