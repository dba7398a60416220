//! Runs and queries counted apart: two runs of one pipeline at once on two threads, each
//! with its own view; a query inside a run's step; lanes reused run after run without
//! one run's counts showing in the next; a stream that outlives its run; and the limit
//! on lanes.

use std::sync::{Arc, Barrier};
use std::thread;

use pipetel::engine::Query;
use pipetel::{operator, pipeline_step, Config, Operator, Pipeline, RunId};

#[operator(node_type = "parse")]
fn parse(batch: Vec<u32>) -> Vec<u32> {
    batch.into_iter().filter(|n| n % 2 == 0).collect()
}

#[derive(Pipeline)]
struct Orders {
    /// How many rows a batch has (each run its own).
    rows: u32,
}

impl Orders {
    /// Parses `batches` batches, waiting at `meet` after the first so that the two runs
    /// overlap.
    #[pipeline_step]
    fn extract(&self, batches: u32, meet: &Barrier) -> Result<Vec<u32>, String> {
        let mut kept = Vec::new();
        for batch in 0..batches {
            kept.extend(parse((0..self.rows).collect()));
            if batch == 0 {
                meet.wait();
            }
        }
        Ok(kept)
    }

    #[pipeline_step]
    fn transform(&self, meet: &Barrier) -> Result<Vec<u32>, String> {
        let kept = parse((0..self.rows).collect());
        meet.wait();
        Ok(kept)
    }
}

#[test]
fn two_runs_of_one_pipeline_at_once_each_have_their_own_view() {
    pipetel_tests::own_process!();
    let telemetry = Config::new().collect_locally(true).init();
    let meet = Arc::new(Barrier::new(2));
    // Run a parses in `extract` (3 batches of 1,000 rows), run b in `transform` (one of
    // 10), at the same time on two threads.
    let run = |rows: u32, in_extract: bool, meet: Arc<Barrier>| {
        thread::spawn(move || {
            Orders { rows }
                .run(|orders| {
                    let id = RunId::current().expect("the run counts apart");
                    match in_extract {
                        true => orders.extract(3, &meet),
                        false => orders.transform(&meet),
                    }?;
                    Ok::<_, String>(id)
                })
                .unwrap()
        })
    };
    let a = run(1_000, true, meet.clone());
    let b = run(10, false, meet);
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert_ne!(a, b);

    let view_a = a.snapshot().expect("a's view");
    let view_b = b.snapshot().expect("b's view");
    let parse_a = view_a
        .operator("parse", "in_process::runs_apart::parse")
        .unwrap();
    let parse_b = view_b
        .operator("parse", "in_process::runs_apart::parse")
        .unwrap();
    assert_eq!(
        (
            parse_a.rows.received,
            parse_a.rows.produced,
            parse_a.calls.completed
        ),
        (3_000, 1_500, 3)
    );
    assert_eq!(
        (
            parse_b.rows.received,
            parse_b.rows.produced,
            parse_b.calls.completed
        ),
        (10, 5, 1)
    );
    // Each filed under the step that ran it in its own run.
    assert_eq!(parse_a.step.as_deref(), Some("extract"));
    assert_eq!(parse_b.step.as_deref(), Some("transform"));
    assert_eq!(parse_a.pipeline.as_deref(), Some("orders"));
    // Each view's run and steps are its own.
    assert_eq!(view_a.runs.len(), 1);
    assert_eq!((view_a.runs[0].runs, view_a.runs[0].rows), (1, 1_500));
    let steps = |view: &pipetel::snapshot::Snapshot| -> Vec<String> {
        view.steps.iter().map(|step| step.step.clone()).collect()
    };
    assert_eq!(steps(&view_a), ["extract"]);
    assert_eq!(steps(&view_b), ["transform"]);
    // Per-call distributions are the run's too.
    assert_eq!(
        parse_a
            .distributions
            .buckets
            .busy
            .iter()
            .map(|(_, n)| n)
            .sum::<u64>(),
        3
    );
    // The process's totals add both, in one operator.
    let all = pipetel::snapshot();
    let parses: Vec<_> = all
        .operators
        .iter()
        .filter(|op| op.node_type == "parse")
        .collect();
    assert_eq!(parses.len(), 1, "{parses:#?}");
    assert_eq!(
        (parses[0].rows.received, parses[0].calls.completed),
        (3_010, 4)
    );
    // The history names each run's id.
    let history = pipetel::history::run_history();
    let ids: Vec<Option<RunId>> = history.runs.iter().map(|run| run.id).collect();
    assert!(ids.contains(&Some(a)) && ids.contains(&Some(b)), "{ids:?}");
    let report = pipetel::Report::of_run(a).unwrap().to_string();
    assert!(
        report.contains("extract") && !report.contains("transform"),
        "{report}"
    );
    drop(telemetry);
}

