//! [`Reading`]: everything the counters hold, read once — each series' sums, per-call
//! distributions and partitions, and each link's tallies — and what the readers of
//! lanes do with it: add every lane's series into its canonical one (the process's
//! totals), keep one run's lanes only, and take off what those lanes held before the
//! run (its view).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::counters::cells::{LinkTally, MAX_CUSTOM_COUNTERS};
use crate::counters::lanes::{Lane, NO_LANE};
use crate::counters::links::{self, Endpoint, Link};
use crate::counters::partitions;
use crate::counters::per_call::{self, PerCall, ThreadShare};
use crate::counters::registry::SeriesLabels;
use crate::counters::sums::{self, SeriesSums, Sums};

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
}

impl Reading {
    /// Reads series `0..series_count` and every link.
    pub(crate) fn read(series_count: usize) -> Reading {
        let sums = Sums::read(series_count);
        let per_call = per_call::read(series_count);
        let partitions = partitions::read(series_count);
        let all = links::all();
        let tallies = sums::read_links(all.len());
        Reading {
            sums,
            per_call,
            partitions,
            links: all.into_iter().zip(tallies).collect(),
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

    /// The reading of the series in `lanes` only (the others empty), with the links
    /// between them (and those from or to a channel, for the channels they used).
    pub(crate) fn of_lanes(&self, lanes: &[Lane], labels: &[SeriesLabels]) -> Reading {
        let kept: HashSet<u32> = labels
            .iter()
            .enumerate()
            .filter(|(_, labels)| labels.lane != NO_LANE && lanes.contains(&labels.lane))
            .map(|(series, _)| series as u32)
            .collect();
        let mut sums = self.sums.clone();
        sums.keep(|series| kept.contains(&(series as u32)));
        let per_call = self
            .per_call
            .iter()
            .enumerate()
            .map(|(series, read)| match kept.contains(&(series as u32)) {
                true => read.clone(),
                false => PerCall::default(),
            })
            .collect();
        let partitions = self
            .partitions
            .iter()
            .filter(|(series, _)| kept.contains(series))
            .map(|(series, parts)| (*series, parts.clone()))
            .collect();
        let in_lanes = |endpoint: Endpoint| match endpoint {
            Endpoint::Operator(series) => Some(kept.contains(&series)),
            _ => None,
        };
        let links = self
            .links
            .iter()
            .filter(|(link, _)| match (in_lanes(link.from), in_lanes(link.to)) {
                (Some(from), Some(to)) => from && to,
                (Some(one), None) | (None, Some(one)) => one,
                (None, None) => false,
            })
            .cloned()
            .collect();
        Reading {
            sums,
            per_call,
            partitions,
            links,
        }
    }

    /// What was counted after `before` (an earlier reading of the same series), series by
    /// series and link by link.
    pub(crate) fn since(&self, before: &Reading) -> Reading {
        let mut sums = self.sums.clone();
        sums.take_off(&before.sums);
        let empty = PerCall::default();
        let per_call = self
            .per_call
            .iter()
            .enumerate()
            .map(|(series, now)| per_call_since(now, before.per_call.get(series).unwrap_or(&empty)))
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
        Reading {
            sums,
            per_call,
            partitions,
            links,
        }
    }

    /// `other`'s series and links added to this one's: readings of disjoint lanes, as
    /// one.
    pub(crate) fn add(&mut self, other: &Reading) {
        self.sums.add(&other.sums);
        if self.per_call.len() < other.per_call.len() {
            self.per_call
                .resize_with(other.per_call.len(), PerCall::default);
        }
        for (into, read) in self.per_call.iter_mut().zip(&other.per_call) {
            add_per_call(into, read);
        }
        for (series, parts) in &other.partitions {
            add_partitions(self.partitions.entry(*series).or_default(), parts);
        }
        let mut at: HashMap<(Endpoint, Endpoint), usize> = self
            .links
            .iter()
            .enumerate()
            .map(|(index, (link, _))| ((link.from, link.to), index))
            .collect();
        for (link, tallies) in &other.links {
            match at.get(&(link.from, link.to)) {
                // A link both lanes hold (one end in each): each reading has it whole.
                Some(_) => {}
                None => {
                    at.insert((link.from, link.to), self.links.len());
                    self.links.push((*link, *tallies));
                }
            }
        }
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

/// A reading of a few series (a lane's), kept between reads: only the series kept, by
/// id, so that what is kept costs what those series counted, not the process's size.
#[derive(Debug, Default, Clone)]
pub(crate) struct Kept {
    series: BTreeMap<u32, KeptSeries>,
    partitions: HashMap<u32, Vec<(u32, u64, u64)>>,
    links: Vec<(Link, LinkTallies)>,
}

#[derive(Debug, Clone)]
struct KeptSeries {
    sums: SeriesSums,
    custom: Option<[u64; MAX_CUSTOM_COUNTERS]>,
    per_call: PerCall,
}

impl Reading {
    /// The series `keep` says yes to, as [`Kept`] (those that counted something or hold
    /// distributions), with all of this reading's partitions of them and its links.
    pub(crate) fn kept(&self, keep: impl Fn(u32) -> bool) -> Kept {
        let series = (0..self.sums.len())
            .filter(|&series| keep(series as u32))
            .filter(|&series| {
                !self.sums.is_zero(series)
                    || self
                        .per_call
                        .get(series)
                        .is_some_and(|read| !read.busy.0.is_empty() || !read.slowest.is_empty())
            })
            .map(|series| {
                let (sums, custom) = self.sums.entry(series);
                let per_call = self.per_call.get(series).cloned().unwrap_or_default();
                (
                    series as u32,
                    KeptSeries {
                        sums,
                        custom,
                        per_call,
                    },
                )
            })
            .collect();
        Kept {
            series,
            partitions: self
                .partitions
                .iter()
                .filter(|(series, _)| keep(**series))
                .map(|(series, parts)| (*series, parts.clone()))
                .collect(),
            links: self.links.clone(),
        }
    }
}

impl Kept {
    /// As a reading of series `0..series_count` (the others empty).
    pub(crate) fn reading(&self, series_count: usize) -> Reading {
        let mut sums = Sums::zero(series_count);
        let mut per_call = vec![PerCall::default(); series_count];
        for (&series, kept) in &self.series {
            sums.set(series as usize, kept.sums, kept.custom);
            if let Some(slot) = per_call.get_mut(series as usize) {
                *slot = kept.per_call.clone();
            }
        }
        Reading {
            sums,
            per_call,
            partitions: self.partitions.clone(),
            links: self.links.clone(),
        }
    }

    /// `other` (of other series) added to this one.
    pub(crate) fn add(&mut self, other: &Kept, series_count: usize) {
        let mut reading = self.reading(series_count);
        reading.add(&other.reading(series_count));
        *self = reading.kept(|_| true);
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
    for &(index, count) in &read.busy.0 {
        into.busy.add(index as usize, count);
    }
    for &(index, count) in &read.rows.0 {
        into.rows.add(index as usize, count);
    }
    for segment in &read.slowest {
        if !into.slowest.contains(segment) {
            into.slowest.push(*segment);
        }
    }
    into.slowest
        .sort_by_key(|segment| std::cmp::Reverse(segment.ticks));
    into.slowest
        .truncate(crate::counters::slowest::SLOWEST_CALLS);
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
    for &(index, count) in &before.busy.0 {
        since.busy.add(index as usize, count.wrapping_neg());
    }
    for &(index, count) in &before.rows.0 {
        since.rows.add(index as usize, count.wrapping_neg());
    }
    since
        .slowest
        .retain(|segment| !before.slowest.contains(segment));
    since.threads = now
        .threads
        .iter()
        .map(
            |share| match before.threads.iter().find(|had| had.thread == share.thread) {
                Some(had) => ThreadShare {
                    thread: share.thread.clone(),
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
