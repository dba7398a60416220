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
        if shares.len() < 2 {
            return None;
        }
        let measured = shares.iter().any(|share| share.memory.is_some());
        Some(Skew {
            count: shares.len(),
            rows: spread(shares, values, |share| share.rows),
            busy_ns: spread(shares, values, |share| share.busy_ns),
            memory_peak: measured.then(|| {
                spread(shares, values, |share| {
                    share.memory.as_ref().map_or(0, |memory| memory.peak)
                })
            }),
        })
    }
}

/// The spread of `value` over `shares` (two or more), with `values` as room to work.
fn spread(shares: &[Share], values: &mut Vec<u64>, value: impl Fn(&Share) -> u64) -> Spread {
    // The values first (no check of room per value), then one pass for the least and the
    // largest (the last share with the largest value is named) and the score, then the
    // median, selected rather than sorted.
    values.clear();
    values.extend(shares.iter().map(value));
    let (mut min, mut max, mut max_at) = (u64::MAX, 0, 0);
    for (at, &v) in values.iter().enumerate() {
        min = min.min(v);
        if v >= max {
            (max, max_at) = (v, at);
        }
    }
    let skew = score_below(values, max);
    let middle = (values.len() - 1) / 2;
    let (_, &mut median, _) = values.select_nth_unstable(middle);
    Spread {
        min,
        median,
        max,
        max_at: shares[max_at].at.clone(),
        skew,
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
            if total == 0.0 {
                return None;
            }
            let effective = total * total / squares;
            Some((1.0 - (effective - 1.0) / (n as f64 - 1.0)).clamp(0.0, 1.0))
        }
    }
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
    use super::skew_score;
    use crate::insight::snapshot::{Share, Skew};

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
