//! [`Snapshot::merge`]: the snapshots of the processes of one job as one snapshot —
//! counters, wait states, per-call buckets, edges and channels added; each operator's
//! work by process kept as its `workers` shares; the analyses run again on the whole.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::counters::slowest::SLOWEST_CALLS;
use crate::insight::diagnoses;
use crate::insight::look::Look;
use crate::insight::read_snapshot::{analyse, Skews};
use crate::insight::snapshot::{
    ChannelSnapshot, EdgeSnapshot, EdgeVia, Memory, NodeRef, OperatorSnapshot, RunSnapshot, Share,
    Snapshot, Source, StepSnapshot,
};
use crate::operator::engine_metrics;

impl Snapshot {
    /// The snapshots of several processes as one: what a job spread over them counted.
    ///
    /// Counters, wait states, steps and runs add; the per-call buckets add bucket by
    /// bucket (the merged p99 is the p99 of every call); edges add, and each process's
    /// channels are numbered anew. Each operator keeps what every process did for it
    /// (`skew.workers`, named by [`Source::name`]), its threads and partitions named
    /// `process/thread`, so skew and stragglers across processes read like those across
    /// threads. The rates, the estimates, the bottleneck, the conservation check and the
    /// diagnoses are computed again on the merged graph; [`sources`](Snapshot::sources)
    /// lists every process, with its state.
    ///
    /// Each process counts once: of several snapshots of one process (one
    /// `service.instance.id`: cumulative snapshots written again and again, or one file
    /// read twice), only the latest is taken. A snapshot that is itself a merge counts as
    /// one unit, with the same rule for the same set of processes; given beside a
    /// snapshot of one of its processes (a merged report saved into the directory it was
    /// made of), the unit of more processes is taken and the other left out. A snapshot
    /// with no source ([`Snapshot::since`] of merged ones) counts as it is.
    ///
    /// ```
    /// use pipetel::snapshot::Snapshot;
    /// let telemetry = pipetel::Config::new().collect_locally(true).init();
    /// let scan = pipetel::Operator::new("scan", "merge-doc");
    /// scan.iter(vec![vec![0u8; 5]]).for_each(drop);
    /// let first = pipetel::snapshot();
    /// scan.iter(vec![vec![0u8; 3]]).for_each(drop);
    /// let later = pipetel::snapshot();
    ///
    /// // Two snapshots of one process: the later one counts, once.
    /// let merged = Snapshot::merge([first, later.clone()]);
    /// let op = merged.operator("scan", "merge-doc").unwrap();
    /// assert_eq!(op.rows.produced, 8);
    /// assert_eq!(merged.sources, later.sources);
    /// # drop(telemetry);
    /// ```
    pub fn merge(snapshots: impl IntoIterator<Item = Snapshot>) -> Snapshot {
        let units = latest_per_process(snapshots);
        let several = units.len() > 1;
        let mut merged = Snapshot::default();
        let mut operators: HashMap<NodeRef, usize> = HashMap::new();
        let mut steps: HashMap<(Option<String>, String), usize> = HashMap::new();
        let mut runs: HashMap<String, usize> = HashMap::new();
        let mut edges: HashMap<(NodeRef, NodeRef, EdgeVia, Option<u32>), usize> = HashMap::new();
        for unit in units {
            let name = unit_name(&unit.sources);
            // A merged unit's shares are named by process already.
            let one_process = unit.sources.len() <= 1;
            let renamed = |shares: Vec<Share>| -> Vec<Share> {
                if !several || !one_process {
                    return shares;
                }
                shares
                    .into_iter()
                    .map(|share| Share {
                        at: format!("{name}/{}", share.at).into(),
                        ..share
                    })
                    .collect()
            };
            for mut op in unit.operators {
                op.skew.threads = renamed(std::mem::take(&mut op.skew.threads));
                op.skew.partitions = renamed(std::mem::take(&mut op.skew.partitions));
                if op.skew.workers.is_empty() {
                    op.skew.workers = vec![Share {
                        at: name.as_str().into(),
                        rows: op.rows.produced,
                        busy_ns: u64::try_from(op.time.busy.as_nanos()).unwrap_or(u64::MAX),
                        memory: op.memory.map(Box::new),
                    }];
                }
                add_or_push(
                    &mut merged.operators,
                    &mut operators,
                    op.node(),
                    op,
                    add_operator,
                );
            }
            for step in unit.steps {
                let key = (step.pipeline.clone(), step.step.clone());
                add_or_push(&mut merged.steps, &mut steps, key, step, add_step);
            }
            for run in unit.runs {
                let key = run.pipeline.clone();
                add_or_push(&mut merged.runs, &mut runs, key, run, add_run);
            }
            // A process's channels are its own: numbered anew, after those merged so far.
            let first_channel = merged.channels.len() as u32;
            let renumbered = |id: u32| first_channel + id;
            for channel in unit.channels {
                merged.channels.push(ChannelSnapshot {
                    id: renumbered(channel.id),
                    ..channel
                });
            }
            for mut edge in unit.edges {
                edge.channel = edge.channel.map(renumbered);
                let key = (edge.from.clone(), edge.to.clone(), edge.via, edge.channel);
                add_or_push(&mut merged.edges, &mut edges, key, edge, add_edge);
            }
            add_memory(&mut merged.unattributed_memory, unit.unattributed_memory);
            merged.sources.extend(unit.sources);
        }
        analyse(&mut merged, Look::Read, Skews::ToScore);
        merged.diagnoses = diagnoses::of_snapshot(&merged, &diagnoses::thresholds());
        merged
    }
}

