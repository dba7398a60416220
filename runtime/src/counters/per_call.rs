//! What a snapshot reads beyond the sums, in one pass over the shards: each series'
//! per-call distributions (summed over threads), its slowest segments (the slowest of
//! every thread's), and its rows out and busy ticks on each thread (for skew).

use std::collections::BTreeMap;

use crate::counters::cells::Tally;
use crate::counters::histogram::{self, Buckets, ROW_BUCKETS, TIME_BUCKETS};
use crate::counters::shards;
use crate::counters::slowest::{SlowSegment, SLOWEST_CALLS};

/// What one thread (one shard) counted for a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ThreadShare {
    /// The thread's name (of the thread that has the shard now, or had it last).
    pub(crate) thread: String,
    pub(crate) rows_out: u64,
    pub(crate) busy_ticks: u64,
}

/// One series, read.
#[derive(Debug, Clone, Default)]
pub(crate) struct PerCall {
    pub(crate) busy: Buckets,
    pub(crate) rows: Buckets,
    /// The slowest segments, slowest first.
    pub(crate) slowest: Vec<SlowSegment>,
    /// Per thread that ran the series.
    pub(crate) threads: Vec<ThreadShare>,
}

/// Reads series `0..series_count`.
pub(crate) fn read(series_count: usize) -> Vec<PerCall> {
    let mut series: Vec<PerCall> = (0..series_count)
        .map(|_| PerCall {
            busy: Buckets(vec![0; TIME_BUCKETS]),
            rows: Buckets(vec![0; ROW_BUCKETS]),
            ..PerCall::default()
        })
        .collect();
    histogram::with_carried(|carried| {
        shards::for_each_shard(|shard| {
            let thread = shard.thread_name();
            // The shard's buckets and listed segments, read together (the owner may be
            // emptying its list into its buckets meanwhile).
            let counted = shard.segment_list().read_with(|listed| {
                let mut counted: BTreeMap<usize, (Vec<u64>, Vec<u64>)> = BTreeMap::new();
                let empty = || (vec![0; TIME_BUCKETS], vec![0; ROW_BUCKETS]);
                for (id, details) in shard.all_details(series_count) {
                    let (busy, rows) = counted.entry(id).or_insert_with(empty);
                    details.histogram.add_to(busy, rows, carried);
                }
                for segment in listed
                    .into_iter()
                    .filter(|segment| (segment.series as usize) < series_count)
                {
                    let (busy, rows) = counted.entry(segment.series as usize).or_insert_with(empty);
                    busy[histogram::bucket(segment.busy, TIME_BUCKETS)] += 1;
                    if let Some(handed) = segment.rows {
                        rows[histogram::bucket(handed, ROW_BUCKETS)] += 1;
                    }
                }
                counted
            });
            for (id, (busy, rows)) in counted {
                let read = &mut series[id];
                for (sum, n) in read.busy.0.iter_mut().zip(busy) {
                    *sum += n;
                }
                for (sum, n) in read.rows.0.iter_mut().zip(rows) {
                    *sum += n;
                }
            }
            for (id, details) in shard.all_details(series_count) {
                series[id].slowest.extend(details.slowest.read());
            }
            for (first, chunk) in shard.cell_chunks(series_count) {
                for (read, cells) in series[first..].iter_mut().zip(chunk) {
                    let (rows_out, busy_ticks) =
                        (cells.get(Tally::RowsOut), cells.get(Tally::BusyTicks));
                    if cells.get(Tally::Started) > 0 || busy_ticks > 0 || rows_out > 0 {
                        read.threads.push(ThreadShare {
                            thread: thread.clone(),
                            rows_out,
                            busy_ticks,
                        });
                    }
                }
            }
        })
    });
    for read in &mut series {
        read.slowest
            .sort_by(|a, b| b.ticks.cmp(&a.ticks).then(a.ended.cmp(&b.ended)));
        read.slowest.truncate(SLOWEST_CALLS);
    }
    series
}
