//! Two ways of running the same work timed in alternating rounds of one process, for the
//! engines' on/off benchmarks (pipetel-datafusion's and pipetel-datafusion-distributed's
//! `benches/queries.rs` include this file).
//!
//! Not criterion's sampling, on purpose: criterion measures one function, then the next,
//! so drift on a shared machine (another build, a frequency change) lands in the ratio.
//! Here each round runs both, the order alternating by round, and the ratio is the median
//! of the per-round ratios.

use std::time::Duration;

/// What [`interleaved`] measured: the median time of each, and the median ratio.
pub struct Interleaved {
    pub plain: Duration,
    pub measured: Duration,
    pub ratio: f64,
}

/// Runs `plain` and `measured` twice each to warm up, then in `rounds` rounds, each
/// function timing one run of its work.
pub fn interleaved(
    rounds: usize,
    mut plain: impl FnMut() -> Duration,
    mut measured: impl FnMut() -> Duration,
) -> Interleaved {
    for _ in 0..2 {
        plain();
        measured();
    }
    let (mut plain_times, mut measured_times, mut ratios) = (vec![], vec![], vec![]);
    for round in 0..rounds {
        let (p, m) = if round % 2 == 0 {
            let p = plain();
            (p, measured())
        } else {
            let m = measured();
            (plain(), m)
        };
        plain_times.push(p);
        measured_times.push(m);
        ratios.push(m.as_secs_f64() / p.as_secs_f64());
    }
    Interleaved {
        plain: median(&mut plain_times),
        measured: median(&mut measured_times),
        ratio: median(&mut ratios),
    }
}

fn median<T: PartialOrd + Copy>(values: &mut [T]) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    values[values.len() / 2]
}
