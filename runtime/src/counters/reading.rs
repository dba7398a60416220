//! [`Reading`]: everything the counters hold, read once — each series' sums, per-call
//! distributions and partitions, and each link's tallies — and what the readers of
//! lanes do with it: add every lane's series into its canonical one (the process's
//! totals), keep one run's lanes only, and take off what those lanes held before the
//! run (its view).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::counters::cells::LinkTally;
use crate::counters::links::{self, Endpoint, Link};
use crate::counters::partitions;
use crate::counters::per_call::{self, PerCall};
use crate::counters::registry::SeriesLabels;
use crate::counters::shards;
use crate::counters::slowest;
use crate::counters::sums::{self, SeriesSums, Sums, ThreadShare};

/// One link's tallies.
pub(crate) type LinkTallies = [u64; LinkTally::COUNT];

/// Every series and link, read.
#[derive(Debug, Default, Clone)]
pub(crate) struct Reading {
    pub(crate) sums: Sums,
    /// By series id.
    pub(crate) per_call: Vec<PerCall>,
    /// By series: (partition, rows out, busy ticks), in partition order.
    pub(crate) partitions: HashMap<u32, Vec<(u32, u64, u64)>>,
    /// Every link recorded, with its tallies.
    pub(crate) links: Vec<(Link, LinkTallies)>,
    /// The name of each thread a share counts (`ThreadShare::thread`), as read with them.
    pub(crate) thread_names: Vec<Arc<str>>,
}

impl Reading {
    /// Reads series `0..series_count` and every link.
    pub(crate) fn read(series_count: usize) -> Reading {
        let (sums, shares) = Sums::read_with_shares(series_count);
        let mut per_call = per_call::read(series_count);
        for (read, shares) in per_call.iter_mut().zip(shares) {
            read.threads = shares;
        }
        let partitions = partitions::read(series_count);
        let all = links::all();
        let tallies = sums::read_links(all.len());
        Reading {
            sums,
            per_call,
            partitions,
            links: all.into_iter().zip(tallies).collect(),
            thread_names: shards::thread_names(),
        }
    }

    /// The process's totals: each lane series added into its canonical series and
    /// emptied, and links between lane series moved to their canonical ends (links that
    /// meet there add up).
    pub(crate) fn fold_lanes(&mut self, labels: &[SeriesLabels]) {
        let canonical = |series: u32| {
            labels
                .get(series as usize)
                .map_or(series, |labels| labels.canonical)
        };
        if !fold_lanes(
            &mut self.sums,
            &mut self.per_call,
            &mut self.partitions,
            labels,
        ) {
            return;
        }
        let mut merged: Vec<(Link, LinkTallies)> = Vec::with_capacity(self.links.len());
        let mut at: HashMap<(Endpoint, Endpoint), usize> = HashMap::new();
        for (link, tallies) in self.links.drain(..) {
            let end = |endpoint| match endpoint {
                Endpoint::Operator(series) => Endpoint::Operator(canonical(series)),
                other => other,
            };
            let link = Link {
                from: end(link.from),
                to: end(link.to),
                via: link.via,
            };
            match at.get(&(link.from, link.to)) {
                Some(&index) => {
                    let (kept, sum) = &mut merged[index];
                    // A stated link stays stated (`links::resolve`).
                    kept.via = kept.via.max(link.via);
                    add_tallies(sum, &tallies);
                }
                None => {
                    at.insert((link.from, link.to), merged.len());
                    merged.push((link, tallies));
                }
            }
        }
        self.links = merged;
    }
}

/// Adds each lane series into its canonical series and empties it — sums, per-call
/// reads and partitions — as the exporters and the process's snapshot read them; whether
/// any series is in a lane.
pub(crate) fn fold_lanes(
    sums: &mut Sums,
    per_call: &mut [PerCall],
    partitions: &mut HashMap<u32, Vec<(u32, u64, u64)>>,
    labels: &[SeriesLabels],
) -> bool {
    let mut any = false;
    for (series, labels) in labels.iter().enumerate() {
        let (from, to) = (series, labels.canonical as usize);
        if from == to {
            continue;
        }
        any = true;
        if from < sums.len() && to < sums.len() {
            sums.move_into(from, to);
        }
        if from < per_call.len() && to < per_call.len() {
            let lane = std::mem::take(&mut per_call[from]);
            add_per_call(&mut per_call[to], &lane);
        }
        if let Some(parts) = partitions.remove(&(from as u32)) {
            add_partitions(partitions.entry(to as u32).or_default(), &parts);
        }
    }
    any
}

