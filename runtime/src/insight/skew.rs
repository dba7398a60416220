//! Skew: how unevenly an operator's rows, busy time and (tracking allocator) peak memory
//! spread over the threads that ran it, or over the partitions its calls said they
//! belong to — min, median and max with the max's thread or partition named, and a
//! score.
//!
//! The score is DataFusion's `output_rows_skew` (DataFusion 55,
//! `BaselineMetrics::output_rows_skew_metric`), applied to rows and to busy time alike:
//! with `n` shares `x_i`, the effective parallelism is `(Σ x_i)² / Σ x_i²`, and the skew
//! is `1 − (effective − 1) / (n − 1)`, from 0 (even) to 1 (all in one share). Equal
//! counts give the score DataFusion prints for the same plan.

use crate::insight::snapshot::{Share, Skew, Spread};

impl Skew {
    /// The skew of `shares`, when there are at least two, with `values` as room to work
    /// (one buffer for all of a snapshot's operators).
    pub(crate) fn of(shares: &[Share], values: &mut Vec<u64>) -> Option<Skew> {
        let count = shares.len();
        if count < 2 {
            return None;
        }
        // Rows and busy time taken in one pass over the shares: a snapshot of many
        // operators on many threads has hundreds of thousands.
        values.clear();
        values.resize(2 * count, 0);
        let (rows, busy) = values.split_at_mut(count);
        let mut measured = false;
        for ((share, rows), busy) in shares.iter().zip(rows.iter_mut()).zip(busy.iter_mut()) {
            (*rows, *busy) = (share.rows, share.busy_ns);
            measured |= share.memory.is_some();
        }
        let rows = spread(shares, rows);
        let busy_ns = spread(shares, busy);
        let memory_peak = measured.then(|| {
            values.clear();
            values.extend(
                shares
                    .iter()
                    .map(|share| share.memory.as_ref().map_or(0, |memory| memory.peak)),
            );
            spread(shares, values)
        });
        Some(Skew {
            count,
            rows,
            busy_ns,
            memory_peak,
        })
    }
}

/// The spread of `values`, one a share of `shares` (two or more), reordered in the
/// selection of the median.
fn spread(shares: &[Share], values: &mut [u64]) -> Spread {
    // One pass for the least, the largest (the last share with the largest value is
    // named) and the sums the score needs, then the median, selected rather than sorted.
    let (mut min, mut max, mut max_at) = (u64::MAX, 0, 0);
    let (mut total, mut squares) = (0.0, 0.0);
    for (at, &value) in values.iter().enumerate() {
        min = min.min(value);
        if value >= max {
            (max, max_at) = (value, at);
        }
        // A signed conversion (one instruction; x86-64 has no unsigned one before
        // AVX-512), right for every value below 2⁶³; the rare larger ones are summed
        // again below.
        let float = value as i64 as f64;
        total += float;
        squares += float * float;
    }
    let skew = if i64::try_from(max).is_ok() {
        score_of(values.len(), total, squares)
    } else {
        score_below(values, max)
    };
    // Shares all alike (rows of equal partitions) need no selection.
    let median = if min == max {
        min
    } else {
        let mean = total / values.len() as f64;
        select_around(values, (values.len() - 1) / 2, mean as u64)
    };
    Spread {
        min,
        median,
        max,
        max_at: shares[max_at].at.clone(),
        skew,
    }
}

/// The value of rank `rank` in `values` (reordering them), split first at `pivot`: with
/// the mean as the pivot, which lies near the median in most spreads, the selection that
/// follows runs over about half the values. Any pivot gives the same value.
fn select_around(values: &mut [u64], rank: usize, pivot: u64) -> u64 {
    // The values below the pivot moved to the front, without a branch on each.
    let mut below = 0;
    for at in 0..values.len() {
        let less = values[at] < pivot;
        values.swap(at, below);
        below += usize::from(less);
    }
    if rank < below {
        *values[..below].select_nth_unstable(rank).1
    } else {
        *values[below..].select_nth_unstable(rank - below).1
    }
}

/// DataFusion's skew score of `values` (see the module docs).
pub fn skew_score(values: &[u64]) -> Option<f64> {
    score_below(values, values.iter().copied().max().unwrap_or(0))
}

/// [`skew_score`] of `values`, none of them above `max`.
fn score_below(values: &[u64], max: u64) -> Option<f64> {
    match values.len() {
        0 => None,
        1 => Some(0.0),
        n => {
            // Below 2⁶³ a value converts to an `f64` in one signed conversion; an
            // unsigned one takes several instructions (x86-64 has no unsigned conversion
            // before AVX-512), and a snapshot scores hundreds of thousands of values.
            let (total, squares) = if i64::try_from(max).is_ok() {
                sums(values, |v| v as i64 as f64)
            } else {
                sums(values, |v| v as f64)
            };
            score_of(n, total, squares)
        }
    }
}

/// The score of `n` values (two or more) from their sum and the sum of their squares.
pub(crate) fn score_of(n: usize, total: f64, squares: f64) -> Option<f64> {
    if total == 0.0 {
        return None;
    }
    let effective = total * total / squares;
    Some((1.0 - (effective - 1.0) / (n as f64 - 1.0)).clamp(0.0, 1.0))
}

/// The sum of `values` and of their squares, each converted by `float`.
#[inline(always)]
fn sums(values: &[u64], float: impl Fn(u64) -> f64) -> (f64, f64) {
    values.iter().fold((0.0, 0.0), |(total, squares), &v| {
        let v = float(v);
        (total + v, squares + v * v)
    })
}

