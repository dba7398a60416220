//! Per-thread shards of counter cells, and the sums the exporter reads from them.
//!
//! Every thread that runs an operator owns one [`Shard`]: two lazily grown tables, one
//! of built-in [`Cells`] and one of [`CustomCells`], indexed by series id. Only the
//! owner writes a shard, so two threads running the same operator never touch the same
//! cache line. Shards are never freed: when a thread exits its shard is released and the
//! next new thread adopts it, so the counts of exited threads stay in the totals and
//! memory is bounded by the largest number of threads alive at once.

use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Mutex;

use crate::counters::cells::{Cells, CustomCells, Tally, Zeroed};
use crate::counters::step_slot::StepCall;

/// Series per chunk of a table.
const CHUNK: usize = 64;
/// Chunks per table.
const CHUNKS: usize = 512;
/// The most series a process can have (ids `0..MAX_SERIES`).
pub(crate) const MAX_SERIES: usize = CHUNK * CHUNKS;

/// A `T` for every series, allocated a chunk at a time.
pub(crate) struct Table<T> {
    chunks: [AtomicPtr<[T; CHUNK]>; CHUNKS],
}

impl<T: Zeroed> Table<T> {
    const fn new() -> Self {
        Table {
            chunks: [const { AtomicPtr::new(ptr::null_mut()) }; CHUNKS],
        }
    }

    /// The block of `series`, for the owning thread to write.
    #[inline]
    fn block(&'static self, series: u32) -> &'static T {
        match self.block_if_grown(series) {
            Some(block) => block,
            None => &self.grow(chunk_of(series))[series as usize % CHUNK],
        }
    }

    /// The block of `series` if its chunk was allocated: no allocation, no call.
    #[inline(always)]
    fn block_if_grown(&'static self, series: u32) -> Option<&'static T> {
        let found = self.chunks[chunk_of(series)].load(Ordering::Acquire);
        // SAFETY: a non-null chunk pointer comes from `Box::leak` in `grow` and is never freed.
        (!found.is_null()).then(|| unsafe { &(*found)[series as usize % CHUNK] })
    }

    #[cold]
    #[inline(never)]
    fn grow(&'static self, chunk: usize) -> &'static [T; CHUNK] {
        let fresh: &'static [T; CHUNK] = Box::leak(Box::new([const { T::ZERO }; CHUNK]));
        self.chunks[chunk].store(ptr::from_ref(fresh).cast_mut(), Ordering::Release);
        fresh
    }

    /// The block of `series` for a reader, if this table ever counted it.
    fn peek(&self, series: usize) -> Option<&T> {
        let found = self.chunks[series / CHUNK].load(Ordering::Acquire);
        // SAFETY: as in `block`, chunk pointers are leaked boxes, valid forever.
        (!found.is_null()).then(|| unsafe { &(*found)[series % CHUNK] })
    }
}

/// The chunk of `series`. Series ids are below `MAX_SERIES` (the registry hands out no
/// more), so the mask changes nothing; it spares the hot path a bounds check.
#[inline(always)]
fn chunk_of(series: u32) -> usize {
    debug_assert!((series as usize) < MAX_SERIES);
    (series as usize / CHUNK) % CHUNKS
}

/// One thread's counters for every series.
pub(crate) struct Shard {
    cells: Table<Cells>,
    custom: Table<CustomCells>,
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
            cells: Table::new(),
            custom: Table::new(),
            in_use: AtomicBool::new(true),
        }));
        shards.push(shard);
        shard
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

    /// The custom cells of `series`, for the owning thread to write.
    #[inline]
    pub(crate) fn custom_cells(&'static self, series: u32) -> &'static CustomCells {
        self.custom.block(series)
    }
}

/// The totals of `tally` for series `0..series_count`, over every shard.
pub(crate) fn sums(tally: Tally, series_count: usize) -> Vec<u64> {
    reduce_over_shards(
        |shard| &shard.cells,
        series_count,
        0,
        |sum, cells| sum.wrapping_add(cells.get(tally)),
    )
}

/// The totals of custom counter `index` for series `0..series_count`, over every shard.
pub(crate) fn custom_sums(index: usize, series_count: usize) -> Vec<u64> {
    reduce_over_shards(
        |shard| &shard.custom,
        series_count,
        0,
        |sum, cells| sum.wrapping_add(cells.get_at(index)),
    )
}

/// The step call each series `0..series_count` last ran in, over every shard: the latest.
pub(crate) fn latest_steps(series_count: usize) -> Vec<StepCall> {
    reduce_over_shards(
        |shard| &shard.cells,
        series_count,
        StepCall::NONE,
        |latest, cells| latest.max(cells.step.get()),
    )
}

/// Folds every shard's `T` of each series `0..series_count` into one value per series.
fn reduce_over_shards<T: Zeroed, V: Clone>(
    table: fn(&Shard) -> &Table<T>,
    series_count: usize,
    empty: V,
    fold: impl Fn(V, &T) -> V,
) -> Vec<V> {
    let mut values = vec![empty; series_count];
    let shards = SHARDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for shard in shards.iter() {
        for (series, value) in values.iter_mut().enumerate() {
            if let Some(cells) = table(shard).peek(series) {
                *value = fold(value.clone(), cells);
            }
        }
    }
    values
}
