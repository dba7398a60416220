//! Skew: how unevenly an operator's rows and busy time spread over the threads that ran
//! it, or over the partitions its calls said they belong to — min, median and max with
//! the max's thread or partition named, and a score.
//!
//! The score is DataFusion's `output_rows_skew` (DataFusion 55,
//! `BaselineMetrics::output_rows_skew_metric`), applied to rows and to busy time alike:
//! with `n` shares `x_i`, the effective parallelism is `(Σ x_i)² / Σ x_i²`, and the skew
//! is `1 − (effective − 1) / (n − 1)`, from 0 (even) to 1 (all in one share). Equal
//! counts give the score DataFusion prints for the same plan.

use crate::insight::snapshot::{Share, Skew, Spread};

impl Skew {
    /// The skew of `shares`, when there are at least two.
    pub(crate) fn of(shares: &[Share]) -> Option<Skew> {
        if shares.len() < 2 {
            return None;
        }
        Some(Skew {
            count: shares.len(),
            rows: spread(shares, |share| share.rows),
            busy_ns: spread(shares, |share| share.busy_ns),
        })
    }
}

fn spread(shares: &[Share], value: impl Fn(&Share) -> u64) -> Spread {
    let mut values: Vec<u64> = shares.iter().map(&value).collect();
    values.sort_unstable();
    let largest = shares
        .iter()
        .max_by_key(|share| value(share))
        .map(|share| share.at.to_string())
        .unwrap_or_default();
    Spread {
        min: values[0],
        median: values[(values.len() - 1) / 2],
        max: values[values.len() - 1],
        max_at: largest,
        skew: skew_score(&values),
    }
}

/// DataFusion's skew score of `values` (see the module docs).
pub fn skew_score(values: &[u64]) -> Option<f64> {
    match values.len() {
        0 => None,
        1 => Some(0.0),
        n => {
            let (total, squares) = values.iter().fold((0.0, 0.0), |(total, squares), &v| {
                let v = v as f64;
                (total + v, squares + v * v)
            });
            if total == 0.0 {
                return None;
            }
            let effective = total * total / squares;
            Some((1.0 - (effective - 1.0) / (n as f64 - 1.0)).clamp(0.0, 1.0))
        }
    }
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
                },
                None => share.clone(),
            },
        )
        .filter(|share| share.rows > 0 || share.busy_ns > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::skew_score;

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
    }
}
