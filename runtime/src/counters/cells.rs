//! The cells of one operator series on one thread: its tallies (plain counters, summed
//! over threads by every reader) and, beside them, the step it last ran in (not a
//! counter: readers take the latest).
//!
//! Exactly one thread writes a block of cells (the thread that owns the shard it lives
//! in), so an update is a relaxed load and a relaxed store — no locked read-modify-write.
//! Readers load every shard's cells with relaxed loads.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::counters::step_slot::StepSlot;
use crate::names::{self, MetricName};

/// Defines [`Tally`] from one table: each tally once, with the metric it is exported as,
/// so that no tally can be exported under another's name.
macro_rules! tallies {
    ($($(#[$doc:meta])* $tally:ident => $metric:path,)*) => {
        /// What every operator series counts.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(usize)]
        pub(crate) enum Tally {
            $($(#[$doc])* $tally,)*
        }

        impl Tally {
            /// Every tally, in index order.
            pub(crate) const ALL: [Tally; Tally::COUNT] = [$(Tally::$tally,)*];
            /// How many tallies there are.
            pub(crate) const COUNT: usize = [$(stringify!($tally),)*].len();

            /// The metric this tally is exported as.
            pub(crate) const fn metric(self) -> MetricName {
                match self {
                    $(Tally::$tally => $metric,)*
                }
            }
        }
    };
}

tallies! {
    /// Rows received.
    RowsIn => names::ROWS_IN,
    /// Rows produced.
    RowsOut => names::ROWS_OUT,
    /// Rows written to a destination.
    RowsWritten => names::ROWS_WRITTEN,
    /// Bytes read.
    BytesRead => names::BYTES_READ,
    /// Bytes written.
    BytesWritten => names::BYTES_WRITTEN,
    /// Busy time in raw clock ticks (scaled to time at export).
    BusyTicks => names::DURATION,
    /// Calls running now: +1 on entry, −1 (a wrapping add) on exit.
    Active => names::TASK_ACTIVE,
    /// Calls that completed.
    Completed => names::TASK_COMPLETED,
    /// Calls that failed.
    Failed => names::TASK_FAILED,
    /// Calls that were cancelled.
    Cancelled => names::TASK_CANCELLED,
}

// Every tally is a sum, exported through an observable counter: none may be a histogram.
const _: () = {
    let mut index = 0;
    while index < Tally::COUNT {
        assert!(!matches!(
            Tally::ALL[index].metric().instrument,
            names::Instrument::Histogram
        ));
        index += 1;
    }
};

/// How many custom operator counters ([`OperatorCounter`](crate::OperatorCounter)) a
/// process can have.
pub(crate) const MAX_CUSTOM_COUNTERS: usize = 16;

/// A value whose all-zero form can be built at compile time: what a table of shards
/// allocates a chunk of.
pub(crate) trait Zeroed: Sized + 'static {
    /// The all-zero value.
    const ZERO: Self;
}

/// `N` counters of one series on one thread.
#[derive(Debug)]
pub(crate) struct Block<const N: usize>([AtomicU64; N]);

impl<const N: usize> Zeroed for Block<N> {
    const ZERO: Self = Block([const { AtomicU64::new(0) }; N]);
}

impl<const N: usize> Block<N> {
    /// Adds `n` to counter `index`. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn add_at(&self, index: usize, n: u64) {
        let cell = &self.0[index];
        cell.store(cell.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Reads counter `index` (any thread).
    #[inline]
    pub(crate) fn get_at(&self, index: usize) -> u64 {
        self.0[index].load(Relaxed)
    }
}

/// The built-in cells of one series on one thread.
#[derive(Debug)]
pub(crate) struct Cells {
    tallies: Block<{ Tally::COUNT }>,
    /// The step call the series last ran in on this thread.
    pub(crate) step: StepSlot,
}

impl Zeroed for Cells {
    const ZERO: Self = Cells {
        tallies: Block::ZERO,
        step: StepSlot::new(),
    };
}

impl Cells {
    /// Adds `n` to a tally. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn add(&self, tally: Tally, n: u64) {
        self.tallies.add_at(tally as usize, n);
    }

    /// Reads a tally (any thread).
    #[inline]
    pub(crate) fn get(&self, tally: Tally) -> u64 {
        self.tallies.get_at(tally as usize)
    }
}

/// The custom counters of one series on one thread.
pub(crate) type CustomCells = Block<MAX_CUSTOM_COUNTERS>;

#[cfg(test)]
mod tests {
    use super::Tally;
    use crate::names;

    #[test]
    fn the_public_list_of_operator_metrics_is_the_tallies_metrics_in_order() {
        assert_eq!(Tally::ALL.map(Tally::metric), names::OPERATOR_METRICS);
    }
}
