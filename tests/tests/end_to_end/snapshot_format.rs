//! The snapshot format is versioned: a stored example of each version this release writes
//! (`tests/snapshots/schema-v*.json`, written by the main example with
//! `PIPETEL_REPORT=….json`) reads back, and writes back to the same text. A field added,
//! removed or renamed changes what this release writes: the round trip fails until the
//! example is written again — and, unless the change only adds a field with a default,
//! `SCHEMA_VERSION` is raised and the old example kept for the versions still read
//! (version 1, brought to this version as it is read).

use std::path::Path;

use pipetel::snapshot::{EdgeVia, FormatError, OperatorSnapshot, Snapshot, SCHEMA_VERSION};
use pipetel::Report;

fn stored(version: u32) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(format!("schema-v{version}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The main example's scan, in a snapshot of it.
fn scan_of(snapshot: &Snapshot) -> &OperatorSnapshot {
    snapshot
        .operators
        .iter()
        .find(|op| op.node_type == "scan")
        .expect("the scan")
}

#[test]
fn the_stored_example_of_this_version_reads_back_and_writes_back_the_same() {
    let text = stored(SCHEMA_VERSION);
    let snapshot = Snapshot::from_json(&text).expect("the stored example reads");
    assert_eq!(snapshot.schema_version, SCHEMA_VERSION);

    // What the main example counted, as the stored file says it.
    let scan = scan_of(&snapshot);
    assert_eq!((scan.rows.received, scan.rows.produced), (20_000, 20_000));
    assert_eq!(scan.step.as_deref(), Some("extract"));
    assert!(
        scan.distributions.busy_per_call.is_some(),
        "its per-call distribution"
    );
    assert!(snapshot
        .edges
        .iter()
        .any(|edge| edge.from.node_type == "scan" && edge.via == EdgeVia::Channel));
    assert!(!snapshot.steps.is_empty() && !snapshot.runs.is_empty());

    // Written again, it is the same text: no field this release writes is missing from
    // the example, and none of the example's is unknown to it.
    assert_eq!(
        Report::of(snapshot).json(),
        text.trim_end(),
        "the snapshot format changed: write tests/snapshots/schema-v{SCHEMA_VERSION}.json \
         again (ORDERS=20000 PIPETEL_REPORT=…/schema-v{SCHEMA_VERSION}.json, the tests' \
         quickstart binary), and raise SCHEMA_VERSION unless only a field with a default \
         was added"
    );
}

#[test]
fn a_snapshot_of_version_1_reads_as_this_version() {
    let text = stored(1);
    let snapshot = Snapshot::from_json(&text).expect("version 1 reads");
    assert_eq!(snapshot.schema_version, SCHEMA_VERSION);
    let scan = scan_of(&snapshot);
    assert_eq!((scan.rows.received, scan.rows.produced), (20_000, 20_000));
    // Its buckets, by index and in clock ticks there, are by start and in nanoseconds
    // here: as many segments, percentiles within the grid's quarter.
    let v1: serde_json::Value = serde_json::from_str(&text).expect("json");
    let v1_scan = v1["operators"]
        .as_array()
        .expect("operators")
        .iter()
        .find(|op| op["node_type"] == "scan")
        .expect("the scan");
    let v1_segments: u64 = v1_scan["distributions"]["buckets"]["busy"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|pair| pair[1].as_u64().expect("a count"))
        .sum();
    let buckets = &scan.distributions.buckets;
    assert_eq!(
        buckets.busy.iter().map(|(_, n)| n).sum::<u64>(),
        v1_segments
    );
    let busy = scan.distributions.busy_per_call.expect("percentiles");
    let v1_p99 = v1_scan["distributions"]["busy_per_call"]["p99"].clone();
    let v1_p99: std::time::Duration = serde_json::from_value(v1_p99).expect("a duration");
    assert!(
        busy.p99 <= v1_p99 && busy.p99 * 4 >= v1_p99 * 3,
        "{:?} against {v1_p99:?}",
        busy.p99
    );
    assert_eq!(
        scan.distributions.rows_per_call,
        serde_json::from_value(v1_scan["distributions"]["rows_per_call"].clone()).unwrap()
    );
    // Written again, it is of this version.
    assert!(Report::of(snapshot)
        .json()
        .contains(&format!("\"schema_version\": {SCHEMA_VERSION}")));
}

#[test]
fn a_snapshot_of_another_version_is_refused_not_misread() {
    let text = stored(SCHEMA_VERSION);
    let key = format!("\"schema_version\": {SCHEMA_VERSION}");
    assert!(text.contains(&key));
    let next = text.replacen(
        &key,
        &format!("\"schema_version\": {}", SCHEMA_VERSION + 1),
        1,
    );
    match Snapshot::from_json(&next) {
        Err(FormatError::Version { found, supported }) => {
            assert_eq!(
                (found, supported),
                (u64::from(SCHEMA_VERSION) + 1, SCHEMA_VERSION)
            );
        }
        other => panic!("read as {other:?}"),
    }
    let unversioned = text.replacen(&format!("{key},"), "", 1);
    let error = Snapshot::from_json(&unversioned).expect_err("no version");
    assert!(error.to_string().contains("schema_version"), "{error}");
    assert!(matches!(
        Snapshot::from_json("not json"),
        Err(FormatError::Json(_))
    ));
}