/// `item` added (`add`) into the entry of `items` at `key`'s place in `at`, or pushed
/// as the first of its key: merged entries keep the order their keys first came.
fn add_or_push<K: std::hash::Hash + Eq, T>(
    items: &mut Vec<T>,
    at: &mut HashMap<K, usize>,
    key: K,
    item: T,
    add: fn(&mut T, T),
) {
    match at.entry(key) {
        Entry::Occupied(place) => add(&mut items[*place.get()], item),
        Entry::Vacant(place) => {
            place.insert(items.len());
            items.push(item);
        }
    }
}

/// Of the snapshots of one process (or one set of processes), the latest; then, where
/// units share a process (a merged snapshot given beside one of its processes' own),
/// the one of more processes, the others that share one of its processes left out — so
/// that no process counts twice, and none is lost. In the order each unit first came.
fn latest_per_process(snapshots: impl IntoIterator<Item = Snapshot>) -> Vec<Snapshot> {
    // (its processes, sorted; the snapshot), or no processes: counted as it is.
    let mut units: Vec<(Vec<String>, Snapshot)> = Vec::new();
    let mut by_processes: HashMap<Vec<String>, usize> = HashMap::new();
    for snapshot in snapshots {
        let mut processes: Vec<String> = snapshot
            .sources
            .iter()
            .map(|source| source.instance.clone())
            .collect();
        processes.sort_unstable();
        if processes.iter().any(String::is_empty) {
            processes.clear();
        }
        if processes.is_empty() {
            units.push((processes, snapshot));
            continue;
        }
        match by_processes.entry(processes.clone()) {
            Entry::Occupied(at) => {
                let kept = &mut units[*at.get()].1;
                if latest(&snapshot.sources) >= latest(&kept.sources) {
                    *kept = snapshot;
                }
            }
            Entry::Vacant(at) => {
                at.insert(units.len());
                units.push((processes, snapshot));
            }
        }
    }
    let mut by_size: Vec<usize> = (0..units.len()).collect();
    by_size.sort_by_key(|&at| std::cmp::Reverse(units[at].0.len()));
    let mut taken = vec![false; units.len()];
    let mut counted: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for at in by_size {
        let processes = &units[at].0;
        if processes
            .iter()
            .all(|process| !counted.contains(process.as_str()))
        {
            counted.extend(processes.iter().map(String::as_str));
            taken[at] = true;
        }
    }
    units
        .into_iter()
        .zip(taken)
        .filter_map(|((_, snapshot), taken)| taken.then_some(snapshot))
        .collect()
}

fn latest(sources: &[Source]) -> Option<std::time::SystemTime> {
    sources.iter().map(|source| source.taken).max()
}

/// How a unit's shares are named: its process (`host:pid`), or its processes joined.
fn unit_name(sources: &[Source]) -> String {
    match sources {
        [] => "?".to_owned(),
        sources => sources
            .iter()
            .map(Source::name)
            .collect::<Vec<_>>()
            .join("+"),
    }
}

