//! A table of one value per series (or per graph link, or per group of a series'
//! buckets), allocated a chunk of 64 at a time and never freed: what a shard's cells, the
//! series' shared details and their buckets live in.
//!
//! Writers go through [`Table::block`], which allocates a missing chunk; readers walk the
//! allocated chunks. Allocation publishes a chunk with one pointer store, so a
//! reader sees a chunk whole or not at all.

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::counters::cells::Zeroed;

/// Series per chunk of a table.
pub(crate) const CHUNK: usize = 64;
/// Chunks per table of series.
const CHUNKS: usize = 512;
/// The most series a process can have (ids `0..MAX_SERIES`).
pub(crate) const MAX_SERIES: usize = CHUNK * CHUNKS;

/// A `T` for every series (ids below `CHUNK × COUNT`: [`MAX_SERIES`] unless `COUNT` says
/// otherwise), allocated a chunk at a time.
pub(crate) struct Table<T, const COUNT: usize = CHUNKS> {
    chunks: [AtomicPtr<[T; CHUNK]>; COUNT],
}

impl<T: Zeroed, const COUNT: usize> Table<T, COUNT> {
    pub(crate) const fn new() -> Self {
        Table {
            chunks: [const { AtomicPtr::new(ptr::null_mut()) }; COUNT],
        }
    }

    /// The block of `series`, allocating its chunk if needed.
    #[inline]
    pub(crate) fn block(&'static self, series: u32) -> &'static T {
        match self.block_if_grown(series) {
            Some(block) => block,
            None => &self.grow(Self::chunk_of(series))[series as usize % CHUNK],
        }
    }

    /// The block of `series` if its chunk was allocated: no allocation, no call.
    #[inline(always)]
    pub(crate) fn block_if_grown(&'static self, series: u32) -> Option<&'static T> {
        let found = self.chunks[Self::chunk_of(series)].load(Ordering::Acquire);
        // SAFETY: a non-null chunk pointer is a box `grow` published and never frees.
        (!found.is_null()).then(|| unsafe { &(*found)[series as usize % CHUNK] })
    }

    #[cold]
    #[inline(never)]
    fn grow(&'static self, chunk: usize) -> &'static [T; CHUNK] {
        // Built in place, one block at a time: a chunk of large blocks would not fit a
        // temporary on a small thread stack.
        let mut fresh = Box::<[T; CHUNK]>::new_uninit();
        let first = fresh.as_mut_ptr().cast::<T>();
        for index in 0..CHUNK {
            // SAFETY: `index` is within the array `first` points into.
            unsafe { first.add(index).write(T::ZERO) };
        }
        // SAFETY: every element was written above.
        let fresh: *mut [T; CHUNK] = Box::into_raw(unsafe { fresh.assume_init() });
        // A table shared by threads may see two grow the same chunk: the first stays.
        match self.chunks[chunk].compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: published, never freed.
            Ok(_) => unsafe { &*fresh },
            // SAFETY: `fresh` was never published; `first` is a leaked box.
            Err(first) => unsafe {
                drop(Box::from_raw(fresh));
                &*first
            },
        }
    }

    /// For a reader: every allocated chunk holding series below `series_count`, with the
    /// id of its first series, cut to end at `series_count`. One pointer load a chunk.
    pub(crate) fn grown_chunks(&self, series_count: usize) -> impl Iterator<Item = (usize, &[T])> {
        let series_count = series_count.min(CHUNK * COUNT);
        self.chunks[..series_count.div_ceil(CHUNK)]
            .iter()
            .enumerate()
            .filter_map(move |(chunk, pointer)| {
                let found = pointer.load(Ordering::Acquire);
                // SAFETY: as in `block`, chunk pointers are leaked boxes, valid forever.
                let block: &[T; CHUNK] = unsafe { found.as_ref()? };
                let first = chunk * CHUNK;
                Some((first, &block[..CHUNK.min(series_count - first)]))
            })
    }
}

impl<T, const COUNT: usize> Table<T, COUNT> {
    /// The chunk of `series`. Ids are below `CHUNK × COUNT` (the registry hands out no
    /// more series), so the remainder changes nothing; it spares the hot path a bounds
    /// check.
    #[inline(always)]
    fn chunk_of(series: u32) -> usize {
        debug_assert!((series as usize) < CHUNK * COUNT);
        (series as usize / CHUNK) % COUNT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[derive(Debug)]
    struct Cell(AtomicU64);

    impl Zeroed for Cell {
        const ZERO: Self = Cell(AtomicU64::new(0));
    }

    #[test]
    fn threads_growing_a_chunk_at_once_share_the_first_grown() {
        static TABLE: Table<Cell> = Table::new();
        // Eight threads count in the first series of every chunk but the first (none
        // grown yet), and in one series of their own there: a count that went into a
        // chunk that did not stay would be missing.
        std::thread::scope(|scope| {
            for thread in 0..8u32 {
                scope.spawn(move || {
                    for chunk in 1..CHUNKS as u32 {
                        let first = chunk * CHUNK as u32;
                        TABLE.block(first).0.fetch_add(1, Ordering::Relaxed);
                        TABLE
                            .block(first + 1 + thread)
                            .0
                            .fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        let chunks: Vec<(usize, &[Cell])> = TABLE.grown_chunks(MAX_SERIES).collect();
        assert_eq!(
            chunks.len(),
            CHUNKS - 1,
            "every chunk but the first grown, once"
        );
        for (first, cells) in chunks {
            let counts: Vec<u64> = cells[..9]
                .iter()
                .map(|cell| cell.0.load(Ordering::Relaxed))
                .collect();
            assert_eq!(counts, [8, 1, 1, 1, 1, 1, 1, 1, 1], "chunk at {first}");
        }
        assert!(
            TABLE.block_if_grown(0).is_none(),
            "the first chunk never grown"
        );
    }
}
