//! The noise test of a run-against-run diff: whether a quantile of a per-call
//! distribution moved between two runs by more than chance and the buckets' width allow.
//!
//! A quantile's true value is bracketed from the bucket counts alone, with no assumption
//! on the distribution's shape: for `n` calls, the `q`-quantile lies between the `l`-th
//! and `u`-th smallest calls with a probability the binomial distribution gives (order
//! statistics), and each of those calls lies in a known bucket, whose start and end bound
//! it. Two runs' intervals bound the ratio of their quantiles; a change is called only
//! when the whole interval of the ratio lies beyond [`MIN_FACTOR`] (or below its
//! inverse).

use serde::{Deserialize, Serialize};

/// The confidence of the interval each run's quantile is bracketed in: 99.9 %.
pub const CONFIDENCE: f64 = 0.999;

/// The smallest change called, as a ratio of the two runs' quantiles: 1.25, a quarter
/// more or a fifth less. The buckets are at most a quarter wide, so a smaller change
/// cannot be told apart on them; and two runs of the same code on one machine differ by
/// less than this in their fastest quarter of calls (BENCHMARKS.md).
pub const MIN_FACTOR: f64 = 1.25;

/// The quantile of busy time per call a diff judges: the 25th percentile, the edge of the
/// fastest quarter. A busy machine only adds to a call's time (a call descheduled
/// mid-way counts the wait as busy), and adds it to some calls far more than to others:
/// a median moved 3× between two runs of the same code while another process competed
/// for the cores, and the fastest quarter did not move at all.
pub const JUDGED_QUANTILE: f64 = 0.25;

/// The two-sided normal quantile of [`CONFIDENCE`], for counts too large to sum the
/// binomial distribution term by term.
const Z: f64 = 3.290_526_731_491_926;

/// Counts up to which the binomial distribution is summed exactly.
const EXACT_UP_TO: u64 = 20_000;

/// Whether a change was called, and which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// Higher after, beyond the noise: slower, or more memory.
    Higher,
    /// Lower after, beyond the noise.
    Lower,
    /// The interval of the ratio reaches into `1 / MIN_FACTOR ..= MIN_FACTOR`: no change
    /// can be told from chance and the buckets' width.
    WithinNoise,
    /// One run has too few calls to bracket the quantile at [`CONFIDENCE`] (27 for the
    /// 25th percentile, 11 for the median).
    TooFewCalls,
}

/// A quantile of one per-call distribution in two runs, and the verdict on its change.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Shift {
    /// The quantile judged, 0 to 1.
    pub quantile: f64,
    /// Its value before (the start of its bucket), in the distribution's unit
    /// (nanoseconds, rows, bytes).
    pub before: u64,
    /// Its value after.
    pub after: u64,
    /// The calls counted before and after.
    pub calls: (u64, u64),
    /// `after / before` (`None` when `before` is zero).
    pub ratio: Option<f64>,
    /// The interval the true ratio lies in at [`CONFIDENCE`] (`None` with too few calls;
    /// its end is infinite when `before` may be zero).
    pub interval: Option<(f64, f64)>,
    /// Whether the change was called.
    pub verdict: Verdict,
}

/// How a distribution's bucket starts map to the values they hold.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Grid {
    /// Busy nanoseconds: a start is at least 3/4 of the value it stands for, exact below
    /// 8 (see `insight::distribution`).
    Busy,
    /// Rows or bytes: starts with at most three significant bits, exact below 8.
    ThreeBits,
}

impl Grid {
    /// The least value above every value counted in the bucket that starts at `start`.
    fn end(self, start: u64) -> u64 {
        match self {
            Grid::Busy => (start.saturating_mul(4) / 3 + 1).max(10),
            Grid::ThreeBits if start < 8 => start + 1,
            Grid::ThreeBits => {
                let width = u64::BITS - start.leading_zeros();
                start.saturating_add(1 << (width - 3))
            }
        }
    }
}

