//! The limits table (docs/limits.md): each limit with its value read from the constant
//! that sets it, and what happens past it.

use crate::__reference::format::{count, duration, percent};
use crate::counters::lanes::MAX_LANES;
use crate::counters::links::MAX_LINKS;
use crate::counters::partitions::MAX_PARTITION_SLOTS;
use crate::counters::registry::{
    DEFAULT_MAX_NODE_IDS_PER_TYPE, MAX_OPERATOR_SERIES, OVERFLOW_RESERVE,
};
use crate::export::call_distributions::MAX_HISTOGRAM_RECORDS;
use crate::export::cardinality::{SDK_DEFAULT_LIMIT, SDK_LIMIT};
use crate::insight::diagnoses::Thresholds;
use crate::insight::periodic::MAX_CPU_SHARE;
use crate::insight::run_views::RECENT_RUN_VIEWS;
use crate::insight::snapshot_dir::{SNAPSHOT_STALE_AFTER, SNAPSHOT_WRITE_INTERVAL};
use crate::timeline::{
    Slice, TIMELINE_SAMPLES, TIMELINE_SAMPLE_INTERVAL, TIMELINE_SLICES_PER_THREAD, TIMELINE_SPANS,
    TIMELINE_THREADS,
};

/// The table of limits on series and on what pipetel keeps, in Markdown: what is
/// limited, the limit, what happens past it. Rows of features not built are left out.
pub fn limits_markdown() -> String {
    let share = percent(MAX_CPU_SHARE);
    let after = 1.0 / MAX_CPU_SHARE;
    let slice = std::mem::size_of::<Slice>();
    let ring = (TIMELINE_SLICES_PER_THREAD * slice) as f64 / f64::from(1 << 20);
    let samples_span = TIMELINE_SAMPLE_INTERVAL * TIMELINE_SAMPLES as u32;
    let mut rows: Vec<[String; 3]> = vec![
        row(
            "`node.id` values per `node.type`",
            format!(
                "`Config::max_node_ids_per_type`, default {} (`DEFAULT_MAX_NODE_IDS_PER_TYPE`)",
                count(DEFAULT_MAX_NODE_IDS_PER_TYPE)
            ),
            "further ids of that type count under `node.id = \"other\"`; one warning per type",
        ),
        row(
            "operator series per process",
            format!(
                "`pipetel::limits::MAX_OPERATOR_SERIES` = {}",
                count(MAX_OPERATOR_SERIES)
            ),
            "new ids of every type count under `node.id = \"other\"` of their type; one warning",
        ),
        row(
            "node types past either limit",
            format!(
                "{} (each needs its `other` series)",
                count(OVERFLOW_RESERVE)
            ),
            "a further type past a limit counts nothing; one warning",
        ),
        row(
            "graph links (producer → consumer pairs, each side of a channel one)",
            format!("`pipetel::limits::MAX_LINKS` = {}", count(MAX_LINKS)),
            "new pairs are not recorded (the graph misses them); one warning",
        ),
        row(
            "runs and queries counting apart at once",
            format!("`pipetel::limits::MAX_LANES` = {}", count(MAX_LANES)),
            "a further run counts for the process only, with no view of its own, until one \
             ends; one warning",
        ),
        row(
            "views of ended runs and queries kept",
            format!(
                "`pipetel::limits::RECENT_RUN_VIEWS` = {}",
                count(RECENT_RUN_VIEWS)
            ),
            "older views roll off (`RunId::snapshot` gives `None`)",
        ),
        row(
            "a snapshot directory's files: how often written, when a process is taken for \
             stopped",
            format!(
                "`pipetel::limits::SNAPSHOT_WRITE_INTERVAL` = {}, and at most {share} of a core \
                 (after a snapshot that took `t`, the next after `{after} t`); \
                 `SNAPSHOT_STALE_AFTER` = {}, or three times the wait the file announced",
                duration(SNAPSHOT_WRITE_INTERVAL),
                duration(SNAPSHOT_STALE_AFTER)
            ),
            "a running process's file older than that (or whose process is gone from the \
             reader's host) is read as **partial**, its last figures kept",
        ),
        row(
            "(operator, partition, thread) slots",
            format!(
                "`pipetel::limits::MAX_PARTITION_SLOTS` = {}",
                count(MAX_PARTITION_SLOTS)
            ),
            "further partitions are not counted apart; one warning",
        ),
    ];
    #[cfg(feature = "alloc")]
    rows.push(row(
        "(operator, partition) pairs with memory measured apart (tracking allocator)",
        format!(
            "`pipetel::limits::MAX_PARTITION_OWNERS` = {}",
            count(crate::counters::partition_owners::MAX_PARTITION_OWNERS)
        ),
        "a further partition's memory counts for its operator only; one warning",
    ));
    rows.extend([
        row(
            "slices the timeline keeps per thread",
            format!(
                "`pipetel::limits::TIMELINE_SLICES_PER_THREAD` = {} ({slice} bytes each: \
                 {ring:.1} MiB a thread at most)",
                count(TIMELINE_SLICES_PER_THREAD)
            ),
            "older slices roll off; the written timeline counts them \
             (`otherData.slices_rolled_off`)",
        ),
        row(
            "runs and steps the timeline keeps",
            format!(
                "`pipetel::limits::TIMELINE_SPANS` = {}",
                count(TIMELINE_SPANS)
            ),
            "older ones roll off; the written timeline counts them \
             (`otherData.runs_and_steps_rolled_off`)",
        ),
        row(
            "samples of memory and progress the timeline keeps",
            format!(
                "`pipetel::limits::TIMELINE_SAMPLES` = {} (one every \
                 `TIMELINE_SAMPLE_INTERVAL` = {} at most: {} minutes)",
                count(TIMELINE_SAMPLES),
                duration(TIMELINE_SAMPLE_INTERVAL),
                samples_span.as_secs() / 60
            ),
            "older samples roll off; the written timeline counts them \
             (`otherData.samples_rolled_off`)",
        ),
        row(
            "threads the timeline keeps (an exited thread's slices stay)",
            format!(
                "`pipetel::limits::TIMELINE_THREADS` = {}",
                count(TIMELINE_THREADS)
            ),
            "a new thread takes the ring of the longest-exited one (its slices counted as \
             rolled off); with all alive, it records nothing",
        ),
    ]);
    #[cfg(feature = "html")]
    rows.push(row(
        "samples in the dashboard's memory lane",
        format!(
            "`pipetel::limits::MEMORY_LANE_SAMPLES` = {} (one per view, at most four a second)",
            count(crate::dashboard::memory_lane::MEMORY_LANE_SAMPLES)
        ),
        "older samples roll off",
    ));
    rows.extend([
        row(
            "values recorded into the `call.*` histograms per collection",
            format!(
                "`pipetel::limits::MAX_HISTOGRAM_RECORDS` = {}",
                count(MAX_HISTOGRAM_RECORDS as usize)
            ),
            "each bucket records its share, the rest over the next collections (counts stay \
             exact and lag); one warning",
        ),
        row(
            "the watcher's snapshots (for the diagnoses)",
            format!(
                "every `Thresholds::check_every` ({}), and at most {share} of one core \
                 (`insight::watch`): after a snapshot that took `t`, the next after at least \
                 `{after} t`",
                duration(Thresholds::default().check_every)
            ),
            "a stall is seen later on an engine whose snapshots are slow",
        ),
        row(
            "attribute sets per metric in the OpenTelemetry SDK",
            format!(
                "{} for pipetel's instruments (set by pipetel, above everything it counts); \
                 {} for a user's instruments from `pipetel::otel::meter` unless a view says \
                 otherwise",
                count(SDK_LIMIT),
                count(SDK_DEFAULT_LIMIT)
            ),
            "the SDK folds the rest into one point with `otel.metric.overflow=true`; pipetel \
             names the metric once",
        ),
    ]);
    let mut table = String::from("| limit | value | past it |\n|---|---|---|\n");
    for [limit, value, past] in rows {
        table.push_str(&format!("| {limit} | {value} | {past} |\n"));
    }
    table
}

/// A row: what is limited, the limit, what happens past it.
fn row(limit: &str, value: String, past: &str) -> [String; 3] {
    [limit.to_owned(), value, past.to_owned()]
}
