//! [`Latest`]: a bounded ring of the latest items, and a count of those that rolled off
//! to make room — what the timeline's recorder keeps, and each operator's log lines; and
//! [`SharedLatest`], one behind a lock with its bound, for rings any thread pushes to.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// The latest items kept (at most the bound each push is given), oldest first, and how
/// many older ones rolled off.
#[derive(Debug, Clone)]
pub(crate) struct Latest<T> {
    kept: VecDeque<T>,
    rolled_off: u64,
}

impl<T> Default for Latest<T> {
    fn default() -> Self {
        Latest::new()
    }
}

impl<T> Latest<T> {
    /// None kept, none rolled off.
    pub(crate) const fn new() -> Latest<T> {
        Latest {
            kept: VecDeque::new(),
            rolled_off: 0,
        }
    }

    /// Keeps `item`, letting the oldest go (counted) when `bound` are kept already.
    pub(crate) fn push(&mut self, item: T, bound: usize) {
        if self.kept.len() >= bound {
            self.kept.pop_front();
            self.rolled_off += 1;
        }
        self.kept.push_back(item);
    }

    /// How many are kept, and how many rolled off.
    pub(crate) fn counts(&self) -> (usize, u64) {
        (self.kept.len(), self.rolled_off)
    }

    /// The items kept, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.kept.iter()
    }
}

impl<T: Clone> Latest<T> {
    /// The items kept, oldest first, and how many rolled off before them.
    pub(crate) fn read(&self) -> (Vec<T>, u64) {
        (self.kept.iter().cloned().collect(), self.rolled_off)
    }
}

/// A [`Latest`] behind a lock, with the bound every push keeps to: any thread may push
/// to it and read it.
#[derive(Debug)]
pub(crate) struct SharedLatest<T> {
    latest: Mutex<Latest<T>>,
    bound: usize,
}

impl<T> SharedLatest<T> {
    /// None kept, keeping at most `bound`.
    pub(crate) const fn new(bound: usize) -> SharedLatest<T> {
        SharedLatest {
            latest: Mutex::new(Latest::new()),
            bound,
        }
    }

    /// Keeps `item`, letting the oldest go (counted) past the bound.
    pub(crate) fn push(&self, item: T) {
        self.lock().push(item, self.bound);
    }

    /// How many are kept, and how many rolled off.
    pub(crate) fn counts(&self) -> (usize, u64) {
        self.lock().counts()
    }

    /// Keeps none, and counts none rolled off.
    pub(crate) fn clear(&self) {
        *self.lock() = Latest::new();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Latest<T>> {
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Clone> SharedLatest<T> {
    /// The items kept, oldest first, and how many rolled off before them.
    pub(crate) fn read(&self) -> (Vec<T>, u64) {
        self.lock().read()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_its_bound_the_oldest_go_and_are_counted() {
        let mut latest = Latest::new();
        for item in 0..7 {
            latest.push(item, 4);
        }
        assert_eq!(latest.read(), (vec![3, 4, 5, 6], 3));
        assert_eq!(latest.counts(), (4, 3));
    }

    #[test]
    fn a_shared_ring_keeps_its_bound_and_clears() {
        let shared = SharedLatest::new(2);
        for item in 0..5 {
            shared.push(item);
        }
        assert_eq!(shared.read(), (vec![3, 4], 3));
        shared.clear();
        assert_eq!(shared.counts(), (0, 0));
    }
}