impl Shift {
    /// The `quantile` of the per-call `before` and `after` buckets ((start, count)
    /// pairs, in any order), compared; `None` when either counted nothing.
    pub(crate) fn of(
        before: &[(u64, u64)],
        after: &[(u64, u64)],
        grid: Grid,
        quantile: f64,
    ) -> Option<Shift> {
        let (before, after) = (Counted::of(before)?, Counted::of(after)?);
        let (was, is) = (before.quantile(quantile), after.quantile(quantile));
        let bracket = |counted: &Counted| {
            let (lower, upper) = ranks(counted.total, quantile)?;
            Some((counted.at_rank(lower), grid.end(counted.at_rank(upper))))
        };
        let interval = match (bracket(&before), bracket(&after)) {
            (Some((was_low, was_high)), Some((is_low, is_high))) => Some((
                is_low as f64 / was_high as f64,
                if was_low == 0 {
                    f64::INFINITY
                } else {
                    is_high as f64 / was_low as f64
                },
            )),
            _ => None,
        };
        let verdict = match interval {
            None => Verdict::TooFewCalls,
            Some((low, _)) if low >= MIN_FACTOR => Verdict::Higher,
            Some((_, high)) if high <= 1.0 / MIN_FACTOR => Verdict::Lower,
            Some(_) => Verdict::WithinNoise,
        };
        Some(Shift {
            quantile,
            before: was,
            after: is,
            calls: (before.total, after.total),
            ratio: (was != 0).then(|| is as f64 / was as f64),
            interval,
            verdict,
        })
    }
}

/// Bucket counts in order of start, with their total.
struct Counted {
    pairs: Vec<(u64, u64)>,
    total: u64,
}

impl Counted {
    fn of(pairs: &[(u64, u64)]) -> Option<Counted> {
        let mut pairs: Vec<(u64, u64)> = pairs.iter().copied().filter(|p| p.1 > 0).collect();
        pairs.sort_unstable_by_key(|&(start, _)| start);
        let total = pairs.iter().map(|&(_, n)| n).sum();
        (total > 0).then_some(Counted { pairs, total })
    }

    /// The start of the bucket the `rank`-th smallest value (from 1) fell in.
    fn at_rank(&self, rank: u64) -> u64 {
        let mut seen = 0;
        for &(start, n) in &self.pairs {
            seen += n;
            if seen >= rank {
                return start;
            }
        }
        self.pairs.last().map_or(0, |&(start, _)| start)
    }

    /// The `q`-quantile, read as the report reads it: the bucket of rank `⌈q·n⌉`.
    fn quantile(&self, q: f64) -> u64 {
        self.at_rank(((q * self.total as f64).ceil() as u64).clamp(1, self.total))
    }
}

