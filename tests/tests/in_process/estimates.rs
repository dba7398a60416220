//! Progress that propagates: a source says its total (rows, bytes or calls) and every
//! operator downstream gets an expected total from its inputs' and the selectivity or
//! amplification it showed so far; fractions never pass 100 % and never go back; the
//! overall line is the operator that will finish last.

use std::sync::{Mutex, MutexGuard};

use pipetel::snapshot::{Basis, Snapshot};
use pipetel::{current_operator, operator, Config};
use pipetel_tests::in_memory::start;

fn setup() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    start(|| Config::new().collect_locally(true));
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

const ROWS: u64 = 200_000;
const BATCH: u64 = 1_000;

#[operator(node_type = "scan", node_id = "estimates")]
fn scan(rows: u64) -> impl Iterator<Item = Vec<u64>> {
    current_operator().set_expected_rows(rows);
    (0..rows / BATCH).map(|batch| {
        // Some work, so that the rate is measured between the snapshots.
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_micros(300) {
            std::hint::spin_loop();
        }
        (batch * BATCH..(batch + 1) * BATCH).collect()
    })
}

#[operator(node_type = "filter", node_id = "estimates")]
fn filter(input: impl Iterator<Item = Vec<u64>>) -> impl Iterator<Item = Vec<u64>> {
    input.map(|batch| batch.into_iter().filter(|n| n % 3 == 0).collect())
}

#[operator(node_type = "explode", node_id = "estimates")]
fn explode(input: impl Iterator<Item = Vec<u64>>) -> impl Iterator<Item = Vec<u64>> {
    input.map(|batch| {
        batch
            .into_iter()
            .flat_map(|n| [n, n + 1, n + 2, n + 3])
            .collect()
    })
}

/// Hands out its groups once its input is done, as hash aggregates do.
#[operator(node_type = "aggregate", node_id = "estimates")]
fn aggregate(input: impl Iterator<Item = Vec<u64>>) -> impl Iterator<Item = Vec<u64>> {
    std::iter::once_with(move || {
        let mut sums = vec![0; 10];
        for batch in input {
            for n in batch {
                sums[(n % 10) as usize] += n;
            }
        }
        sums
    })
}

#[operator(node_type = "write", node_id = "estimates", rows_out = |_| 0u64)]
fn write(input: impl Iterator<Item = Vec<u64>>) -> u64 {
    input.map(|sums| sums.iter().sum::<u64>()).sum()
}

/// The expected total of `node_type`'s estimate, if it has one.
fn expected(snapshot: &Snapshot, node_type: &str) -> Option<(u64, Basis)> {
    let op = snapshot
        .operators
        .iter()
        .find(|op| op.node_type == node_type && op.node_id == "estimates")?;
    op.estimate
        .as_ref()
        .map(|estimate| (estimate.expected_rows, estimate.basis))
}