#[derive(Pipeline)]
struct Nightly;

impl Nightly {
    /// Runs a query of two nodes whose leaf works on another thread with no step.
    #[pipeline_step]
    fn query(&self) -> Result<Option<RunId>, String> {
        let query = Query::start();
        let scan = query.operator("scan", "nightly-scan");
        let filter = query.operator("filter", "nightly-filter");
        let worker = {
            let query = query.clone();
            thread::spawn(move || {
                let _held = query;
                scan.iter((0..4).map(|n| vec![n; 10])).collect::<Vec<_>>()
            })
        };
        let batches = worker.join().unwrap();
        filter.iter(batches.into_iter().take(2)).for_each(drop);
        Ok(query.id())
    }
}

#[test]
fn a_query_in_a_step_is_part_of_its_run_and_filed_under_its_step() {
    pipetel_tests::own_process!();
    let telemetry = Config::new().collect_locally(true).init();
    let (run, query) = Nightly
        .run(|nightly| Ok::<_, String>((RunId::current().unwrap(), nightly.query()?)))
        .unwrap();
    let query = query.expect("the query counts apart");

    let of_query = query.snapshot().unwrap();
    let scan = of_query.operator("scan", "nightly-scan").unwrap();
    assert_eq!((scan.rows.produced, scan.calls.completed), (40, 1));
    // Worked on a thread with no step: filed under the step the query started in.
    assert_eq!(scan.step.as_deref(), Some("query"));
    assert_eq!(
        of_query
            .operator("filter", "nightly-filter")
            .unwrap()
            .rows
            .produced,
        20
    );
    assert!(of_query.runs.is_empty());

    // The run's view holds the query's operators, with the run's record.
    let of_run = run.snapshot().unwrap();
    assert_eq!(
        of_run
            .operator("scan", "nightly-scan")
            .unwrap()
            .rows
            .produced,
        40
    );
    assert_eq!(of_run.runs[0].pipeline, "nightly");
    assert_eq!(of_run.calls_running(), 0);
    drop(telemetry);
}

#[test]
fn lanes_are_reused_and_each_run_reads_only_its_own() {
    pipetel_tests::own_process!();
    let telemetry = Config::new().collect_locally(true).init();
    let runs = pipetel::limits::MAX_LANES * 2 + 3;
    let mut ids = Vec::new();
    for run in 0..runs {
        let query = Query::start();
        let scan = query.operator("scan", "reused");
        // Run n hands out n + 1 batches of n + 1 rows.
        let batches = run + 1;
        scan.iter((0..batches).map(|_| vec![0u8; batches]))
            .for_each(drop);
        ids.push((query.id().expect("a lane is free"), batches as u64));
    }
    // The latest RECENT_RUN_VIEWS views are kept, each with its own counts only.
    let kept = pipetel::limits::RECENT_RUN_VIEWS;
    for &(id, batches) in &ids[runs - kept..] {
        let view = id.snapshot().expect("kept");
        let scan = view.operator("scan", "reused").unwrap();
        // One busy segment per `next()`: each batch, and the end.
        let segments: u64 = scan.distributions.buckets.busy.iter().map(|(_, n)| n).sum();
        assert_eq!(
            (scan.rows.produced, scan.calls.completed, segments),
            (batches * batches, 1, batches + 1),
            "{id}"
        );
    }
    assert!(ids[0].0.snapshot().is_none(), "rolled off");
    let all = pipetel::snapshot();
    let total: u64 = ids.iter().map(|(_, batches)| batches * batches).sum();
    assert_eq!(all.operator("scan", "reused").unwrap().rows.produced, total);
    drop(telemetry);
}