/// The ranks (from 1) of the order statistics that bracket the `q`-quantile of `n`
/// values at [`CONFIDENCE`]: the largest `l` with P(Bin(n, q) < l) ≤ α/2 and the smallest
/// `u` with P(Bin(n, q) ≥ u) ≤ α/2. `None` when no such ranks exist among `n`.
fn ranks(n: u64, q: f64) -> Option<(u64, u64)> {
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let (lower, upper) = if n <= EXACT_UP_TO {
        // P(Bin(n, q) ≤ k), k = 0, 1, …, from the terms' logarithms (no underflow).
        let (ln_q, ln_p) = (q.ln(), (1.0 - q).ln());
        let mut ln_term = n as f64 * ln_p;
        let mut below = 0.0; // P(Bin < k)
        let mut lower = 0;
        let mut upper = None;
        for k in 0..=n {
            if below <= tail {
                lower = k; // P(Bin < k) ≤ α/2: rank k qualifies (k = 0: none)
            }
            let at_most = below + ln_term.exp(); // P(Bin ≤ k)
            if upper.is_none() && at_most >= 1.0 - tail {
                upper = Some(k + 1); // P(Bin ≥ k + 1) ≤ α/2
            }
            below = at_most;
            if k < n {
                ln_term += ((n - k) as f64).ln() - ((k + 1) as f64).ln() + ln_q - ln_p;
            }
            if upper.is_some() && below > tail {
                break;
            }
        }
        (lower, upper.unwrap_or(n + 1))
    } else {
        let spread = Z * (n as f64 * q * (1.0 - q)).sqrt();
        let centre = n as f64 * q;
        (
            (centre - spread).floor().max(0.0) as u64,
            (centre + spread).ceil() as u64 + 1,
        )
    };
    (lower >= 1 && upper <= n).then_some((lower, upper))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranks_bracket_the_quantile_at_the_confidence() {
        // The median needs 11 values (two ends, each missed with probability 2^-11),
        // the 25th percentile 27 (0.75^27 < 0.0005 < 0.75^26).
        assert_eq!(ranks(10, 0.5), None);
        assert_eq!(ranks(11, 0.5), Some((1, 11)));
        assert_eq!(ranks(26, 0.25), None);
        assert_eq!(ranks(27, 0.25).map(|r| r.0), Some(1));
        // Wider than one rank either side, and around n·q.
        let (lower, upper) = ranks(1_000, 0.25).expect("enough");
        assert!(lower < 250 && 250 < upper, "{lower}..{upper}");
        // The normal approximation past the exact sums agrees with them near the seam.
        let exact = ranks(EXACT_UP_TO, 0.25).expect("enough");
        let normal = ranks(EXACT_UP_TO + 1, 0.25).expect("enough");
        assert!(exact.0.abs_diff(normal.0) <= 3 && exact.1.abs_diff(normal.1) <= 3);
        assert!(ranks(1 << 40, 0.5).is_some(), "a count too large to sum");
    }

    #[test]
    fn a_bucket_ends_where_its_values_do() {
        assert_eq!(Grid::ThreeBits.end(7), 8);
        assert_eq!(Grid::ThreeBits.end(8), 10);
        assert_eq!(Grid::ThreeBits.end(8_192), 10_240);
        assert_eq!(Grid::ThreeBits.end(14_336), 16_384);
        // A busy start is at least 3/4 of what it holds.
        assert!(Grid::Busy.end(1_500) > 2_000);
    }

    #[test]
    fn a_planted_slowdown_is_called_and_an_unchanged_run_is_not() {
        // 64 calls around 156 µs; after, the same three times slower.
        let before = [(147_456, 20), (155_648, 30), (163_840, 14)];
        let slower = [(442_368, 20), (458_752, 30), (491_520, 14)];
        let shift = Shift::of(&before, &slower, Grid::Busy, JUDGED_QUANTILE).expect("counted");
        assert_eq!(shift.verdict, Verdict::Higher, "{shift:?}");
        assert!(shift.ratio.expect("nonzero") > 2.9);
        let back = Shift::of(&slower, &before, Grid::Busy, JUDGED_QUANTILE).expect("counted");
        assert_eq!(back.verdict, Verdict::Lower, "{back:?}");
        // The same calls, a bucket apart (what the grid's width moves by), and a slow
        // half (a loaded machine): within noise.
        let nudged = [(155_648, 20), (163_840, 30), (180_224, 14)];
        let loaded = [(155_648, 24), (163_840, 8), (491_520, 32)];
        for after in [&before, &nudged, &loaded] {
            let shift = Shift::of(&before, after, Grid::Busy, JUDGED_QUANTILE).expect("counted");
            assert_eq!(shift.verdict, Verdict::WithinNoise, "{after:?}: {shift:?}");
        }
    }

    #[test]
    fn too_few_calls_are_not_judged() {
        let one = [(1_000_000, 1)];
        let shift = Shift::of(&one, &[(9_000_000, 1)], Grid::Busy, 0.5).expect("counted");
        assert_eq!(shift.verdict, Verdict::TooFewCalls);
        assert_eq!(shift.interval, None);
        assert_eq!(shift.ratio, Some(9.0));
        assert!(Shift::of(&[], &one, Grid::Busy, 0.5).is_none());
    }

    #[test]
    fn a_quantile_of_zero_before_has_no_ratio_and_an_open_interval() {
        let zero = [(0, 40)];
        let shift = Shift::of(&zero, &[(4_096, 40)], Grid::ThreeBits, 0.5).expect("counted");
        assert_eq!(shift.ratio, None);
        assert_eq!(shift.interval.map(|i| i.1), Some(f64::INFINITY));
        assert_eq!(shift.verdict, Verdict::Higher);
    }
}
