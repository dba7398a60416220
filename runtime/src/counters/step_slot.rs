//! The step an operator series last ran in, kept beside its tallies (not among them: a
//! step is not summed over threads). Each thread marks the step call it runs the
//! operator in; a reader takes the latest mark over all threads.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A step of a pipeline (or a step outside any run), as the run and step totals number
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct StepId(u32);

impl StepId {
    /// How many distinct steps a process can number (ids `0..MAX`): a [`StepCall`]
    /// keeps 24 bits for the id.
    pub(crate) const MAX: usize = 1 << 24;

    /// The step with index `index` in the totals, if it can be numbered.
    pub(crate) fn new(index: usize) -> Option<StepId> {
        (index < Self::MAX).then_some(StepId(index as u32))
    }

    /// The index in the totals.
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// One call of a step: which step, and when the call started (a process-wide sequence
/// number, 40 bits), packed so that a later call is a larger value. Zero is "no step".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct StepCall(u64);

impl StepCall {
    /// Not inside any step.
    pub(crate) const NONE: StepCall = StepCall(0);
    const ID_BITS: u32 = 24;
    const LAST_SEQUENCE: u64 = (1 << (64 - Self::ID_BITS)) - 1;

    /// The call of `step` numbered `sequence` (from 1; past 2⁴⁰ − 1 calls, later calls
    /// share the last number and the latest among them is any of them).
    pub(crate) fn new(sequence: u64, step: StepId) -> StepCall {
        let sequence = sequence.clamp(1, Self::LAST_SEQUENCE);
        StepCall(sequence << Self::ID_BITS | u64::from(step.0))
    }

    /// The packed value, for an atomic.
    pub(crate) fn to_bits(self) -> u64 {
        self.0
    }

    /// The call [`to_bits`](Self::to_bits) packed.
    pub(crate) fn from_bits(bits: u64) -> StepCall {
        StepCall(bits)
    }

    /// The step called, unless this is [`NONE`](Self::NONE).
    pub(crate) fn step(self) -> Option<StepId> {
        (self != Self::NONE).then_some(StepId((self.0 & ((1 << Self::ID_BITS) - 1)) as u32))
    }
}

/// Where one thread marks the step call it last ran a series in.
#[derive(Debug)]
pub(crate) struct StepSlot(AtomicU64);

impl StepSlot {
    /// A slot with no mark.
    pub(crate) const fn new() -> StepSlot {
        StepSlot(AtomicU64::new(0))
    }

    /// Marks `call`. Only the owning thread may call this.
    #[inline(always)]
    pub(crate) fn mark(&self, call: StepCall) {
        self.0.store(call.0, Relaxed);
    }

    /// The mark (any thread).
    #[inline]
    pub(crate) fn get(&self) -> StepCall {
        StepCall(self.0.load(Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::{StepCall, StepId};

    #[test]
    fn a_later_call_is_larger_whatever_the_steps() {
        let (first, second) = (StepId::new(7).unwrap(), StepId::new(2).unwrap());
        let earlier = StepCall::new(1, first);
        let later = StepCall::new(2, second);
        assert!(later > earlier && earlier > StepCall::NONE);
        assert_eq!(earlier.step(), Some(first));
        assert_eq!(later.step(), Some(second));
        assert_eq!(StepCall::NONE.step(), None);
        assert_eq!(StepId::new(StepId::MAX), None);
        let last = StepCall::new(u64::MAX, second);
        assert!(last > later && last.step() == Some(second));
    }
}
