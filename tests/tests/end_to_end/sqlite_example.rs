//! The SQLite example, run as a child process: the rows in the SQLite file, the rows the
//! report counts, and the rows the generator made agree.

use std::time::Duration;

use pipetel::snapshot::Snapshot;
use pipetel_examples::orders_etl::is_malformed;
use pipetel_tests::{assert_success, run};

const PROGRAM: &str = env!("CARGO_BIN_EXE_orders_etl");
const RECORDS: u64 = 10_000;

#[test]
fn the_sqlite_file_and_the_report_agree_with_the_source() {
    let dir = std::env::temp_dir().join(format!("pipetel-sqlite-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let database = dir.join("orders.db");
    let report = dir.join("report.json");
    let records = RECORDS.to_string();
    let output = run(
        PROGRAM,
        &[database.to_str().expect("utf-8")],
        &[
            ("RECORDS", records.as_str()),
            ("PIPETEL_REPORT", report.to_str().expect("utf-8")),
        ],
        Duration::from_secs(60),
    );
    assert_success(&output);
    let good = (0..RECORDS).filter(|id| !is_malformed(*id)).count() as u64;
    assert!(String::from_utf8_lossy(&output.stdout).contains(&format!("loaded {good} orders")));

    let connection = rusqlite::Connection::open(&database).expect("the database");
    let stored: i64 = connection
        .query_row("SELECT COUNT(*) FROM orders", [], |row| row.get(0))
        .expect("count");
    assert_eq!(stored as u64, good);

    let snapshot: Snapshot =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    let op = |node_type: &str| {
        snapshot
            .operators
            .iter()
            .find(|op| op.node_type == node_type)
            .expect(node_type)
    };
    assert_eq!(op("source").rows.produced, RECORDS);
    assert_eq!(
        (op("parse").rows.received, op("parse").rows.produced),
        (RECORDS, good)
    );
    assert_eq!(
        (op("sink").rows.received, op("sink").rows.written),
        (good, good)
    );
    assert_eq!(op("sink").step.as_deref(), Some("load"));
    let steps: Vec<(&str, u64)> = snapshot
        .steps
        .iter()
        .map(|s| (s.step.as_str(), s.rows))
        .collect();
    assert_eq!(
        steps,
        [("extract", RECORDS), ("normalize", good), ("load", good)]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
