//! An operator's memory in a snapshot, as the tracking allocator measured it (feature
//! `alloc`, `pipetel::alloc::Tracking` as the global allocator): the heap blocks it allocated, wherever they were freed.

use serde::{Deserialize, Serialize};

/// The heap memory charged to an operator (or to no operator: `unattributed`): the
/// blocks allocated while it ran on the allocating thread, wherever they were freed.
/// Bytes the caller asked for — the allocator's, not the process's resident memory.
///
/// In a [merged](crate::snapshot::Snapshot::merge) snapshot each figure is the sum over
/// processes; a merged `peak` is the sum of each process's peak, at least the highest the
/// job held at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Memory {
    /// Bytes allocated (a block grown counts its growth) ([`MEMORY_ALLOCATED`](crate::names::MEMORY_ALLOCATED)).
    pub allocated: u64,
    /// Bytes of its blocks freed, by any operator on any thread (a block shrunk counts
    /// what it gave back).
    pub freed: u64,
    /// Blocks allocated.
    pub allocations: u64,
    /// Blocks freed.
    pub frees: u64,
    /// Bytes held now: `allocated - freed` ([`MEMORY_LIVE`](crate::names::MEMORY_LIVE)).
    pub live: u64,
    /// The most it held: the highest `live` sampled each time it returns (a call, a
    /// poll, an item) and at each snapshot — a peak reached and given back inside one
    /// call is missed
    /// ([`MEMORY_PEAK`](crate::names::MEMORY_PEAK)).
    pub peak: u64,
    /// What it still held when it last returned from a call (a poll, an item) in which it
    /// allocated: the buffers it keeps between calls, or leaves behind.
    pub retained: u64,
}

impl Memory {
    /// `other` added to this (another series or process of the same operator).
    pub(crate) fn add(&mut self, other: &Memory) {
        self.allocated += other.allocated;
        self.freed += other.freed;
        self.allocations += other.allocations;
        self.frees += other.frees;
        self.live += other.live;
        self.peak += other.peak;
        self.retained += other.retained;
    }

    /// What was allocated and freed after `before` (an earlier snapshot of it); what it
    /// holds, its peak and what it retains are this one's.
    pub(crate) fn since(&self, before: &Memory) -> Memory {
        Memory {
            allocated: self.allocated.saturating_sub(before.allocated),
            freed: self.freed.saturating_sub(before.freed),
            allocations: self.allocations.saturating_sub(before.allocations),
            frees: self.frees.saturating_sub(before.frees),
            ..*self
        }
    }
}