#[test]
fn totals_propagate_from_a_stated_source_through_selectivity_and_amplification() {
    pipetel_tests::own_process!();
    let _turn = setup();
    let mut quarter = None;
    let mut fractions: Vec<Vec<(String, f64)>> = Vec::new();
    let mut batches = 0;
    // A look between the scan and the filter, once per batch: at a quarter of the input,
    // and every tenth batch for the fractions.
    let watched = scan(ROWS).inspect(|_| {
        batches += 1;
        if batches % 10 == 0 || batches == ROWS / BATCH / 4 {
            let snapshot = pipetel::snapshot();
            fractions.push(
                snapshot
                    .operators
                    .iter()
                    .filter_map(|op| Some((op.node_type.clone(), op.estimate.as_ref()?.fraction)))
                    .collect(),
            );
            if batches == ROWS / BATCH / 4 {
                quarter = Some(snapshot);
            }
        }
    });
    write(aggregate(explode(filter(watched))));
    let quarter = quarter.expect("a snapshot at a quarter");

    // At a quarter of the input every total is known but the write's: the aggregate has
    // handed out nothing yet, so what it will hand out is not known.
    let kept = (0..ROWS).filter(|n| n % 3 == 0).count() as f64;
    for (node_type, exact, basis) in [
        ("scan", ROWS as f64, Basis::Rows),
        ("filter", ROWS as f64, Basis::Upstream),
        ("explode", kept, Basis::Upstream),
        ("aggregate", 4.0 * kept, Basis::Upstream),
    ] {
        let (estimated, found) =
            expected(&quarter, node_type).unwrap_or_else(|| panic!("{node_type}"));
        let error = (estimated as f64 - exact).abs() / exact;
        // One batch is on its way through the filter (counted in, not yet out): the
        // selectivity seen is off by up to one batch in fifty; the target is 10 %.
        assert!(
            error < 0.1,
            "{node_type}: {estimated} for {exact} ({error})"
        );
        assert_eq!(found, basis, "{node_type}");
    }
    assert_eq!(expected(&quarter, "write"), None);
    let overall = quarter.overall.expect("an overall line");
    assert!((0.2..0.3).contains(&overall.fraction), "{overall:?}");

    // Never over 100 %, never back.
    let mut last: std::collections::HashMap<String, f64> = Default::default();
    for sample in &fractions {
        for (node_type, fraction) in sample {
            assert!((0.0..=1.0).contains(fraction), "{node_type} {fraction}");
            let before = last.insert(node_type.clone(), *fraction).unwrap_or(0.0);
            assert!(
                *fraction >= before,
                "{node_type} went back: {before} → {fraction}"
            );
        }
    }
    // Done: every estimate at 100 % and nothing left to wait for.
    let done = pipetel::snapshot();
    for node_type in ["scan", "filter", "explode", "aggregate", "write"] {
        let op = done
            .operators
            .iter()
            .find(|op| op.node_type == node_type && op.node_id == "estimates")
            .unwrap();
        let estimate = op
            .estimate
            .as_ref()
            .unwrap_or_else(|| panic!("{node_type}"));
        assert_eq!(estimate.fraction, 1.0, "{node_type}: {estimate:?}");
        assert_eq!(estimate.eta, Some(std::time::Duration::ZERO), "{node_type}");
    }
}

#[operator(node_type = "read_file", node_id = "by-bytes")]
fn read_file(file: u64) -> Vec<u64> {
    let operator = current_operator();
    // 10 files of 8,000 bytes, each 1,000 rows of 8 bytes.
    operator.set_expected_bytes(10 * 8_000);
    operator.add_bytes_read(8_000);
    vec![file; 1_000]
}

#[operator(node_type = "read_part", node_id = "by-calls")]
fn read_part(part: u64) -> Vec<u64> {
    current_operator().set_expected_calls(8);
    vec![part; 500]
}

#[test]
fn a_source_that_states_bytes_or_calls_gets_its_rows_from_what_it_read_so_far() {
    pipetel_tests::own_process!();
    let _turn = setup();
    for file in 0..3 {
        read_file(file);
    }
    for part in 0..2 {
        read_part(part);
    }
    let snapshot = pipetel::snapshot();
    let estimate = |node_type: &str| {
        snapshot
            .operators
            .iter()
            .find(|op| op.node_type == node_type)
            .and_then(|op| op.estimate.clone())
            .unwrap_or_else(|| panic!("{node_type}"))
    };
    let by_bytes = estimate("read_file");
    assert_eq!(
        (by_bytes.rows, by_bytes.expected_rows, by_bytes.basis),
        (3_000, 10_000, Basis::Bytes)
    );
    assert!((by_bytes.fraction - 0.3).abs() < 1e-9);
    let by_calls = estimate("read_part");
    assert_eq!(
        (by_calls.rows, by_calls.expected_rows, by_calls.basis),
        (1_000, 4_000, Basis::Calls)
    );
}
