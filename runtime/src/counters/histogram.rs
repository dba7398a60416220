//! Per-call distributions of one operator series: busy time per segment (a call, a poll,
//! an item), rows per hand-over and — with the tracking allocator (feature `alloc`) —
//! bytes allocated per segment, in log-linear buckets shared by every thread that runs
//! the series.
//!
//! A value's bucket is its power of two and, within it, which of four equal quarters it
//! falls in: values 0–7 have a bucket each, and above that a bucket spans a quarter of
//! its octave, so a value read back from its bucket is off by at most 25 % (12.5 % from
//! the bucket's middle). Finding the bucket is a conversion to `f64` and a shift of its
//! bits. Times are kept in clock ticks (scaled when read).
//!
//! Segments reach the buckets through their thread's list (`counters::segment_list`), a
//! few dozen at a time: an add is an atomic add (several threads add to one series), but
//! once per list, not per call. A series' buckets are allocated sixteen at a time, as
//! segments first count in them: the few groups its calls fall in are all a series
//! costs beyond their pointers (see [`HistogramCells`]). Counters are 32 bits, so that a
//! group is one cache line; a bucket that wraps carries 2³² into a process-wide table (a
//! lock, once per 4 billion values in one bucket), which readers add. Readers read the
//! non-zero counts of the groups that exist.

use std::collections::HashMap;
use std::ptr;
use std::sync::atomic::{
    AtomicPtr, AtomicU32, AtomicUsize,
    Ordering::{AcqRel, Acquire, Relaxed},
};
use std::sync::Mutex;

use crate::counters::cells::Zeroed;
use crate::counters::table::{Table, CHUNK, MAX_SERIES};

/// Sub-buckets per power of two, as bits.
const SUB_BITS: u32 = 2;
const SUBS: usize = 1 << SUB_BITS;

/// Buckets of busy ticks: up to 2⁴⁴ ticks (over 1.5 hours at 3 GHz); longer segments
/// count in the last one.
pub(crate) const TIME_BUCKETS: usize = bucket_count(44);
/// Buckets of rows per hand-over: up to 2³² rows; larger batches count in the last one.
pub(crate) const ROW_BUCKETS: usize = bucket_count(32);
/// Buckets of bytes allocated per segment, with the `alloc` feature: up to 2⁴⁰ bytes (a
/// TiB); more counts in the last one. None without it.
pub(crate) const ALLOCATED_BUCKETS: usize = if cfg!(feature = "alloc") {
    MOST_ALLOCATED
} else {
    0
};
/// [`ALLOCATED_BUCKETS`] with the `alloc` feature.
const MOST_ALLOCATED: usize = bucket_count(40);
/// Where [`HistogramCells::read_counts`] numbers the first bucket of bytes allocated:
/// after the busy and rows buckets.
pub(crate) const ALLOCATED_FIRST: usize = TIME_BUCKETS + ROW_BUCKETS;

/// How many buckets cover values below `2^bits`.
const fn bucket_count(bits: u32) -> usize {
    (bits as usize - SUB_BITS as usize + 1) * SUBS
}

/// 2⁵⁴: half of every integer below it converts to an `f64` exactly, and
/// [`any_bucket`] is exact below it.
const EXACT_BELOW: u64 = 1 << (f64::MANTISSA_DIGITS + 1);

/// The bucket of `value` among those of every `u64` (at most [`LAST_BUCKET`]), read off
/// half the value converted to an `f64`: its exponent is the octave and its two leading
/// mantissa bits the quarter, and values below eight keep their own bucket. No bit scan:
/// with one (`bsr`, the scan x86-64 has without `lzcnt`), an operator call cost 4 % more
/// while the core was shared with another thread (BENCHMARKS.md, "2026-12-02").
///
/// Half the value, because the conversion is a signed one (x86-64 has no unsigned one
/// before AVX-512): half of any `u64` converts as a positive number, so every bucket fits
/// a byte, [`LAST_BUCKET`] at most, with no compare and move to cap it — a segment's
/// list stores the bucket as it comes, and the emptying caps it to its histogram's last.
/// Half a value of octave `e` is of octave `e − 1` with the same quarter, one octave's
/// buckets lower, which the subtraction the conversion needs anyway adds back. Exact
/// below [`EXACT_BELOW`]; from it up the conversion rounds, and a value may take the
/// bucket after its own — past every histogram's last (checked below), where the caps
/// put it anyway.
#[inline(always)]
pub(crate) const fn any_bucket(value: u64) -> usize {
    if value < 2 * SUBS as u64 {
        value as usize
    } else {
        float_bucket(value >> 1) + SUBS
    }
}

