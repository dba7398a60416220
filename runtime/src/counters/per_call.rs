//! What a snapshot reads beyond the sums, in one pass over the shards: each series'
//! per-call distributions (summed over threads), its slowest segments (the slowest of
//! every thread's), and its rows out and busy ticks on each thread (for skew).

use std::sync::Arc;

use crate::counters::cells::Tally;
use crate::counters::histogram::{self, Buckets, ROW_BUCKETS, TIME_BUCKETS};
use crate::counters::shards;
use crate::counters::slowest::{SlowSegment, SLOWEST_CALLS};

/// What one thread (one shard) counted for a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ThreadShare {
    /// The thread's name (of the thread that has the shard now, or had it last), shared
    /// by every series the thread ran.
    pub(crate) thread: Arc<str>,
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

/// One series' buckets as one shard holds them: a fixed-size entry of the scratch list
/// every shard is read into (no allocation per series).
struct ShardBuckets {
    series: usize,
    busy: [u64; TIME_BUCKETS],
    rows: [u64; ROW_BUCKETS],
}

impl ShardBuckets {
    fn new(series: usize) -> ShardBuckets {
        ShardBuckets {
            series,
            busy: [0; TIME_BUCKETS],
            rows: [0; ROW_BUCKETS],
        }
    }
}

/// A new zeroed entry for `series` at the end of `scratch`.
fn push_zeroed(scratch: &mut Vec<ShardBuckets>, series: usize) -> &mut ShardBuckets {
    scratch.push(ShardBuckets::new(series));
    let last = scratch.len() - 1;
    &mut scratch[last]
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
    // Reused for every shard (and every retry of one): the shard's buckets, then a
    // one-count entry per listed segment.
    let mut scratch: Vec<ShardBuckets> = Vec::new();
    histogram::with_carried(|carried| {
        shards::for_each_shard(|shard| {
            let thread: Arc<str> = Arc::from(shard.thread_name());
            // The shard's buckets and listed segments, read together (the owner may be
            // emptying its list into its buckets meanwhile).
            shard.segment_list().read_with(|listed| {
                scratch.clear();
                // Each entry is zeroed in place, then filled (no move of a filled one).
                for (id, details) in shard.all_details(series_count) {
                    let read = push_zeroed(&mut scratch, id);
                    details
                        .histogram
                        .add_to(&mut read.busy, &mut read.rows, carried);
                }
                for segment in listed
                    .into_iter()
                    .filter(|segment| (segment.series as usize) < series_count)
                {
                    let read = push_zeroed(&mut scratch, segment.series as usize);
                    read.busy[histogram::bucket(segment.busy, TIME_BUCKETS)] += 1;
                    if let Some(handed) = segment.rows {
                        read.rows[histogram::bucket(handed, ROW_BUCKETS)] += 1;
                    }
                }
            });
            for counted in &scratch {
                let read = &mut series[counted.series];
                for (sum, n) in read.busy.0.iter_mut().zip(counted.busy) {
                    *sum += n;
                }
                for (sum, n) in read.rows.0.iter_mut().zip(counted.rows) {
                    *sum += n;
                }
            }
            for (id, details) in shard.all_details(series_count) {
                details.slowest.read_into(&mut series[id].slowest);
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
