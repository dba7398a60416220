//! Each operator's log lines (`logs::operator_lines`) read into a snapshot: a lane's
//! series counted with its canonical one, as every other counter is.

use crate::counters::registry::SeriesLabels;
use crate::insight::snapshot::{LogLine, OperatorLogs, Snapshot};
use crate::logs::operator_lines::{self, Lines, LOG_LINES_KEPT};

/// Adds every series' lines to its operator in `snapshot` (`labels`: the registry's).
pub(crate) fn attach(snapshot: &mut Snapshot, labels: &[SeriesLabels]) {
    for (series, lines) in operator_lines::read() {
        let Some(label) = labels
            .get(series as usize)
            .and_then(|label| labels.get(label.canonical as usize))
        else {
            continue;
        };
        if let Some(op) = snapshot
            .operators
            .iter_mut()
            .find(|op| op.node_type == label.node_type && op.node_id == label.node_id)
        {
            op.logs
                .get_or_insert_with(OperatorLogs::default)
                .add(&of(&lines), LOG_LINES_KEPT);
        }
    }
}

fn of(lines: &Lines) -> OperatorLogs {
    OperatorLogs {
        lines: lines.lines,
        warnings: lines.warnings,
        errors: lines.errors,
        latest: lines
            .latest
            .iter()
            .map(|line| LogLine {
                time: line.time,
                level: line.severity.name().to_owned(),
                source: line.source.clone(),
                text: line.text.clone(),
            })
            .collect(),
    }
}
