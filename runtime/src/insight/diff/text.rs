//! A diff as text: the headline — what got slower or faster, by how much, and where the
//! time went — then a table of every operator in both runs, then what only one run has.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use super::shift::{Shift, Verdict, CONFIDENCE, JUDGED_QUANTILE, MIN_FACTOR};
use super::{Change, Diff, OperatorDiff};
use crate::insight::figures::names::{display_name, names_of};
use crate::insight::figures::units::{bytes, count, duration};
use crate::insight::snapshot::NodeRef;

/// A wait of a neighbour is named in the headline when it moved by at least this share
/// of the called operator's change in busy time: smaller ones are not where the time went.
const NEIGHBOUR_SHARE: f64 = 0.25;

impl Diff {
    /// The headline: each operator called slower or faster (the most changed first),
    /// by how much per call and in busy time, and where the time went — its own waits,
    /// and its neighbours' (a consumer starved longer waits on it: look upstream); then
    /// the counts that differ (rows, calls, failures) and the operators and edges only
    /// one run has. One line, "nothing changed beyond noise", when there is none of it.
    pub fn headline(&self) -> Vec<String> {
        let names = self.names();
        let name = |node: &NodeRef| display_name(&names, &node.node_type, &node.node_id);
        let mut lines = Vec::new();
        for (op, way) in self
            .slower()
            .into_iter()
            .map(|op| (op, "slower"))
            .chain(self.faster().into_iter().map(|op| (op, "faster")))
        {
            lines.push(self.called_line(op, way, &name));
        }
        for op in &self.operators {
            let counts = [
                ("calls", op.calls),
                ("failed calls", op.failed),
                ("rows in", op.rows_in),
                ("rows out", op.rows_out),
            ];
            for (what, change) in counts.into_iter().filter(|(_, c)| c.differs()) {
                lines.push(format!(
                    "{what} of {}: {} → {}",
                    name(&op.node),
                    count(change.before),
                    count(change.after)
                ));
            }
        }
        if !self.added.is_empty() {
            lines.push(format!(
                "only in the later run: {}",
                list(&self.added, &name)
            ));
        }
        if !self.removed.is_empty() {
            lines.push(format!(
                "only in the earlier run: {}",
                list(&self.removed, &name)
            ));
        }
        for edge in &self.edges {
            let ends = format!("{} → {}", name(&edge.from), name(&edge.to));
            match (edge.rows.before, edge.rows.after) {
                (None, Some(_)) => lines.push(format!("a new edge: {ends}")),
                (Some(_), None) => lines.push(format!("an edge gone: {ends}")),
                (Some(was), Some(is)) if was != is => lines.push(format!(
                    "rows across {ends}: {} → {}",
                    count(was),
                    count(is)
                )),
                _ => {}
            }
        }
        if lines.is_empty() {
            lines.push("nothing changed beyond noise".to_owned());
        }
        lines
    }

    /// The headline's line for an operator called `way` ("slower", "faster").
    fn called_line(
        &self,
        op: &OperatorDiff,
        way: &str,
        name: &dyn Fn(&NodeRef) -> String,
    ) -> String {
        let shift = op.per_call.expect("a called operator has its shift");
        let factor = match shift.ratio {
            Some(ratio) if way == "slower" => format!("{ratio:.2}×"),
            Some(ratio) if ratio > 0.0 => format!("{:.2}×", 1.0 / ratio),
            _ => "∞×".to_owned(),
        };
        let mut line = format!(
            "{}: {factor} {way} per call ({} {} → {}); busy {} → {} ({})",
            name(&op.node),
            quantile_name(shift.quantile),
            duration(Duration::from_nanos(shift.before)),
            duration(Duration::from_nanos(shift.after)),
            duration(op.busy.before),
            duration(op.busy.after),
            signed(op.busy)
        );
        let moved = delta(op.busy).abs();
        let own_waits: Vec<String> = [
            ("starved", op.starved),
            ("blocked", op.blocked),
            ("queued", op.queued),
        ]
        .into_iter()
        .filter(|(_, wait)| delta(*wait).abs() >= moved * NEIGHBOUR_SHARE && wait.differs())
        .map(|(state, wait)| format!("{state} {}", signed(wait)))
        .collect();
        if !own_waits.is_empty() {
            line.push_str(&format!("; its waits: {}", own_waits.join(", ")));
        }
        let neighbour = |node: &NodeRef| self.operators.iter().find(|other| &other.node == node);
        for edge in self.edges.iter().filter(|edge| edge.from == op.node) {
            if let Some(consumer) = neighbour(&edge.to) {
                if delta(consumer.starved).abs() >= moved * NEIGHBOUR_SHARE {
                    line.push_str(&format!(
                        "; {}, which takes its output, starved {}",
                        name(&consumer.node),
                        signed(consumer.starved)
                    ));
                }
            }
        }
        for edge in self.edges.iter().filter(|edge| edge.to == op.node) {
            if let Some(producer) = neighbour(&edge.from) {
                if delta(producer.blocked).abs() >= moved * NEIGHBOUR_SHARE {
                    line.push_str(&format!(
                        "; {}, which feeds it, blocked {}",
                        name(&producer.node),
                        signed(producer.blocked)
                    ));
                }
            }
        }
        line
    }

