//! Which node of a plan raised an error: an `Err` batch travels up the plan, through the
//! wrapper of the node that raised it first and of each ancestor after, so the first
//! wrapper to see an error is its node's. That node's task fails; an ancestor that only
//! hands the error on counts no failure, and its task ends cancelled when DataFusion drops
//! it.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use datafusion::error::DataFusionError;

/// The errors seen in one plan, each with the position of the node that raised it.
///
/// An error is known by its root's message ([`DataFusionError::find_root`]): nodes that
/// hand an error on move it, share it (`DataFusionError::Shared`) or add context to it
/// (`DataFusionError::Context`), none of which changes the root. It holds one entry per
/// distinct error raised in the plan; a task stops at its first error, so there are at
/// most as many as the plan ran tasks.
#[derive(Debug, Default)]
pub(crate) struct Failures {
    raised: Mutex<HashMap<String, u64>>,
}

impl Failures {
    /// Whether the node at `position`, whose descendants are at `descendants`, raised
    /// `error` itself: it did unless one of its descendants saw the error first.
    pub(crate) fn raised_by(
        &self,
        error: &DataFusionError,
        position: u64,
        descendants: &Range<u64>,
    ) -> bool {
        let message = error.find_root().to_string();
        let mut raised = self.raised.lock().unwrap_or_else(PoisonError::into_inner);
        let first = *raised.entry(message).or_insert(position);
        !descendants.contains(&first)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn the_first_node_to_see_an_error_raised_it_and_its_ancestors_hand_it_on() {
        let failures = Failures::default();
        let cast = || DataFusionError::Execution("Cannot cast string 'SHIP'".into());
        // The projection at 3 (no children) sees it first, in two of its partitions.
        assert!(failures.raised_by(&cast(), 3, &(4..4)));
        assert!(failures.raised_by(&cast(), 3, &(4..4)));
        // A repartition at 2 hands it on shared, the root at 0 with context added.
        let shared = DataFusionError::Shared(Arc::new(cast()));
        assert!(!failures.raised_by(&shared, 2, &(3..4)));
        let context = DataFusionError::Context("running the query".into(), Box::new(shared));
        assert!(!failures.raised_by(&context, 0, &(1..4)));
        // A node beside the projection (at 5, not above it) raising the same message
        // raised its own.
        assert!(failures.raised_by(&cast(), 5, &(6..6)));
        // Another error, first seen at the root: the root's.
        let other = DataFusionError::Execution("out of memory".into());
        assert!(failures.raised_by(&other, 0, &(1..4)));
    }
}