fn add_operator(into: &mut OperatorSnapshot, op: OperatorSnapshot) {
    let calls = &mut into.calls;
    calls.active += op.calls.active;
    calls.completed += op.calls.completed;
    calls.failed += op.calls.failed;
    calls.cancelled += op.calls.cancelled;
    let rows = &mut into.rows;
    rows.received += op.rows.received;
    rows.produced += op.rows.produced;
    rows.written += op.rows.written;
    into.bytes.read += op.bytes.read;
    into.bytes.written += op.bytes.written;
    let time = &mut into.time;
    time.busy += op.time.busy;
    time.starved += op.time.starved;
    time.blocked += op.time.blocked;
    time.queued += op.time.queued;
    let add = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    };
    let expected = &mut into.expected;
    expected.rows = add(expected.rows, op.expected.rows);
    expected.bytes = add(expected.bytes, op.expected.bytes);
    expected.calls = add(expected.calls, op.expected.calls);
    if into.step.is_none() {
        into.pipeline = op.pipeline;
        into.step = op.step;
    }
    let distributions = &mut into.distributions;
    distributions.buckets.add(&op.distributions.buckets);
    distributions
        .slowest_calls
        .extend(op.distributions.slowest_calls);
    distributions
        .slowest_calls
        .sort_by_key(|call| std::cmp::Reverse(call.busy));
    distributions.slowest_calls.truncate(SLOWEST_CALLS);
    into.skew.threads.extend(op.skew.threads);
    into.skew.partitions.extend(op.skew.partitions);
    into.skew.workers.extend(op.skew.workers);
    engine_metrics::add_values(&mut into.engine_metrics, &op.engine_metrics);
    add_memory(&mut into.memory, op.memory);
    if let Some(logs) = &op.logs {
        into.logs
            .get_or_insert_with(Default::default)
            .add(logs, crate::logs::operator_lines::LOG_LINES_KEPT);
    }
}

/// `memory` added into `into`: what a process without the tracking allocator has not
/// measured is no zero.
fn add_memory(into: &mut Option<Memory>, memory: Option<Memory>) {
    match (into, memory) {
        (Some(into), Some(memory)) => into.add(&memory),
        (into @ None, memory) => *into = memory,
        (Some(_), None) => {}
    }
}

fn add_step(into: &mut StepSnapshot, step: StepSnapshot) {
    into.calls += step.calls;
    into.failed += step.failed;
    into.active += step.active;
    into.time += step.time;
    into.rows += step.rows;
}

fn add_run(into: &mut RunSnapshot, run: RunSnapshot) {
    into.runs += run.runs;
    into.failed += run.failed;
    into.active += run.active;
    into.time += run.time;
    into.rows += run.rows;
}