/// The bucket `value`'s conversion to an `f64` reads, for a value of at least four: for
/// a value of octave `e` (2^e up to 2^(e+1)), the exponent and the leading mantissa bits
/// read `(e + bias) · SUBS + quarter`; its bucket is `(e + 1 − SUB_BITS) · SUBS + quarter`.
#[inline(always)]
const fn float_bucket(value: u64) -> usize {
    const BIAS: usize = f64::MAX_EXP as usize - 1;
    const OFFSET: usize = (BIAS + SUB_BITS as usize - 1) * SUBS;
    let float = (value as i64 as f64).to_bits() >> (f64::MANTISSA_DIGITS - 1 - SUB_BITS);
    (float as usize).wrapping_sub(OFFSET)
}

/// The last of [`any_bucket`]'s buckets: that of `u64::MAX` (252), below 255, the byte a
/// segment's list keeps for "nothing".
pub(crate) const LAST_BUCKET: usize = any_bucket(u64::MAX);
// Values from `EXACT_BELOW` up, whose bucket may be the one after their own, are past
// every histogram's last bucket, where the caps put them anyway.
const _: () = assert!(
    any_bucket(EXACT_BELOW) >= TIME_BUCKETS
        && any_bucket(EXACT_BELOW) >= ROW_BUCKETS
        && any_bucket(EXACT_BELOW) >= MOST_ALLOCATED
);
// Every bucket's number fits the `u16` readers get.
const _: () = assert!(ALLOCATED_FIRST + ALLOCATED_BUCKETS <= u16::MAX as usize);

/// The bucket of `value`, at most `buckets - 1`.
#[cfg(test)]
pub(crate) fn bucket(value: u64, buckets: usize) -> usize {
    any_bucket(value).min(buckets - 1)
}

/// The smallest value of bucket `index` (the next bucket's is its end).
pub(crate) fn bucket_start(index: usize) -> u64 {
    if index < 2 * SUBS {
        return index as u64;
    }
    let octave = (index / SUBS) as u32 + SUB_BITS - 1;
    let sub = (index % SUBS) as u64;
    (1u64 << octave) + (sub << (octave - SUB_BITS))
}

/// The rows bucket of a segment that handed nothing out (a `Pending` poll, an early exit):
/// one past the last, counted nowhere.
pub(crate) const NO_ROWS: usize = ROW_BUCKETS;

/// The allocated bucket of a segment whose bytes were not counted (no `alloc` feature):
/// one past the last, counted nowhere, as [`NO_ROWS`].
pub(crate) const NOT_COUNTED: usize = ALLOCATED_BUCKETS;

/// Every bucket of a series, numbered as [`HistogramCells::read_counts`] numbers them:
/// busy buckets, then rows buckets, then bytes allocated buckets.
const CELLS: usize = ALLOCATED_FIRST + ALLOCATED_BUCKETS;

/// Buckets per group: a group is 64 bytes, one cache line.
const GROUP: usize = 16;

/// Groups of a series' buckets.
const GROUPS: usize = CELLS.div_ceil(GROUP);

/// [`GROUP`] consecutive buckets of a series.
type Group = [AtomicU32; GROUP];

/// The most a series' groups take: every one of them allocated.
pub(crate) const MOST_GROUP_BYTES: usize = GROUPS * std::mem::size_of::<Group>();

impl Zeroed for Group {
    const ZERO: Self = [const { AtomicU32::new(0) }; GROUP];
}

/// Chunks of the groups' table: room for every group of [`MAX_SERIES`] series, a chunk
/// (64 groups, 4 KiB) allocated at a time, and a power of two.
const GROUP_CHUNKS: usize = (MAX_SERIES * GROUPS).div_ceil(CHUNK).next_power_of_two();

/// Every group handed out, in the order they were: packed in chunks of 64, where each
/// allocated on its own would take the allocator's header too (16 bytes in glibc's).
static GROUP_TABLE: Table<Group, GROUP_CHUNKS> = Table::new();

/// How many groups were handed out.
static GROUPS_HANDED_OUT: AtomicUsize = AtomicUsize::new(0);

