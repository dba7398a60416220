//! The owners of blocks allocated by one partition of an operator (tracking allocator,
//! feature `alloc`): a call that says its partition charges what it allocates to an
//! owner of the (series, partition) pair, so that what each partition allocated, holds
//! and held at most is measured apart — a hash join's one huge partition shows as such.
//!
//! Owners are the two-byte values the allocator writes in each block
//! (`counters::alloc_owner`): series use those below `MAX_SERIES`, `UNATTRIBUTED` the
//! next, and partitions the rest, given out as (series, partition) pairs first run, at
//! most [`MAX_PARTITION_OWNERS`]; past it, a new partition's blocks are its operator's
//! (counted for the operator, not apart), with one warning naming the limit.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::counters::alloc_owner::{self, Owner, UNATTRIBUTED};
use crate::warn::warn;

/// The most (operator, partition) pairs whose memory is measured apart (32,767: the
/// owner values left after every operator series' and the unattributed one); past it, a
/// new partition's memory counts for its operator only, with one warning naming this
/// limit.
pub const MAX_PARTITION_OWNERS: usize = Owner::MAX as usize - UNATTRIBUTED as usize;

/// The first partition owner.
const FIRST: Owner = UNATTRIBUTED + 1;

#[derive(Default)]
struct Owners {
    by_pair: HashMap<(u32, u32), Owner>,
    /// (series, partition) by owner, from [`FIRST`].
    pairs: Vec<(u32, u32)>,
}

static OWNERS: Mutex<Option<Owners>> = Mutex::new(None);

/// The owner of blocks allocated by partition `partition` of `series`: its own, or past
/// [`MAX_PARTITION_OWNERS`] the series'. Takes a lock: once per (series, partition,
/// thread), where the thread first finds its cells of the partition.
pub(crate) fn owner(series: u32, partition: u32) -> Owner {
    let mut owners = OWNERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let owners = owners.get_or_insert_with(Owners::default);
    if let Some(&owner) = owners.by_pair.get(&(series, partition)) {
        return owner;
    }
    if owners.pairs.len() >= MAX_PARTITION_OWNERS {
        if owners.pairs.len() == MAX_PARTITION_OWNERS {
            warn(format_args!(
                "{MAX_PARTITION_OWNERS} (operator, partition) pairs have their memory measured \
                 apart (pipetel::limits::MAX_PARTITION_OWNERS); the memory of further \
                 partitions counts for their operators only"
            ));
            // Once: the list stays one longer than the limit.
            owners.pairs.push((u32::MAX, u32::MAX));
        }
        return alloc_owner::of_series(series);
    }
    let owner = FIRST + owners.pairs.len() as Owner;
    owners.pairs.push((series, partition));
    owners.by_pair.insert((series, partition), owner);
    owner
}

/// Every partition owner given out: (owner, series, partition).
pub(crate) fn all() -> Vec<(Owner, u32, u32)> {
    let owners = OWNERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    owners.as_ref().map_or_else(Vec::new, |owners| {
        owners.pairs[..owners.pairs.len().min(MAX_PARTITION_OWNERS)]
            .iter()
            .enumerate()
            .map(|(at, &(series, partition))| (FIRST + at as Owner, series, partition))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_keeps_its_owner_and_owners_follow_the_series_and_unattributed() {
        let first = owner(7, 3);
        assert!(first > UNATTRIBUTED);
        assert_eq!(owner(7, 3), first, "asked again");
        let second = owner(7, 4);
        assert_ne!(second, first);
        let listed = all();
        assert!(listed.contains(&(first, 7, 3)) && listed.contains(&(second, 7, 4)));
    }
}
