//! Progress on long runs: one indicatif line per running operator or step — rows, rate,
//! elapsed, and a bar with an ETA when the operator said how many rows to expect
//! ([`OperatorHandle::set_expected_rows`](crate::OperatorHandle::set_expected_rows)) —
//! drawn from the same counters as the report, by a background thread every 100 ms.
//!
//! On when stderr is a terminal; `PIPETEL_PROGRESS=off` turns it off, `=on` on (on a
//! non-terminal it then prints plain lines, once a second). The final state is drawn
//! when telemetry stops.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::insight::report;
use crate::insight::snapshot::{snapshot, OperatorSnapshot};

/// How progress is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Off,
    /// Bars redrawn in place on a terminal, every 100 ms.
    Terminal,
    /// Plain lines on a non-terminal, once a second (forced on with `PIPETEL_PROGRESS`).
    Plain,
}

impl Mode {
    /// The mode for `forced` (`PIPETEL_PROGRESS`: on, off, or `None` when unset) on this
    /// process's stderr.
    pub(crate) fn new(forced: Option<bool>) -> Mode {
        let terminal = std::io::stderr().is_terminal();
        match (forced, terminal) {
            (Some(false), _) | (None, false) => Mode::Off,
            (Some(true) | None, true) => Mode::Terminal,
            (Some(true), false) => Mode::Plain,
        }
    }
}

/// The running progress display.
pub(crate) struct Progress {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing, or nothing when `mode` is off.
    pub(crate) fn start(mode: Mode) -> Option<Progress> {
        let (mut display, tick): (Box<dyn Display>, _) = match mode {
            Mode::Off => return None,
            Mode::Terminal => (Box::new(Bars::default()), Duration::from_millis(100)),
            Mode::Plain => (Box::new(PlainLines), Duration::from_secs(1)),
        };
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("pipetel-progress".into())
            .spawn(move || {
                let mut lines = Lines::default();
                let (stopped, wake) = &*thread_stop;
                let mut done = stopped
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                while !*done {
                    display.draw(lines.update(false), false);
                    done = wake
                        .wait_timeout(done, tick)
                        .map(|(guard, _)| guard)
                        .unwrap_or_else(|poisoned| poisoned.into_inner().0);
                }
                drop(done);
                display.draw(lines.update(true), true);
            })
            .ok()?;
        Some(Progress {
            stop,
            thread: Some(thread),
        })
    }

    /// Draws the final state and stops.
    pub(crate) fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// One line of progress: what runs, and how far it got.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    key: String,
    rows: u64,
    expected: Option<u64>,
    elapsed: Duration,
    running: bool,
}

impl Line {
    /// `1.0 K/1.5 K rows (67%)  1.0 K rows/s  ETA 0.5 s  1.0 s`
    fn text(&self) -> String {
        let seconds = self.elapsed.as_secs_f64();
        let rate = (seconds > 0.0).then(|| self.rows as f64 / seconds);
        let mut text = match self.expected {
            Some(total) => format!(
                "{}/{} rows ({:.0}%)",
                report::count(self.rows),
                report::count(total),
                100.0 * self.rows as f64 / total.max(1) as f64
            ),
            None => format!("{} rows", report::count(self.rows)),
        };
        if let Some(rate) = rate {
            text.push_str(&format!("  {}/s", report::count(rate as u64)));
            if let (Some(total), true) = (self.expected, self.running && rate > 0.0) {
                let left = Duration::from_secs_f64(total.saturating_sub(self.rows) as f64 / rate);
                text.push_str(&format!("  ETA {}", report::duration(left)));
            }
        }
        text.push_str(&format!("  {}", report::duration(self.elapsed)));
        text
    }
}

/// Every operator and step seen running while progress was on.
#[derive(Default)]
struct Lines(Vec<(String, Instant)>);

impl Lines {
    /// The lines to draw now; `last` ends them all. An operator's time is its busy time
    /// (its rate: rows per busy second); a running step's, the time since it was first
    /// seen running, and once it ended, its measured time.
    fn update(&mut self, last: bool) -> Vec<Line> {
        let snapshot = snapshot();
        let steps = snapshot.steps.iter().map(|step| {
            let key = format!("step {}", step.step);
            (
                key,
                step.rows,
                None,
                step.active > 0,
                (step.active == 0).then_some(step.time),
            )
        });
        let operators = snapshot.operators.iter().map(|op| {
            let key = format!("{} {}", op.node_type, op.node_id);
            (
                key,
                handled_rows(op),
                op.expected_rows,
                op.tasks_active > 0,
                Some(op.busy),
            )
        });
        let mut lines = Vec::new();
        for (key, rows, expected, running, measured) in steps.chain(operators) {
            let started = match self.0.iter().find(|(seen, _)| *seen == key) {
                Some((_, started)) => *started,
                None if running => {
                    self.0.push((key.clone(), Instant::now()));
                    Instant::now()
                }
                None => continue,
            };
            lines.push(Line {
                elapsed: measured.unwrap_or_else(|| started.elapsed()),
                key,
                rows,
                expected,
                running: running && !last,
            });
        }
        lines
    }
}

/// Where progress lines go.
trait Display: Send {
    /// Draws `lines`; `last` is the final state.
    fn draw(&mut self, lines: Vec<Line>, last: bool);
}

/// indicatif bars, redrawn in place on a terminal.
#[derive(Default)]
struct Bars {
    bars: Option<MultiProgress>,
    lines: HashMap<String, ProgressBar>,
}

impl Display for Bars {
    fn draw(&mut self, lines: Vec<Line>, _last: bool) {
        let bars = self.bars.get_or_insert_with(|| {
            MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10))
        });
        for line in lines {
            let bar = self.lines.entry(line.key.clone()).or_insert_with(|| {
                let (bar, template) = match line.expected {
                    Some(total) => (ProgressBar::new(total), "{prefix:48} [{bar:30}] {msg}"),
                    None => (ProgressBar::no_length(), "{spinner} {prefix:46} {msg}"),
                };
                let style = ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
                let bar = bars.add(bar.with_style(style.progress_chars("=> ")));
                bar.set_prefix(line.key.clone());
                bar
            });
            if bar.is_finished() {
                continue;
            }
            bar.set_position(line.rows);
            bar.set_message(line.text());
            if line.running {
                bar.tick();
            } else {
                bar.finish();
            }
        }
    }
}

/// Plain lines on a non-terminal (forced on): the running lines each tick, and every
/// line in its final state at the end.
struct PlainLines;

impl Display for PlainLines {
    fn draw(&mut self, lines: Vec<Line>, last: bool) {
        let mut stderr = std::io::stderr().lock();
        for line in lines.into_iter().filter(|line| line.running || last) {
            let _ = writeln!(stderr, "pipetel: {}  {}", line.key, line.text());
        }
    }
}

/// The rows an operator has handled: those it received, or those it produced (a source).
fn handled_rows(op: &OperatorSnapshot) -> u64 {
    if op.rows_in > 0 {
        op.rows_in
    } else {
        op.rows_out
    }
}