/// A zeroed group, never freed: the next of the groups' table, or one of its own past it
/// (the table holds every group of every series; a race lost leaves one unused).
fn fresh_group() -> &'static Group {
    let next = GROUPS_HANDED_OUT.fetch_add(1, Relaxed);
    if next < CHUNK * GROUP_CHUNKS {
        GROUP_TABLE.block(next as u32)
    } else {
        Box::leak(Box::new(Group::ZERO))
    }
}

/// One series' distributions: its buckets in groups of [`GROUP`], each handed out when a
/// segment first counts in it (and never freed). A series' calls fall in a few buckets,
/// so most of its groups never exist: a series that ran takes the pointers (152 bytes;
/// 232 with the `alloc` feature) and the few groups it counts in, 64 bytes each, rather
/// than every bucket (1.2 KiB; 1.8 KiB).
#[derive(Debug)]
pub(crate) struct HistogramCells {
    groups: [AtomicPtr<Group>; GROUPS],
}

impl Zeroed for HistogramCells {
    const ZERO: Self = HistogramCells {
        groups: [const { AtomicPtr::new(ptr::null_mut()) }; GROUPS],
    };
}

/// What buckets carried past 32 bits: by (the cells' address, bucket number as
/// [`HistogramCells::read_counts`] numbers them).
static CARRIED: Mutex<Option<HashMap<(usize, usize), u64>>> = Mutex::new(None);

impl HistogramCells {
    /// Counts `count` segments whose busy ticks fell in bucket `bucket` (below
    /// [`TIME_BUCKETS`]).
    #[inline(always)]
    pub(crate) fn add_busy(&self, bucket: usize, count: u32) {
        self.bump(bucket, count);
    }

    /// Counts `count` segments whose rows fell in bucket `bucket` ([`NO_ROWS`]: they
    /// handed nothing out, and count nowhere).
    #[inline(always)]
    pub(crate) fn add_rows(&self, bucket: usize, count: u32) {
        if bucket != NO_ROWS {
            self.bump(TIME_BUCKETS + bucket, count);
        }
    }

    /// Counts `count` segments whose bytes allocated fell in bucket `bucket`
    /// ([`NOT_COUNTED`]: not counted, and count nowhere).
    #[inline(always)]
    pub(crate) fn add_allocated(&self, bucket: usize, count: u32) {
        if bucket != NOT_COUNTED {
            self.bump(ALLOCATED_FIRST + bucket, count);
        }
    }

    #[inline(always)]
    fn bump(&self, index: usize, added: u32) {
        // The add that wraps the cell carries; a reader between the two reads the bucket
        // 2³² low, once.
        if self
            .cell(index)
            .fetch_add(added, Relaxed)
            .checked_add(added)
            .is_none()
        {
            self.carry(index);
        }
    }

    /// Bucket `index`'s cell, its group allocated if it has none yet.
    #[inline(always)]
    fn cell(&self, index: usize) -> &AtomicU32 {
        let slot = &self.groups[index / GROUP];
        let group = slot.load(Acquire);
        let group = if group.is_null() {
            Self::grow(slot)
        } else {
            // SAFETY: a non-null group is one `fresh_group` handed out, never freed.
            unsafe { &*group }
        };
        &group[index % GROUP]
    }