#[test]
fn a_stream_that_outlives_its_run_keeps_counting_for_it_and_lanes_run_out_with_a_warning() {
    pipetel_tests::own_process!();
    let telemetry = Config::new().collect_locally(true).init();
    // A stream started in a query, run after the query's handle is gone.
    let query = Query::start();
    let id = query.id().unwrap();
    let late = query
        .operator("scan", "late")
        .iter((0..3).map(|_| vec![0u8; 7]));
    drop(query);
    let outside = Operator::new("scan", "late");
    outside.iter(vec![vec![0u8; 100]]).for_each(drop);
    let view = id.snapshot().unwrap();
    let scan = view.operator("scan", "late").unwrap();
    assert_eq!((scan.rows.produced, scan.calls.active), (0, 1));
    late.for_each(drop);
    let view = id.snapshot().unwrap();
    let scan = view.operator("scan", "late").unwrap();
    assert_eq!(
        (scan.rows.produced, scan.calls.active, scan.calls.completed),
        (21, 0, 1)
    );
    assert_eq!(view.calls_running(), 0);

    // Past MAX_LANES at once, a query counts for the process only.
    let held: Vec<Query> = (0..pipetel::limits::MAX_LANES)
        .map(|_| Query::start())
        .collect();
    assert!(held.iter().all(|query| query.id().is_some()));
    let extra = Query::start();
    assert!(extra.id().is_none());
    extra
        .operator("scan", "late")
        .iter(vec![vec![0u8; 1]])
        .for_each(drop);
    assert_eq!(
        pipetel::snapshot()
            .operator("scan", "late")
            .unwrap()
            .rows
            .produced,
        21 + 100 + 1
    );
    drop(held);
    assert!(Query::start().id().is_some(), "a lane is free again");
    drop(telemetry);
}

#[derive(Pipeline)]
struct Outer;

#[derive(Pipeline)]
struct Inner;

impl Outer {
    /// Runs `Inner` inside this step, and parses outside it too.
    #[pipeline_step]
    fn nest(&self) -> Result<Option<RunId>, String> {
        parse((0..8).collect());
        Inner.run(|_| {
            parse((0..4).collect());
            Ok::<_, String>(RunId::current())
        })
    }
}

#[test]
fn a_run_started_inside_another_is_part_of_its_view_once_ended() {
    pipetel_tests::own_process!();
    let telemetry = Config::new().collect_locally(true).init();
    let (outer, inner) = Outer
        .run(|outer| Ok::<_, String>((RunId::current().unwrap(), outer.nest()?)))
        .unwrap();
    let inner = inner.expect("the inner run counts apart");
    let parse_in = |id: RunId| {
        id.snapshot()
            .expect("a view")
            .operator("parse", "in_process::runs_apart::parse")
            .map(|op| (op.rows.received, op.calls.completed))
    };
    // The inner run's view holds its own call; the outer run's both, the inner one's
    // added when it ended.
    assert_eq!(parse_in(inner), Some((4, 1)));
    assert_eq!(parse_in(outer), Some((12, 2)));
    let runs: Vec<String> = outer
        .snapshot()
        .unwrap()
        .runs
        .iter()
        .map(|run| run.pipeline.clone())
        .collect();
    assert_eq!(runs, ["outer"]);
    drop(telemetry);
}

#[test]
fn with_traces_alone_a_run_takes_no_lane() {
    pipetel_tests::own_process!();
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let telemetry = Config::new().with_span_exporter(exporter.clone()).init();
    // Operators count nothing: there would be nothing in a view.
    let id = Nightly.run(|_| Ok::<_, String>(RunId::current())).unwrap();
    assert_eq!(id, None);
    let history = pipetel::history::run_history();
    assert_eq!(history.runs.last().map(|run| run.id), Some(None));
    telemetry.flush();
    assert!(
        !exporter.get_finished_spans().unwrap().is_empty(),
        "the run was traced"
    );
    drop(telemetry);
}

#[derive(Pipeline)]
struct Holder;

impl Holder {
    /// A step that runs until told to end.
    #[pipeline_step]
    fn hold(&self, started: &Barrier, done: &Barrier) -> Result<(), String> {
        started.wait();
        done.wait();
        Ok(())
    }
}

#[test]
fn work_in_a_run_between_its_steps_is_under_no_step_while_another_runs_a_step() {
    pipetel_tests::own_process!();
    let telemetry = Config::new().collect_locally(true).init();
    let (started, done) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let holder = {
        let (started, done) = (started.clone(), done.clone());
        thread::spawn(move || Holder.run(|holder| holder.hold(&started, &done)))
    };
    // While the other run is in its step `hold`, this run parses outside any step.
    let id = Orders { rows: 6 }
        .run(|_| {
            started.wait();
            parse((0..6).collect());
            done.wait();
            Ok::<_, String>(RunId::current().unwrap())
        })
        .unwrap();
    holder.join().unwrap().unwrap();
    let view = id.snapshot().unwrap();
    let op = view
        .operator("parse", "in_process::runs_apart::parse")
        .unwrap();
    assert_eq!((op.rows.received, op.step.as_deref()), (6, None));
    drop(telemetry);
}
