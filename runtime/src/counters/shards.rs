//! Per-thread shards of counter cells, and the chunk-by-chunk view readers sum them through.
//!
//! Every thread that runs an operator owns one [`Shard`]: lazily grown tables of built-in
//! [`Cells`] and of [`CustomCells`], indexed by series id, and of [`LinkCells`], indexed
//! by graph link id. Only the
//! owner writes a shard, so two threads running the same operator never touch the same
//! cache line. Shards are never freed: when a thread exits its shard is released and the
//! next new thread adopts it, so the counts of exited threads stay in the totals and
//! memory is bounded by the largest number of threads alive at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::counters::cells::{Cells, CustomCells, LinkCells, Zeroed};
use crate::counters::details;
use crate::counters::segment_list::{Listing, SegmentList};
use crate::counters::table::{Table, MAX_SERIES};

// Links are counted in tables of the same size.
const _: () = assert!(crate::counters::links::MAX_LINKS <= MAX_SERIES);

/// One thread's counters for every series.
pub(crate) struct Shard {
    cells: Table<Cells>,
    custom: Table<CustomCells>,
    /// By link id (`counters::links`).
    links: Table<LinkCells>,
    /// The latest segments, on their way to their series' distributions.
    list: SegmentList,
    in_use: AtomicBool,
    /// Where the shard is among every shard ever created.
    index: u32,
    /// The name of the thread that adopted the shard last (its counts include those of
    /// the threads that had it before).
    thread: Mutex<String>,
}

/// Every shard ever created; a shard stays here for the life of the process.
static SHARDS: Mutex<Vec<&'static Shard>> = Mutex::new(Vec::new());

impl Shard {
    /// Takes a released shard, or creates one. Called once per thread.
    #[cold]
    pub(crate) fn adopt() -> &'static Shard {
        let mut shards = SHARDS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for shard in shards.iter() {
            if shard
                .in_use
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                *shard
                    .thread
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = this_thread_name();
                return shard;
            }
        }
        let shard: &'static Shard = Box::leak(Box::new(Shard {
            cells: Table::new(),
            custom: Table::new(),
            links: Table::new(),
            list: SegmentList::ZERO,
            in_use: AtomicBool::new(true),
            index: shards.len() as u32,
            thread: Mutex::new(this_thread_name()),
        }));
        shards.push(shard);
        shard
    }

    /// The name of the thread that has (or last had) the shard.
    pub(crate) fn thread_name(&self) -> String {
        self.thread
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Where the shard is among every shard ever created: its thread's name is at this
    /// index of [`thread_names`].
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// Gives the shard back when its thread exits; the counts stay.
    pub(crate) fn release(&self) {
        self.in_use.store(false, Ordering::Release);
    }

    /// The built-in cells of `series`, for the owning thread to write.
    #[inline]
    pub(crate) fn cells(&'static self, series: u32) -> &'static Cells {
        self.cells.block(series)
    }

    /// The built-in cells of `series` if they were allocated: no allocation, no call.
    #[inline(always)]
    pub(crate) fn cells_if_grown(&'static self, series: u32) -> Option<&'static Cells> {
        self.cells.block_if_grown(series)
    }

    /// The cells of graph link `link`, for the owning thread to write.
    #[inline]
    pub(crate) fn link_cells(&'static self, link: u32) -> &'static LinkCells {
        self.links.block(link)
    }

    /// The cells of graph link `link` if they were allocated: no allocation, no call.
    #[inline(always)]
    pub(crate) fn link_cells_if_grown(&'static self, link: u32) -> Option<&'static LinkCells> {
        self.links.block_if_grown(link)
    }

    /// Lists a segment of `series` (`busy` ticks, `rows` handed out, `allocated` bytes)
    /// for its distributions. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn list_segment(
        &'static self,
        series: u32,
        busy: u64,
        rows: Option<u64>,
        allocated: Option<u64>,
    ) {
        self.list.add(series, busy, rows, allocated, details::of);
    }

    /// Lists a segment as [`list_segment`](Self::list_segment) does, but leaves a list
    /// it fills for the caller to [`empty_list`](Self::empty_list).
    #[inline(always)]
    pub(crate) fn put_segment(
        &'static self,
        series: u32,
        busy: u64,
        rows: Option<u64>,
        allocated: Option<u64>,
    ) -> Listing {
        self.list.put(series, busy, rows, allocated)
    }

    /// Empties the list of segments, full, into their series' buckets.
    #[cold]
    #[inline(never)]
    pub(crate) fn empty_list(&'static self) {
        self.list.empty(details::of);
    }

    /// The segments listed and not yet in their buckets, for readers.
    pub(crate) fn segment_list(&self) -> &SegmentList {
        &self.list
    }

    /// The custom cells of `series`, for the owning thread to write.
    #[inline]
    pub(crate) fn custom_cells(&'static self, series: u32) -> &'static CustomCells {
        self.custom.block(series)
    }
}

/// The calling thread's name and number (`tokio-rt-worker:7`: pools name all their
/// threads alike), or its id when it has no name (`ThreadId(7)`).
fn this_thread_name() -> String {
    let thread = std::thread::current();
    let id = format!("{:?}", thread.id());
    match thread.name() {
        Some(name) => {
            let number: String = id.chars().filter(char::is_ascii_digit).collect();
            format!("{name}:{number}")
        }
        None => id,
    }
}

/// The name of the thread that has (or last had) each shard, by shard index: one string
/// per thread, for every share of it to point to.
pub(crate) fn thread_names() -> Vec<std::sync::Arc<str>> {
    let mut names = Vec::new();
    for_each_shard(|shard| names.push(std::sync::Arc::from(shard.thread_name())));
    names
}

/// Calls `visit` with every shard ever created, under the lock that adds shards.
pub(crate) fn for_each_shard(mut visit: impl FnMut(&'static Shard)) {
    let shards = SHARDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for shard in shards.iter() {
        visit(shard);
    }
}

impl Shard {
    /// The allocated chunks of built-in cells covering series `0..series_count`, each
    /// with the id of its first series.
    pub(crate) fn cell_chunks(
        &self,
        series_count: usize,
    ) -> impl Iterator<Item = (usize, &[Cells])> {
        self.cells.grown_chunks(series_count)
    }

    /// The allocated chunks of link cells covering links `0..link_count`, each with the
    /// id of its first link.
    pub(crate) fn link_chunks(
        &self,
        link_count: usize,
    ) -> impl Iterator<Item = (usize, &[LinkCells])> {
        self.links.grown_chunks(link_count)
    }

    /// The allocated chunks of custom cells covering series `0..series_count`, each with
    /// the id of its first series.
    pub(crate) fn custom_chunks(
        &self,
        series_count: usize,
    ) -> impl Iterator<Item = (usize, &[CustomCells])> {
        self.custom.grown_chunks(series_count)
    }
}