    /// Gives `slot` a group, or takes the one another writer gave it first.
    #[cold]
    #[inline(never)]
    fn grow(slot: &AtomicPtr<Group>) -> &'static Group {
        let fresh = fresh_group();
        let fresh_ptr = ptr::from_ref(fresh).cast_mut();
        match slot.compare_exchange(ptr::null_mut(), fresh_ptr, AcqRel, Acquire) {
            Ok(_) => fresh,
            // The fresh group stays unused (64 bytes; only two writers growing the same
            // group at the same moment meet here).
            // SAFETY: a non-null group is one `fresh_group` handed out, never freed.
            Err(first) => unsafe { &*first },
        }
    }

    #[cold]
    #[inline(never)]
    fn carry(&self, bucket: usize) {
        let mut carried = CARRIED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *carried
            .get_or_insert_with(HashMap::new)
            .entry((ptr_key(self), bucket))
            .or_default() += 1 << 32;
    }

    /// The groups allocated so far, each with the number of its first bucket.
    fn grown_groups(&self) -> impl Iterator<Item = (usize, &Group)> {
        self.groups.iter().enumerate().filter_map(|(at, slot)| {
            // SAFETY: as in `cell`.
            unsafe { slot.load(Acquire).as_ref() }.map(|group| (at * GROUP, group))
        })
    }

    /// Appends the non-zero counts to `counts`, as (bucket, count)
    /// in bucket order: busy buckets first, then the rows buckets from [`TIME_BUCKETS`],
    /// then the bytes allocated from [`ALLOCATED_FIRST`]; each with what it `carried`
    /// past 32 bits.
    pub(crate) fn read_counts(&self, counts: &mut Vec<(u16, u64)>, carried: &Carried) {
        match carried {
            // No bucket ever carried (nearly always): a load and a test a bucket, most
            // of them zero.
            None => {
                for (first, group) in self.grown_groups() {
                    push_non_zero(group, first, counts);
                }
            }
            Some(carried) => {
                let key = ptr_key(self);
                for (first, group) in self.grown_groups() {
                    for (at, cell) in group.iter().enumerate() {
                        let index = first + at;
                        let carried = carried.get(&(key, index)).copied().unwrap_or(0);
                        let count = u64::from(cell.load(Relaxed)) + carried;
                        if count != 0 {
                            counts.push((index as u16, count));
                        }
                    }
                }
            }
        }
    }
}

/// Appends the non-zero counts of `cells` to `counts`, numbered from `first`.
///
/// Eight cells at a time, loaded together and passed over when all are zero (most of a
/// group often is: a series' calls fall in a few buckets): three and a half instructions
/// a cell, against five and a half for a load and a test each.
fn push_non_zero(cells: &Group, first: usize, counts: &mut Vec<(u16, u64)>) {
    const EIGHT: usize = 8;
    const _: () = assert!(GROUP.is_multiple_of(EIGHT));
    for (eight_at, eight) in cells.chunks_exact(EIGHT).enumerate() {
        let loaded: [u32; EIGHT] = std::array::from_fn(|at| eight[at].load(Relaxed));
        if loaded.iter().fold(0, |any, &count| any | count) == 0 {
            continue;
        }
        for (at, &count) in loaded.iter().enumerate() {
            if count != 0 {
                counts.push(((first + eight_at * EIGHT + at) as u16, u64::from(count)));
            }
        }
    }
}

/// What every bucket carried past 32 bits, for readers.
pub(crate) type Carried = Option<HashMap<(usize, usize), u64>>;

/// Runs `read` with what every bucket carried past 32 bits (one lock for a whole read).
pub(crate) fn with_carried<R>(read: impl FnOnce(&Carried) -> R) -> R {
    read(
        &CARRIED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    )
}

fn ptr_key(cells: &HistogramCells) -> usize {
    std::ptr::from_ref(cells) as usize
}

/// Bucket counts as read: (bucket, count) for each bucket with a count, in
/// bucket order (a series' counts sit in a few of its hundreds of buckets).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Buckets(pub(crate) Vec<(u32, u64)>);

impl Buckets {
    /// Adds `added` to bucket `index`, wrapping: a difference that takes counts away is
    /// added as its two's complement.
    pub(crate) fn add(&mut self, index: usize, added: u64) {
        let index = index as u32;
        match self.0.binary_search_by_key(&index, |&(at, _)| at) {
            Ok(at) => {
                let count = self.0[at].1.wrapping_add(added);
                if count == 0 {
                    self.0.remove(at);
                } else {
                    self.0[at].1 = count;
                }
            }
            Err(at) if added != 0 => self.0.insert(at, (index, added)),
            Err(_) => {}
        }
    }

    /// `other`'s counts added to these, bucket by bucket.
    pub(crate) fn add_all(&mut self, other: &Buckets) {
        for &(index, count) in &other.0 {
            self.add(index as usize, count);
        }
    }

    /// `other`'s counts taken from these, bucket by bucket (counts `other` never
    /// exceeds: an earlier reading of the same buckets).
    pub(crate) fn remove_all(&mut self, other: &Buckets) {
        for &(index, count) in &other.0 {
            self.add(index as usize, count.wrapping_neg());
        }
    }