/// `shares` less `earlier`'s (by thread or partition), leaving out those with nothing
/// in between.
pub(crate) fn since(shares: &[Share], earlier: &[Share]) -> Vec<Share> {
    shares
        .iter()
        .map(
            |share| match earlier.iter().find(|before| before.at == share.at) {
                Some(before) => Share {
                    at: share.at.clone(),
                    rows: share.rows.saturating_sub(before.rows),
                    busy_ns: share.busy_ns.saturating_sub(before.busy_ns),
                    memory: share.memory.as_ref().map(|memory| {
                        Box::new(match &before.memory {
                            Some(earlier) => memory.since(earlier),
                            None => **memory,
                        })
                    }),
                },
                None => share.clone(),
            },
        )
        .filter(|share| {
            share.rows > 0
                || share.busy_ns > 0
                || share.memory.as_ref().is_some_and(|m| m.allocations > 0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{select_around, skew_score};
    use crate::insight::snapshot::{Share, Skew};

    #[test]
    fn a_value_selected_around_any_pivot_is_the_one_of_its_rank() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for len in 1..70 {
            for spread in [3, 1_000, u64::MAX] {
                let values: Vec<u64> = (0..len).map(|_| next() % spread).collect();
                let mut sorted = values.clone();
                sorted.sort_unstable();
                let mean = (values.iter().map(|&v| v as f64).sum::<f64>() / len as f64) as u64;
                for pivot in [0, mean, sorted[len / 3], sorted[len - 1], u64::MAX, next()] {
                    for rank in [0, (len - 1) / 2, len - 1] {
                        let mut reordered = values.clone();
                        assert_eq!(
                            select_around(&mut reordered, rank, pivot),
                            sorted[rank],
                            "rank {rank} of {values:?} around {pivot}"
                        );
                        reordered.sort_unstable();
                        assert_eq!(reordered, sorted, "the same values");
                    }
                }
            }
        }
    }

    #[test]
    fn the_score_is_datafusions() {
        // DataFusion's documented examples.
        assert_eq!(skew_score(&[10, 10, 10, 10]), Some(0.0));
        assert_eq!(skew_score(&[40, 0, 0, 0]), Some(1.0));
        assert_eq!(skew_score(&[0, 0]), None);
        // One straggler with 10× the others of 8: effective parallelism 289/107.
        let score = skew_score(&[100, 10, 10, 10, 10, 10, 10, 10]).unwrap();
        let effective = 170.0f64 * 170.0 / (100.0 * 100.0 + 7.0 * 100.0);
        assert!((score - (1.0 - (effective - 1.0) / 7.0)).abs() < 1e-12);
        // Values from 2⁶³ up take the unsigned conversion, and score as the rest do.
        assert_eq!(skew_score(&[u64::MAX, u64::MAX]), Some(0.0));
        assert_eq!(skew_score(&[1 << 63, 0, 0]), Some(1.0));
    }

    #[test]
    fn a_spread_names_the_last_share_with_the_most() {
        let share = |at: &str, rows: u64, busy_ns: u64| Share {
            at: at.into(),
            rows,
            busy_ns,
            memory: None,
        };
        let shares = [
            share("a", 5, 0),
            share("b", 9, 0),
            share("c", 1, 0),
            share("d", 9, 0),
        ];
        let skew = Skew::of(&shares, &mut Vec::new()).expect("two or more");
        assert_eq!(skew.count, 4);
        let rows = &skew.rows;
        assert_eq!((rows.min, rows.median, rows.max), (1, 5, 9));
        assert_eq!(rows.max_at, "d");
        // All zero: the last share is named, and there is no score.
        let busy = &skew.busy_ns;
        assert_eq!(
            (busy.min, busy.median, busy.max, busy.max_at.as_str()),
            (0, 0, 0, "d")
        );
        assert_eq!(busy.skew, None);
        assert_eq!(skew.memory_peak, None, "no share has memory");
        assert!(Skew::of(&shares[..1], &mut Vec::new()).is_none());
        // Values from 2⁶³ up are scored as the rest are.
        let high = [share("a", 1 << 63, 0), share("b", 1 << 62, 0)];
        let skew = Skew::of(&high, &mut Vec::new()).expect("two or more");
        assert_eq!(skew.rows.skew, super::skew_score(&[1 << 63, 1 << 62]));
        assert!((skew.rows.skew.unwrap() - 0.2).abs() < 1e-12, "{skew:?}");
        let even = [share("a", u64::MAX, 1), share("b", u64::MAX, 1)];
        let skew = Skew::of(&even, &mut Vec::new()).expect("two or more");
        assert_eq!((skew.rows.skew, skew.busy_ns.skew), (Some(0.0), Some(0.0)));
    }

    #[test]
    fn a_share_since_an_earlier_keeps_what_it_allocated_in_between_and_holds_now() {
        use crate::insight::snapshot::Memory;
        let share = |at: &str, allocated: u64, live: u64| Share {
            at: at.into(),
            rows: 0,
            busy_ns: 0,
            memory: Some(Box::new(Memory {
                allocated,
                allocations: allocated / 8,
                live,
                peak: live,
                ..Memory::default()
            })),
        };
        let earlier = [share("0", 800, 800), share("1", 80, 80)];
        let now = [share("0", 1_600, 100), share("1", 80, 80), share("2", 8, 8)];
        let since = super::since(&now, &earlier);
        let since: Vec<(&str, u64, u64)> = since
            .iter()
            .map(|share| {
                let memory = share.memory.as_ref().expect("kept");
                (&*share.at, memory.allocated, memory.live)
            })
            .collect();
        // Partition 1 allocated nothing in between: left out, as a share with no work is.
        assert_eq!(since, [("0", 800, 100), ("2", 8, 8)]);
    }
}
