//! Per-thread shards of counter cells, and the sums the exporter reads from them.
//!
//! Every thread that runs an operator owns one [`Shard`]: a lazily grown table of
//! [`Cells`] blocks indexed by series id. Only the owner writes a shard, so two threads
//! running the same operator never touch the same cache line. Shards are never freed:
//! when a thread exits its shard is released and the next new thread adopts it, so the
//! counts of exited threads stay in the totals and memory is bounded by the largest
//! number of threads alive at once.

use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Mutex;

use crate::counters::{Cells, Counter};

/// Series per chunk of a shard.
const CHUNK: usize = 64;
/// Chunks per shard.
const CHUNKS: usize = 512;
/// The most series a process can have (ids `0..MAX_SERIES`).
pub(crate) const MAX_SERIES: usize = CHUNK * CHUNKS;

type Chunk = [Cells; CHUNK];

/// One thread's counters for every series.
pub(crate) struct Shard {
    chunks: [AtomicPtr<Chunk>; CHUNKS],
    in_use: AtomicBool,
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
                return shard;
            }
        }
        let shard: &'static Shard = Box::leak(Box::new(Shard {
            chunks: [const { AtomicPtr::new(ptr::null_mut()) }; CHUNKS],
            in_use: AtomicBool::new(true),
        }));
        shards.push(shard);
        shard
    }

    /// Gives the shard back when its thread exits; the counts stay.
    pub(crate) fn release(&self) {
        self.in_use.store(false, Ordering::Release);
    }

    /// The cells of `series` in this shard, for the owning thread to write.
    #[inline]
    pub(crate) fn cells(&'static self, series: u32) -> &'static Cells {
        let (chunk, index) = (series as usize / CHUNK, series as usize % CHUNK);
        let found = self.chunks[chunk].load(Ordering::Acquire);
        let chunk = if found.is_null() {
            self.grow(chunk)
        } else {
            // SAFETY: a non-null chunk pointer comes from `Box::leak` in `grow` and is never freed.
            unsafe { &*found }
        };
        &chunk[index]
    }

    #[cold]
    #[inline(never)]
    fn grow(&'static self, chunk: usize) -> &'static Chunk {
        let fresh: &'static Chunk = Box::leak(Box::new([const { Cells::new() }; CHUNK]));
        self.chunks[chunk].store(ptr::from_ref(fresh).cast_mut(), Ordering::Release);
        fresh
    }

    /// The cells of `series` for a reader, if this shard ever counted it.
    fn peek(&self, series: usize) -> Option<&Cells> {
        let found = self.chunks[series / CHUNK].load(Ordering::Acquire);
        // SAFETY: as in `cells`, chunk pointers are leaked boxes, valid forever.
        (!found.is_null()).then(|| unsafe { &(*found)[series % CHUNK] })
    }
}

/// The totals of one counter for series `0..series_count`, summed over every shard.
pub(crate) fn totals(counter: Counter, series_count: usize) -> Vec<u64> {
    let mut sums = vec![0u64; series_count];
    let shards = SHARDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for shard in shards.iter() {
        for (series, sum) in sums.iter_mut().enumerate() {
            if let Some(cells) = shard.peek(series) {
                *sum = sum.wrapping_add(cells.get(counter));
            }
        }
    }
    sums
}