/// A reading of a few series (a lane's): only those series, by id, so that reading and
/// keeping it costs what those series counted, not the process's size.
#[derive(Debug, Default, Clone)]
pub(crate) struct Kept {
    series: BTreeMap<u32, KeptSeries>,
    partitions: HashMap<u32, Vec<(u32, u64, u64)>>,
    links: Vec<(Link, LinkTallies)>,
}

#[derive(Debug, Clone)]
struct KeptSeries {
    sums: SeriesSums,
    per_call: PerCall,
}

impl Kept {
    /// Reads the series `ids` (each below `series_count`) from every shard, with their
    /// partitions and the links from or to them.
    pub(crate) fn read(ids: &[u32], series_count: usize) -> Kept {
        let ids: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|&series| (series as usize) < series_count)
            .collect();
        let mut per_call = per_call::read_some(&ids, series_count);
        let mut sums = vec![SeriesSums::ZERO; ids.len()];
        let wanted: HashSet<u32> = ids.iter().copied().collect();
        let touching = |endpoint: Endpoint| matches!(endpoint, Endpoint::Operator(series) if wanted.contains(&series));
        let links: Vec<(u32, Link)> = links::all()
            .into_iter()
            .enumerate()
            .filter(|(_, link)| touching(link.from) || touching(link.to))
            .map(|(id, link)| (id as u32, link))
            .collect();
        let mut link_tallies = vec![[0u64; LinkTally::COUNT]; links.len()];
        shards::for_each_shard(|shard| {
            for ((sum, read), &series) in sums.iter_mut().zip(&mut per_call).zip(&ids) {
                if let Some(cells) = shard.cells_if_grown(series) {
                    read.threads.extend(sum.add_cells(cells, shard.index()));
                }
            }
            for (sum, (id, _)) in link_tallies.iter_mut().zip(&links) {
                if let Some(cells) = shard.link_cells_if_grown(*id) {
                    sums::add_link_cells(sum, cells);
                }
            }
        });
        Kept {
            series: ids
                .iter()
                .zip(sums)
                .zip(per_call)
                .map(|((&series, sums), per_call)| (series, KeptSeries { sums, per_call }))
                .collect(),
            partitions: partitions::read_of(&wanted),
            links: links
                .into_iter()
                .map(|(_, link)| link)
                .zip(link_tallies)
                .collect(),
        }
    }

    /// Whether a call of these series runs now.
    pub(crate) fn running(&self) -> bool {
        self.series.values().any(|kept| kept.sums.active() > 0)
    }

    /// What was counted after `before` (an earlier reading of the same series), series by
    /// series and link by link; series and links that counted nothing since are left out.
    pub(crate) fn since(&self, before: &Kept) -> Kept {
        let empty = PerCall::default();
        let series = self
            .series
            .iter()
            .filter_map(|(&id, now)| {
                let (sums, per_call) = match before.series.get(&id) {
                    Some(earlier) => (
                        now.sums.since(&earlier.sums),
                        per_call_since(&now.per_call, &earlier.per_call),
                    ),
                    None => (now.sums, per_call_since(&now.per_call, &empty)),
                };
                let counted = !sums.is_zero() || !per_call.busy.0.is_empty();
                counted.then_some((id, KeptSeries { sums, per_call }))
            })
            .collect();
        let partitions = self
            .partitions
            .iter()
            .map(|(series, now)| {
                let earlier = before.partitions.get(series).map_or(&[][..], Vec::as_slice);
                let parts = now
                    .iter()
                    .map(|&(partition, rows, busy)| {
                        match earlier.iter().find(|(at, _, _)| *at == partition) {
                            Some(&(_, rows_before, busy_before)) => (
                                partition,
                                rows.wrapping_sub(rows_before),
                                busy.wrapping_sub(busy_before),
                            ),
                            None => (partition, rows, busy),
                        }
                    })
                    .filter(|&(_, rows, busy)| rows != 0 || busy != 0)
                    .collect();
                (*series, parts)
            })
            .collect();
        let links_before: HashMap<(Endpoint, Endpoint), &LinkTallies> = before
            .links
            .iter()
            .map(|(link, tallies)| ((link.from, link.to), tallies))
            .collect();
        let links = self
            .links
            .iter()
            .map(|(link, now)| {
                let mut tallies = *now;
                if let Some(earlier) = links_before.get(&(link.from, link.to)) {
                    for (tally, earlier) in tallies.iter_mut().zip(earlier.iter()) {
                        *tally = tally.wrapping_sub(*earlier);
                    }
                }
                (*link, tallies)
            })
            .collect();
        Kept {
            series,
            partitions,
            links,
        }
    }

    /// `other` (a reading of other series, a run started inside this one) added to this.
    /// A link both hold (one end in each) is counted once: each reading has it whole.
    pub(crate) fn add(&mut self, other: &Kept) {
        for (&id, kept) in &other.series {
            match self.series.get_mut(&id) {
                Some(into) => {
                    into.sums.add(&kept.sums);
                    add_per_call(&mut into.per_call, &kept.per_call);
                }
                None => {
                    self.series.insert(id, kept.clone());
                }
            }
        }
        for (series, parts) in &other.partitions {
            add_partitions(self.partitions.entry(*series).or_default(), parts);
        }
        let held: HashSet<(Endpoint, Endpoint)> = self
            .links
            .iter()
            .map(|(link, _)| (link.from, link.to))
            .collect();
        for (link, tallies) in &other.links {
            if !held.contains(&(link.from, link.to)) {
                self.links.push((*link, *tallies));
            }
        }
    }

    /// As a reading of series `0..series_count` (the others empty), for a snapshot.
    pub(crate) fn reading(&self, series_count: usize) -> Reading {
        let mut sums = Sums::zero(series_count);
        let mut per_call = vec![PerCall::default(); series_count];
        for (&series, kept) in &self.series {
            sums.set(series as usize, kept.sums);
            if let Some(slot) = per_call.get_mut(series as usize) {
                *slot = kept.per_call.clone();
            }
        }
        Reading {
            sums,
            per_call,
            partitions: self.partitions.clone(),
            links: self.links.clone(),
            // Now rather than when the series were read: a shard a new thread adopted
            // since shows the new thread's name.
            thread_names: shards::thread_names(),
        }
    }
}