    /// The count of bucket `index`.
    pub(crate) fn get(&self, index: usize) -> u64 {
        self.0
            .binary_search_by_key(&(index as u32), |&(at, _)| at)
            .map_or(0, |at| self.0[at].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::cells::Zeroed;

    #[test]
    fn a_read_gives_every_non_zero_bucket_wherever_it_lies_in_its_group() {
        // One non-zero bucket in each position of a group of eight and of sixteen, the
        // last group (short of sixteen) and each histogram's first and last buckets
        // included; counts that need 32 bits.
        let cells = HistogramCells::ZERO;
        let mut expected = Vec::new();
        let mut set = |index: usize, count: u32| {
            cells.cell(index).store(count, Relaxed);
            expected.push((index as u16, u64::from(count)));
        };
        for index in (0..TIME_BUCKETS).filter(|index| index % 9 == 0 || *index == TIME_BUCKETS - 1)
        {
            set(index, u32::MAX - index as u32);
        }
        for index in [0, 7, 8, ROW_BUCKETS - 1] {
            set(TIME_BUCKETS + index, index as u32 + 1);
        }
        if ALLOCATED_BUCKETS != 0 {
            set(ALLOCATED_FIRST + ALLOCATED_BUCKETS - 1, 3);
        }
        let mut counts = Vec::new();
        cells.read_counts(&mut counts, &None);
        assert_eq!(counts, expected);
    }

    #[test]
    fn a_series_has_only_the_groups_its_segments_counted_in() {
        let cells = HistogramCells::ZERO;
        assert_eq!(cells.grown_groups().count(), 0);
        // Two busy buckets of one group, a rows bucket, and segments that handed out
        // nothing or whose bytes were not counted: two groups.
        cells.add_busy(40, 3);
        cells.add_busy(41, 1);
        cells.add_rows(60, 2);
        cells.add_rows(NO_ROWS, 5);
        cells.add_allocated(NOT_COUNTED, 5);
        let grown: Vec<usize> = cells.grown_groups().map(|(first, _)| first).collect();
        assert_eq!(grown, [32, (TIME_BUCKETS + 60) / GROUP * GROUP]);
        let mut counts = Vec::new();
        cells.read_counts(&mut counts, &None);
        assert_eq!(counts, [(40, 3), (41, 1), ((TIME_BUCKETS + 60) as u16, 2)]);
    }

    #[test]
    fn threads_growing_a_group_at_once_count_in_the_one_that_stays() {
        // Rounds of fresh cells, four threads let go at once to count in every bucket,
        // each group grown by whichever comes first: a count in a group that did not stay
        // would be missing.
        const THREADS: u64 = 4;
        let expected: Vec<(u16, u64)> = (0..TIME_BUCKETS)
            .map(|bucket| (bucket as u16, THREADS))
            .chain((0..ROW_BUCKETS).map(|bucket| ((TIME_BUCKETS + bucket) as u16, 2 * THREADS)))
            .collect();
        for round in 0..50 {
            let cells = HistogramCells::ZERO;
            let start = std::sync::Barrier::new(THREADS as usize);
            std::thread::scope(|scope| {
                for _ in 0..THREADS {
                    scope.spawn(|| {
                        start.wait();
                        for bucket in 0..TIME_BUCKETS {
                            cells.add_busy(bucket, 1);
                        }
                        for bucket in 0..ROW_BUCKETS {
                            cells.add_rows(bucket, 2);
                        }
                    });
                }
            });
            let mut counts = Vec::new();
            cells.read_counts(&mut counts, &None);
            assert_eq!(counts, expected, "round {round}");
        }
    }

    #[test]
    fn each_value_falls_in_the_bucket_that_starts_at_or_below_it() {
        let mut previous = 0;
        for value in (0..5000u64).chain([1 << 20, (1 << 20) + 12345, u32::MAX as u64]) {
            let index = bucket(value, usize::MAX);
            assert!(bucket_start(index) <= value, "{value} in {index}");
            assert!(value < bucket_start(index + 1), "{value} in {index}");
            if value < 5000 {
                assert!(index >= previous);
                previous = index;
            }
        }
        assert_eq!((bucket(7, 100), bucket(8, 100), bucket(9, 100)), (7, 8, 8));
        // A bucket spans at most a quarter of its octave.
        for index in 8..ROW_BUCKETS {
            let (start, end) = (bucket_start(index), bucket_start(index + 1));
            assert!((end - start) * 4 <= start, "{index}: {start}..{end}");
        }
        assert_eq!(bucket(u64::MAX, TIME_BUCKETS), TIME_BUCKETS - 1);
        // `u64::MAX`'s half rounds up to 2⁶³: the bucket of 2⁶⁴, one past the buckets of
        // the values below it.
        assert_eq!(LAST_BUCKET, bucket_count(64));
        for shift in 0..64 {
            for value in [1u64 << shift, (1 << shift) - 1, (1 << shift) + 1] {
                let index = any_bucket(value);
                if value < EXACT_BELOW {
                    assert!(bucket_start(index) <= value, "{value} in {index}");
                    assert!(value < bucket_start(index + 1), "{value} in {index}");
                } else {
                    assert!(index <= LAST_BUCKET, "{value} in {index}");
                }
            }
        }
    }

    #[test]
    fn below_2_to_the_54_the_bucket_is_the_bit_scans() {
        // The definition by a bit scan: the octave of the value with bit `SUB_BITS` set,
        // and the value shifted to its leading `SUB_BITS + 1` bits.
        let scanned = |value: u64| {
            let shift = (value | SUBS as u64).ilog2() - SUB_BITS;
            shift as usize * SUBS + (value >> shift) as usize
        };
        let mut values: Vec<u64> = (0..=f64::MANTISSA_DIGITS)
            .flat_map(|shift| {
                let power = 1u64 << shift;
                [power - 1, power, power + 1, power + power / 3]
            })
            .collect();
        // xorshift: values of every size below `EXACT_BELOW`.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        values.extend((0..100_000).map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state >> (64 - EXACT_BELOW.ilog2() as u64 + state % 50)
        }));
        for value in values {
            assert!(value < EXACT_BELOW);
            assert_eq!(any_bucket(value), scanned(value), "{value}");
        }
        // From 2⁵⁴ up — and from 2⁶³ up, which a signed conversion of the value itself
        // would make negative — a bucket past every histogram's last, growing with the
        // value, and at most the last.
        let huge = [
            EXACT_BELOW,
            EXACT_BELOW + 1,
            (1 << 62) - 1,
            1 << 62,
            i64::MAX as u64,
            1 << 63,
            (1 << 63) + 1,
            u64::MAX - 1,
            u64::MAX,
        ];
        let mut previous = any_bucket(EXACT_BELOW - 1);
        for value in huge {
            let index = any_bucket(value);
            assert!(
                index >= TIME_BUCKETS.max(ROW_BUCKETS).max(MOST_ALLOCATED),
                "{value}"
            );
            assert!(
                (previous..=LAST_BUCKET).contains(&index),
                "{value} in {index}"
            );
            previous = index;
        }
    }

    #[test]
    fn a_bucket_past_32_bits_carries_and_readers_add_it() {
        let cells: &'static HistogramCells = Box::leak(Box::new(HistogramCells::ZERO));
        let bucket = bucket(1000, TIME_BUCKETS);
        cells.cell(bucket).store(u32::MAX - 1, Relaxed);
        for _ in 0..3 {
            cells.add_busy(bucket, 1);
            cells.add_rows(NO_ROWS, 1);
        }
        // Many at once, carrying again past 2 × 2³².
        cells.cell(bucket).store(u32::MAX - 10, Relaxed);
        cells.add_busy(bucket, 200);
        let mut counts = Vec::new();
        with_carried(|carried| cells.read_counts(&mut counts, carried));
        // No rows bucket: `NO_ROWS` counts nowhere.
        assert_eq!(counts, [(bucket as u16, (2 << 32) + 189)]);
    }

    #[test]
    fn sparse_buckets_add_in_order_and_drop_what_falls_to_zero() {
        let mut buckets = Buckets::default();
        for (index, added) in [(9, 2), (3, 1), (9, 1), (5, 4), (3, 0u64.wrapping_sub(1))] {
            buckets.add(index, added);
        }
        assert_eq!(buckets.0, [(5, 4), (9, 3)]);
        assert_eq!((buckets.get(9), buckets.get(3)), (3, 0));
    }

    #[test]
    fn buckets_add_and_remove_another_reading_bucket_by_bucket() {
        let earlier = Buckets(vec![(2, 5), (9, 1)]);
        let mut now = Buckets(vec![(2, 7), (4, 1)]);
        now.add_all(&earlier);
        assert_eq!(now.0, [(2, 12), (4, 1), (9, 1)]);
        now.remove_all(&earlier);
        assert_eq!(now.0, [(2, 7), (4, 1)], "a bucket back at zero is dropped");
    }
}
