//! The partition slot: what each partition of an operator did (rows out, busy ticks),
//! for operators whose calls say which partition they belong to — not a series per
//! partition: the exported series stay `(node.type, node.id)`, and partitions are read
//! only for skew.
//!
//! Each thread finds its cells of a (series, partition) in a table of its own (one hash
//! lookup per segment of a partitioned call), with the partition's owner of blocks for
//! the tracking allocator (`counters::partition_owners`); every cells block is also
//! listed for readers. At most [`MAX_PARTITION_SLOTS`] blocks (one per series, partition
//! and thread) in a process; past it, partitions are not counted apart, with one warning
//! naming the limit.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use foldhash::fast::FixedState;

use crate::counters::cells::{Block, Zeroed};
use crate::warn::warn;

/// The most (operator, partition, thread) slots a process keeps (65,536): past it, new
/// partitions are not counted apart (their operators count as usual), with one warning
/// naming this limit.
pub const MAX_PARTITION_SLOTS: usize = 65_536;

/// No partition given.
pub(crate) const NO_PARTITION: u32 = u32::MAX;

/// One partition's counts of one series on one thread: rows out, busy ticks.
pub(crate) type PartitionCells = Block<2>;
pub(crate) const ROWS: usize = 0;
pub(crate) const BUSY_TICKS: usize = 1;

/// Every slot: (series, partition, cells).
static SLOTS: Mutex<Vec<(u32, u32, &'static PartitionCells)>> = Mutex::new(Vec::new());

/// A thread's cells of one partition of a series, and (tracking allocator) the owner
/// of the blocks the partition's calls allocate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PartitionSlot {
    pub(crate) cells: &'static PartitionCells,
    #[cfg(feature = "alloc")]
    pub(crate) owner: crate::counters::alloc_owner::Owner,
}

/// A thread's slots by (series, partition), hashed by foldhash with a fixed seed, as the
/// node-id cache is (`counters::node_id_cache`): the keys are the program's own numbers,
/// and a partitioned call looks its slot up each time (with the standard SipHash, 80
/// instructions more a call: about a fifth of the call's).
type Mine = HashMap<(u32, u32), PartitionSlot, FixedState>;

thread_local! {
    static MINE: RefCell<Mine> =
        const { RefCell::new(HashMap::with_hasher(FixedState::with_seed(0x7061_7274_6974_696f))) };
}

/// This thread's slot of `partition` of `series`; `None` past [`MAX_PARTITION_SLOTS`]
/// (or while the thread exits).
#[inline]
pub(crate) fn slot(series: u32, partition: u32) -> Option<PartitionSlot> {
    MINE.try_with(|mine| {
        if let Some(&slot) = mine.borrow().get(&(series, partition)) {
            return Some(slot);
        }
        let slot = PartitionSlot {
            cells: new_slot(series, partition)?,
            #[cfg(feature = "alloc")]
            owner: crate::counters::partition_owners::owner(series, partition),
        };
        mine.borrow_mut().insert((series, partition), slot);
        Some(slot)
    })
    .ok()
    .flatten()
}

#[cold]
fn new_slot(series: u32, partition: u32) -> Option<&'static PartitionCells> {
    let mut slots = SLOTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if slots.len() >= MAX_PARTITION_SLOTS {
        if slots.len() == MAX_PARTITION_SLOTS {
            warn(format_args!(
                "{MAX_PARTITION_SLOTS} (operator, partition, thread) slots are in use \
                 (pipetel::limits::MAX_PARTITION_SLOTS); further partitions are not counted apart"
            ));
            // Once: the list stays one longer than the limit.
            slots.push((
                u32::MAX,
                NO_PARTITION,
                Box::leak(Box::new(PartitionCells::ZERO)),
            ));
        }
        return None;
    }
    let cells: &'static PartitionCells = Box::leak(Box::new(PartitionCells::ZERO));
    slots.push((series, partition, cells));
    Some(cells)
}

/// For each series below `series_count` that has partitions: (partition, rows out, busy
/// ticks) summed over threads, in partition order.
pub(crate) fn read(series_count: usize) -> HashMap<u32, Vec<(u32, u64, u64)>> {
    read_where(|series| (series as usize) < series_count)
}

/// [`read`] of the series `ids` only.
pub(crate) fn read_of(ids: &HashSet<u32>) -> HashMap<u32, Vec<(u32, u64, u64)>> {
    read_where(|series| ids.contains(&series))
}

fn read_where(wanted: impl Fn(u32) -> bool) -> HashMap<u32, Vec<(u32, u64, u64)>> {
    let slots = SLOTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut sums: BTreeMap<(u32, u32), (u64, u64)> = BTreeMap::new();
    for &(series, partition, cells) in slots.iter() {
        if wanted(series) {
            let sum = sums.entry((series, partition)).or_default();
            sum.0 = sum.0.wrapping_add(cells.get_at(ROWS));
            sum.1 = sum.1.wrapping_add(cells.get_at(BUSY_TICKS));
        }
    }
    let mut by_series: HashMap<u32, Vec<(u32, u64, u64)>> = HashMap::new();
    for ((series, partition), (rows, busy)) in sums {
        by_series
            .entry(series)
            .or_default()
            .push((partition, rows, busy));
    }
    by_series
}
