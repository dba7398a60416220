//! The per-thread store every operator call writes and every reader sums.

#[cfg(feature = "alloc")]
pub(crate) mod alloc_owner;
pub(crate) mod cells;
pub(crate) mod details;
pub(crate) mod distinct;
pub(crate) mod histogram;
pub(crate) mod lanes;
pub(crate) mod links;
pub(crate) mod node_id_cache;
#[cfg(feature = "alloc")]
pub(crate) mod partition_owners;
pub(crate) mod partitions;
pub(crate) mod per_call;
pub(crate) mod reading;
pub(crate) mod registry;
pub(crate) mod running_steps;
pub(crate) mod segment_list;
pub(crate) mod shards;
pub(crate) mod slowest;
pub(crate) mod step_slot;
pub(crate) mod sums;
pub(crate) mod table;
pub(crate) mod thread_state;