fn add_edge(into: &mut EdgeSnapshot, edge: EdgeSnapshot) {
    into.rows += edge.rows;
    into.bytes += edge.bytes;
    into.batches += edge.batches;
    into.rows_received = match (into.rows_received, edge.rows_received) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    };
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::insight::snapshot::{CallBuckets, SourceState};

    fn source(instance: &str, pid: u32, taken_s: u64) -> Source {
        Source {
            instance: instance.into(),
            service: "job".into(),
            host: Some("h".into()),
            pid,
            job: None,
            taken: SystemTime::UNIX_EPOCH + Duration::from_secs(taken_s),
            next_within: None,
            state: SourceState::Live,
        }
    }

    /// A process's snapshot: a scan that produced `rows` in `busy_ms` on one thread, with
    /// a channel edge into a sink.
    fn process(instance: &str, pid: u32, taken_s: u64, rows: u64, busy_ms: u64) -> Snapshot {
        let node = |node_type: &str| NodeRef {
            node_type: node_type.into(),
            node_id: "0".into(),
        };
        let mut scan = OperatorSnapshot {
            node_type: "scan".into(),
            node_id: "0".into(),
            ..OperatorSnapshot::default()
        };
        scan.rows.produced = rows;
        scan.calls.completed = 1;
        scan.time.busy = Duration::from_millis(busy_ms);
        scan.distributions.buckets = CallBuckets {
            busy: vec![((busy_ms * 1_000_000) >> 20 << 20, 1)],
            rows: vec![(8, rows / 8)],
            allocated: vec![(1_024, 1)],
        };
        scan.skew.threads = vec![Share {
            at: "worker:1".into(),
            rows,
            busy_ns: busy_ms * 1_000_000,
            memory: None,
        }];
        Snapshot {
            sources: vec![source(instance, pid, taken_s)],
            operators: vec![scan],
            channels: vec![ChannelSnapshot {
                id: 1,
                rows_sent: rows,
                ..ChannelSnapshot::default()
            }],
            edges: vec![EdgeSnapshot {
                from: node("scan"),
                to: node("sink"),
                via: EdgeVia::Channel,
                rows,
                bytes: 0,
                batches: 1,
                rows_received: Some(rows),
                channel: Some(1),
            }],
            ..Snapshot::default()
        }
    }

    #[test]
    fn processes_add_and_each_is_a_worker() {
        let merged = Snapshot::merge([process("a", 1, 10, 800, 2), process("b", 2, 10, 80, 9)]);
        let scan = merged.operator("scan", "0").expect("merged");
        assert_eq!((scan.rows.produced, scan.calls.completed), (880, 2));
        assert_eq!(scan.time.busy, Duration::from_millis(11));
        let buckets = &scan.distributions.buckets;
        assert_eq!(buckets.rows, [(8, 110)]);
        assert_eq!(buckets.busy.iter().map(|(_, n)| n).sum::<u64>(), 2);
        assert_eq!(buckets.allocated, [(1_024, 2)]);
        let allocated = scan.distributions.allocated_per_call.as_ref();
        assert_eq!(allocated.map(|p| (p.count, p.max)), Some((2, 1_024)));
        let workers: Vec<(&str, u64)> = scan
            .skew
            .workers
            .iter()
            .map(|share| (&*share.at, share.rows))
            .collect();
        assert_eq!(workers, [("h:1", 800), ("h:2", 80)]);
        let across = scan.skew.across_workers.as_ref().expect("two workers");
        assert_eq!(across.busy_ns.max_at, "h:2");
        let threads: Vec<&str> = scan.skew.threads.iter().map(|s| &*s.at).collect();
        assert_eq!(threads, ["h:1/worker:1", "h:2/worker:1"]);
        // Scored anew over the merged threads (each process had one: no skew of its own).
        let across = scan.skew.across_threads.as_ref().expect("two threads");
        assert_eq!(
            across.rows.skew,
            crate::insight::skew::skew_score(&[800, 80])
        );
        // Each process's channel is its own.
        assert_eq!(merged.channels.len(), 2);
        assert_eq!(merged.edges.len(), 2);
        assert_eq!(merged.sources.len(), 2);
    }

    #[test]
    fn memory_adds_across_processes_and_a_process_without_it_adds_none() {
        let with = |instance: &str, pid: u32, live: u64, peak: u64| {
            let mut snapshot = process(instance, pid, 10, 8, 1);
            let memory = Memory {
                allocated: live + 100,
                freed: 100,
                allocations: 3,
                frees: 1,
                live,
                peak,
                retained: live,
            };
            snapshot.operators[0].memory = Some(memory);
            snapshot.unattributed_memory = Some(Memory {
                allocated: 7,
                live: 7,
                peak: 7,
                allocations: 1,
                ..Memory::default()
            });
            snapshot
        };
        let merged = Snapshot::merge([
            with("a", 1, 1000, 4000),
            process("b", 2, 10, 8, 1),
            with("c", 3, 24, 50),
        ]);
        let memory = merged.operator("scan", "0").unwrap().memory.unwrap();
        assert_eq!(
            (memory.allocated, memory.freed, memory.live, memory.peak),
            (1224, 200, 1024, 4050)
        );
        assert_eq!(
            (memory.allocations, memory.frees, memory.retained),
            (6, 2, 1024)
        );
        assert_eq!(merged.unattributed_memory.unwrap().live, 14);
        // Each process's memory of the operator is its worker share's: the one that held
        // most is named (a process without memory counts as none).
        let scan = merged.operator("scan", "0").unwrap();
        let peaks: Vec<(&str, Option<u64>)> = scan
            .skew
            .workers
            .iter()
            .map(|share| (&*share.at, share.memory.as_ref().map(|memory| memory.peak)))
            .collect();
        assert_eq!(
            peaks,
            [("h:1", Some(4000)), ("h:2", None), ("h:3", Some(50))]
        );
        let across = scan.skew.across_workers.as_ref().unwrap();
        let peak = across.memory_peak.as_ref().expect("workers with memory");
        assert_eq!((peak.max, peak.max_at.as_str(), peak.min), (4000, "h:1", 0));
        let none = Snapshot::merge([process("a", 1, 10, 8, 1), process("b", 2, 10, 8, 1)]);
        assert_eq!(none.operator("scan", "0").unwrap().memory, None);
        assert_eq!(none.unattributed_memory, None);
    }

    #[test]
    fn a_process_counts_once_however_often_it_is_given() {
        let once = Snapshot::merge([process("a", 1, 10, 800, 2), process("b", 2, 10, 80, 9)]);
        let again = Snapshot::merge([
            process("a", 1, 5, 100, 1),
            process("b", 2, 10, 80, 9),
            process("a", 1, 10, 800, 2),
            process("b", 2, 10, 80, 9),
            process("a", 1, 7, 400, 1),
        ]);
        assert_eq!(again, once);
        // A merged snapshot merged again with its own processes: once.
        assert_eq!(
            Snapshot::merge([once.clone(), once.clone()]).operators,
            once.operators
        );
        // A merged snapshot beside one of its processes' own (a report saved into the
        // directory it was made of): each process still once.
        let beside = Snapshot::merge([
            process("a", 1, 10, 800, 2),
            once.clone(),
            process("b", 2, 12, 80, 9),
        ]);
        let scan = beside.operator("scan", "0").expect("merged");
        assert_eq!((scan.rows.produced, scan.calls.completed), (880, 2));
        assert_eq!(beside.sources.len(), 2);
    }
}
