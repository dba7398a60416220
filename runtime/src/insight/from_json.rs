//! [`Snapshot::from_json`]: a snapshot read back from its JSON, of this release's format
//! or an earlier one (brought to this one), never misread.

use serde::Deserialize;
use serde_json::Value;

use crate::counters::histogram::bucket_start;
use crate::insight::distribution::in_nanoseconds;
use crate::insight::snapshot::{FormatError, Snapshot, SCHEMA_VERSION};

impl Snapshot {
    /// Reads a snapshot written by [`Report::json`](crate::Report::json) (or
    /// `PIPETEL_REPORT=….json`, `/api/snapshot.json`, a snapshot directory's files), of
    /// this release's format or an earlier one, refusing a version this release does not
    /// know rather than misreading it.
    ///
    /// ```
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let written = pipetel::report().json();
    /// let read = pipetel::snapshot::Snapshot::from_json(&written).unwrap();
    /// assert_eq!(read.schema_version, pipetel::snapshot::SCHEMA_VERSION);
    ///
    /// let future = written.replacen("\"schema_version\": 2", "\"schema_version\": 99", 1);
    /// let error = pipetel::snapshot::Snapshot::from_json(&future).unwrap_err();
    /// assert!(error.to_string().contains("schema_version 99"), "{error}");
    /// # drop(telemetry);
    /// ```
    pub fn from_json(text: &str) -> Result<Snapshot, FormatError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: u64,
        }
        // One parse for a snapshot of this version (the text read once: a merge reads
        // dozens of megabytes); the version alone, first, only for a text that does not
        // parse as one, so that another version is named rather than misread.
        let parsed = serde_json::from_str::<Snapshot>(text);
        let schema_version = match &parsed {
            Ok(snapshot) => u64::from(snapshot.schema_version),
            Err(_) => {
                let Version { schema_version } =
                    serde_json::from_str(text).map_err(FormatError::Json)?;
                schema_version
            }
        };
        match schema_version {
            found if found == u64::from(SCHEMA_VERSION) => parsed.map_err(FormatError::Json),
            1 => {
                let mut value: Value = serde_json::from_str(text).map_err(FormatError::Json)?;
                upgrade_from_1(&mut value);
                serde_json::from_value(value).map_err(FormatError::Json)
            }
            found => Err(FormatError::Version {
                found,
                supported: SCHEMA_VERSION,
            }),
        }
    }
}

/// Version 1's per-call buckets brought to this version's: they were (bucket index,
/// count) pairs, busy ones in clock ticks with the clock's `ns_per_tick`; they are
/// (bucket start, count), busy ones in nanoseconds on a fixed grid.
fn upgrade_from_1(snapshot: &mut Value) {
    snapshot["schema_version"] = Value::from(SCHEMA_VERSION);
    let Some(operators) = snapshot.get_mut("operators").and_then(Value::as_array_mut) else {
        return;
    };
    for operator in operators {
        let Some(buckets) = operator
            .pointer_mut("/distributions/buckets")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let ns_per_tick = buckets
            .remove("ns_per_tick")
            .and_then(|value| value.as_f64())
            .unwrap_or(1.0);
        let pairs = |value: Option<&Value>| -> Vec<(u32, u64)> {
            value
                .and_then(|value| serde_json::from_value(value.clone()).ok())
                .unwrap_or_default()
        };
        let busy = in_nanoseconds(&pairs(buckets.get("busy")), |ticks| {
            (ticks as f64 * ns_per_tick) as u64
        });
        let rows: Vec<(u64, u64)> = pairs(buckets.get("rows"))
            .into_iter()
            .map(|(index, n)| (bucket_start(index as usize), n))
            .collect();
        buckets.insert("busy".into(), serde_json::json!(busy));
        buckets.insert("rows".into(), serde_json::json!(rows));
    }
}
