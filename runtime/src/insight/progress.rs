//! Progress on long runs: one indicatif line per running operator or step — rows, rate,
//! elapsed, and a bar with an ETA when the operator has an expected total (it said one,
//! [`OperatorHandle::set_expected_rows`](crate::engine::OperatorHandle::set_expected_rows) and
//! its siblings, or one follows from its inputs': `insight::estimates`) — and above
//! them an overall line (the operator that will finish last, and the bottleneck), drawn
//! from the same snapshot as the report, by a background thread every 100 ms.
//!
//! On when stderr is a terminal; `PIPETEL_PROGRESS=off` turns it off, `=on` on (on a
//! non-terminal it then prints plain lines, once a second). The final state is drawn
//! when telemetry stops. Without the `progress-bars` feature a terminal gets the plain
//! lines too.

#[cfg(feature = "progress-bars")]
use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

#[cfg(feature = "progress-bars")]
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::insight::estimates::handled;
use crate::insight::figures::units;
use crate::insight::periodic::Periodic;
use crate::insight::read_snapshot::observe;

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
pub(crate) struct Progress(Periodic);

impl Progress {
    /// Starts drawing, or nothing when `mode` is off.
    pub(crate) fn start(mode: Mode) -> Option<Progress> {
        let (mut display, tick): (Box<dyn Display>, _) = match mode {
            Mode::Off => return None,
            #[cfg(feature = "progress-bars")]
            Mode::Terminal => (Box::new(Bars::default()), Duration::from_millis(100)),
            #[cfg(not(feature = "progress-bars"))]
            Mode::Terminal => (Box::new(PlainLines), Duration::from_secs(1)),
            Mode::Plain => (Box::new(PlainLines), Duration::from_secs(1)),
        };
        let mut lines = Lines::default();
        let drawing = Periodic::start("pipetel-progress", Duration::ZERO, move |last| {
            display.draw(lines.update(last), last);
            tick
        })?;
        Some(Progress(drawing))
    }

    /// Draws the final state and stops.
    pub(crate) fn finish(self) {
        self.0.finish();
    }
}

/// One line of progress: what runs, and how far it got.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    key: String,
    rows: u64,
    /// The expected total and how far toward it (never lower than before).
    expected: Option<(u64, f64)>,
    /// Rows per second, when the estimates measured it.
    rate: Option<f64>,
    eta: Option<Duration>,
    elapsed: Duration,
    running: bool,
    /// The overall line's text, which replaces the rows.
    summary: Option<String>,
}

impl Line {
    /// A line with no expected total yet.
    fn new(key: String, rows: u64, running: bool) -> Line {
        Line {
            key,
            rows,
            expected: None,
            rate: None,
            eta: None,
            elapsed: Duration::ZERO,
            running,
            summary: None,
        }
    }

    /// `1.0 K/1.5 K rows (67%)  1.0 K/s  ETA 0.5 s  1.0 s`
    fn text(&self) -> String {
        if let Some(summary) = &self.summary {
            return summary.clone();
        }
        let seconds = self.elapsed.as_secs_f64();
        let rate = self
            .rate
            .or_else(|| (seconds > 0.0).then(|| self.rows as f64 / seconds));
        let mut text = match self.expected {
            Some((total, fraction)) => format!(
                "{}/{} rows ({})",
                units::count(self.rows),
                units::count(total),
                units::percent(fraction)
            ),
            None => format!("{} rows", units::count(self.rows)),
        };
        if let Some(rate) = rate {
            text.push_str(&format!("  {}/s", units::count(rate as u64)));
        }
        if let (Some(eta), true) = (self.eta, self.running) {
            text.push_str(&format!("  ETA {}", units::duration(eta)));
        }
        text.push_str(&format!("  {}", units::duration(self.elapsed)));
        text
    }

    /// The position of its bar, out of [`BAR_LENGTH`] when it has an expected total.
    #[cfg(feature = "progress-bars")]
    fn position(&self) -> u64 {
        match self.expected {
            Some((_, fraction)) => (fraction * BAR_LENGTH as f64) as u64,
            None => self.rows,
        }
    }
}

/// The length of a bar with an expected total: positions are fractions of it, so that a
/// total that changes (an estimate) never moves a bar back.
const BAR_LENGTH: u64 = 1000;

/// Every operator and step seen running while progress was on.
#[derive(Default)]
struct Lines(Vec<(String, Instant)>);

impl Lines {
    /// The lines to draw now; `last` ends them all. An operator's time is its busy time
    /// (its rate: rows per busy second); a running step's, the time since it was first
    /// seen running, and once it ended, its measured time.
    fn update(&mut self, last: bool) -> Vec<Line> {
        let snapshot = observe();
        let running = snapshot.operators.iter().any(|op| op.calls.active > 0);
        let overall = snapshot.overall.as_ref().map(|overall| {
            let mut text = format!(
                "{} done, ETA {} ({} {} finishes last)",
                units::percent(overall.fraction),
                units::duration(overall.eta),
                overall.node.node_type,
                overall.node.node_id
            );
            if let Some(bottleneck) = &snapshot.bottleneck {
                text.push_str(&format!(
                    "; bottleneck {} {}",
                    bottleneck.node.node_type, bottleneck.node.node_id
                ));
            }
            let line = Line {
                expected: Some((BAR_LENGTH, overall.fraction)),
                eta: Some(overall.eta),
                summary: Some(text),
                ..Line::new("overall".to_owned(), 0, running)
            };
            (line, None)
        });
        let steps = snapshot.steps.iter().map(|step| {
            let line = Line::new(format!("step {}", step.step), step.rows, step.active > 0);
            (line, (step.active == 0).then_some(step.time))
        });
        let operators = snapshot.operators.iter().map(|op| {
            let mut line = Line::new(
                format!("{} {}", op.node_type, op.node_id),
                handled(op),
                op.calls.active > 0,
            );
            if let Some(estimate) = &op.estimate {
                line.expected = Some((estimate.expected_rows, estimate.fraction));
                (line.rate, line.eta) = (estimate.rate, estimate.eta);
            }
            (line, Some(op.time.busy))
        });
        let mut lines = Vec::new();
        for (mut line, measured) in overall.into_iter().chain(steps).chain(operators) {
            let started = match self.0.iter().find(|(seen, _)| *seen == line.key) {
                Some((_, started)) => *started,
                None if line.running => {
                    self.0.push((line.key.clone(), Instant::now()));
                    Instant::now()
                }
                None => continue,
            };
            line.elapsed = measured.unwrap_or_else(|| started.elapsed());
            line.running &= !last;
            lines.push(line);
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
#[cfg(feature = "progress-bars")]
#[derive(Default)]
struct Bars {
    bars: Option<MultiProgress>,
    lines: HashMap<String, ProgressBar>,
}

#[cfg(feature = "progress-bars")]
impl Display for Bars {
    fn draw(&mut self, lines: Vec<Line>, _last: bool) {
        let bars = self.bars.get_or_insert_with(|| {
            MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10))
        });
        for line in lines {
            let bar = self.lines.entry(line.key.clone()).or_insert_with(|| {
                let (bar, template) = match line.expected {
                    Some(_) => (ProgressBar::new(BAR_LENGTH), "{prefix:48} [{bar:30}] {msg}"),
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
            bar.set_position(line.position());
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