    /// The table of the operators in both runs, its header first: name, segments timed
    /// (calls, polls, items), busy, the judged quantile, the median, the 99th percentile,
    /// memory peak, verdict — each cell "before → after".
    pub(crate) fn table(&self) -> Vec<[String; 8]> {
        let names = self.names();
        let rows: Vec<[String; 8]> = self
            .operators
            .iter()
            .map(|op| {
                let quantiles = |change: Option<Change<Duration>>| {
                    change.map_or("—".to_owned(), |c| {
                        format!("{} → {}", duration(c.before), duration(c.after))
                    })
                };
                [
                    display_name(&names, &op.node.node_type, &op.node.node_id),
                    op.per_call.map_or("—".to_owned(), |shift| {
                        format!("{} → {}", count(shift.calls.0), count(shift.calls.1))
                    }),
                    format!("{} → {}", duration(op.busy.before), duration(op.busy.after)),
                    op.per_call.map_or("—".to_owned(), |shift| {
                        format!(
                            "{} → {}",
                            duration(Duration::from_nanos(shift.before)),
                            duration(Duration::from_nanos(shift.after))
                        )
                    }),
                    quantiles(op.median),
                    quantiles(op.p99),
                    op.memory_peak.map_or("—".to_owned(), |c| {
                        format!("{} → {}", bytes(c.before), bytes(c.after))
                    }),
                    verdict_text(op.per_call),
                ]
            })
            .collect();
        let header = [
            "operator".to_owned(),
            "timed".to_owned(),
            "busy".to_owned(),
            format!("per call, {}", short_quantile(JUDGED_QUANTILE)),
            "per call, p50".to_owned(),
            "per call, p99".to_owned(),
            "memory peak".to_owned(),
            "verdict".to_owned(),
        ];
        std::iter::once(header).chain(rows).collect()
    }

    /// How many operators were matched, and how each was judged.
    pub(crate) fn summary(&self) -> String {
        let judged = |verdict: Verdict| {
            self.operators
                .iter()
                .filter(|op| op.verdict() == verdict)
                .count()
        };
        format!(
            "pipetel diff: {} in both runs — {} slower, {} faster, {} within noise, {} with \
             too few calls to judge",
            match self.operators.len() {
                1 => "1 operator".to_owned(),
                n => format!("{n} operators"),
            },
            judged(Verdict::Higher),
            judged(Verdict::Lower),
            judged(Verdict::WithinNoise),
            judged(Verdict::TooFewCalls),
        )
    }

    /// Display names of every operator of either run, told apart together.
    fn names(&self) -> HashMap<(String, String), String> {
        let keys = self
            .operators
            .iter()
            .map(|op| &op.node)
            .chain(&self.added)
            .chain(&self.removed)
            .map(|node| (node.node_type.clone(), node.node_id.clone()))
            .collect();
        names_of(keys)
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        writeln!(f, "({})\n", method())?;
        for line in self.headline() {
            writeln!(f, "{line}")?;
        }
        if self.operators.is_empty() {
            return Ok(());
        }
        let table = self.table();
        let mut widths = [0; 8];
        for row in &table {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        writeln!(f)?;
        for row in &table {
            let mut line = String::new();
            for (cell, width) in row.iter().zip(widths) {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', width + 2 - cell.chars().count()));
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// What a verdict judges, in a sentence.
pub(crate) fn method() -> String {
    format!(
        "busy time per call, its {} bracketed at {} % confidence; changes under {MIN_FACTOR}× \
         are not called",
        quantile_name(JUDGED_QUANTILE),
        CONFIDENCE * 100.0
    )
}

/// The verdict, as the table says it.
fn verdict_text(shift: Option<Shift>) -> String {
    let Some(shift) = shift else {
        return "no calls timed".to_owned();
    };
    match (shift.verdict, shift.ratio) {
        (Verdict::Higher, Some(ratio)) => format!("slower {ratio:.2}×"),
        (Verdict::Higher, None) => "slower".to_owned(),
        (Verdict::Lower, Some(ratio)) if ratio > 0.0 => format!("faster {:.2}×", 1.0 / ratio),
        (Verdict::Lower, _) => "faster".to_owned(),
        (Verdict::WithinNoise, _) => "within noise".to_owned(),
        (Verdict::TooFewCalls, _) => format!(
            "too few calls ({} / {})",
            count(shift.calls.0),
            count(shift.calls.1)
        ),
    }
}

/// `25th percentile`, `median`.
fn quantile_name(q: f64) -> String {
    match (q * 100.0).round() as u32 {
        50 => "median".to_owned(),
        n => format!("{n}th percentile"),
    }
}

/// `p25`.
fn short_quantile(q: f64) -> String {
    format!("p{}", (q * 100.0).round() as u32)
}

/// After less before, in seconds.
fn delta(change: Change<Duration>) -> f64 {
    change.after.as_secs_f64() - change.before.as_secs_f64()
}

/// `+10.4 ms`, `−3.1 µs`.
fn signed(change: Change<Duration>) -> String {
    if change.after >= change.before {
        format!("+{}", duration(change.after - change.before))
    } else {
        format!("−{}", duration(change.before - change.after))
    }
}

fn list(nodes: &[NodeRef], name: &dyn Fn(&NodeRef) -> String) -> String {
    nodes.iter().map(name).collect::<Vec<_>>().join(", ")
}