fn add_tallies(sum: &mut LinkTallies, tallies: &LinkTallies) {
    for (sum, tally) in sum.iter_mut().zip(tallies) {
        *sum = sum.wrapping_add(*tally);
    }
}

fn add_partitions(into: &mut Vec<(u32, u64, u64)>, parts: &[(u32, u64, u64)]) {
    let mut by_partition: BTreeMap<u32, (u64, u64)> = into
        .iter()
        .map(|&(partition, rows, busy)| (partition, (rows, busy)))
        .collect();
    for &(partition, rows, busy) in parts {
        let sum = by_partition.entry(partition).or_default();
        sum.0 = sum.0.wrapping_add(rows);
        sum.1 = sum.1.wrapping_add(busy);
    }
    *into = by_partition
        .into_iter()
        .map(|(partition, (rows, busy))| (partition, rows, busy))
        .collect();
}

/// `read`'s counts added to `into`'s: buckets add, the slowest are the slowest of both,
/// shares add by thread.
fn add_per_call(into: &mut PerCall, read: &PerCall) {
    let counts = into.counts_mut();
    for (into, read) in counts.histograms_mut().into_iter().zip(read.histograms()) {
        into.add_all(read);
    }
    for segment in &read.slowest {
        if !counts.slowest.contains(segment) {
            counts.slowest.push(*segment);
        }
    }
    slowest::slowest_first(&mut counts.slowest);
    counts.slowest.truncate(slowest::SLOWEST_CALLS);
    for share in &read.threads {
        match into
            .threads
            .iter_mut()
            .find(|had| had.thread == share.thread)
        {
            Some(had) => {
                had.rows_out = had.rows_out.wrapping_add(share.rows_out);
                had.busy_ticks = had.busy_ticks.wrapping_add(share.busy_ticks);
            }
            None => into.threads.push(share.clone()),
        }
    }
}

/// What `now` counted after `before`: buckets less the earlier counts, the slowest that
/// were not among them, shares less the earlier by thread.
fn per_call_since(now: &PerCall, before: &PerCall) -> PerCall {
    let mut since = now.clone();
    let counts = since.counts_mut();
    for (since, before) in counts.histograms_mut().into_iter().zip(before.histograms()) {
        since.remove_all(before);
    }
    counts
        .slowest
        .retain(|segment| !before.slowest.contains(segment));
    since.threads = now
        .threads
        .iter()
        .map(
            |share| match before.threads.iter().find(|had| had.thread == share.thread) {
                Some(had) => ThreadShare {
                    thread: share.thread,
                    rows_out: share.rows_out.wrapping_sub(had.rows_out),
                    busy_ticks: share.busy_ticks.wrapping_sub(had.busy_ticks),
                },
                None => share.clone(),
            },
        )
        .filter(|share| share.rows_out != 0 || share.busy_ticks != 0)
        .collect();
    since
}
