//! Each operator's log lines (`logs::operator_lines`) read into a snapshot: a lane's
//! series counted with its canonical one, as every other counter is.

use crate::counters::registry::SeriesLabels;
use crate::insight::node_index::NodeIndex;
use crate::insight::snapshot::{LogLine, OperatorLogs, Snapshot};
use crate::logs::operator_lines::{self, Lines, LOG_LINES_KEPT};

/// Adds every series' lines to its operator in `snapshot` (`labels`: the registry's).
pub(crate) fn attach(snapshot: &mut Snapshot, labels: &[SeriesLabels]) {
    let lines = operator_lines::read();
    // Most snapshots find no lines: no index of the operators then.
    if lines.is_empty() {
        return;
    }
    // Each series' operator found by its labels first (the index borrows the operators),
    // its lines added after.
    let found: Vec<(usize, OperatorLogs)> = {
        let index = NodeIndex::of(&snapshot.operators);
        lines
            .into_iter()
            .filter_map(|(series, lines)| {
                let label = labels
                    .get(series as usize)
                    .and_then(|label| labels.get(label.canonical as usize))?;
                Some((index.at(label.node_type, label.node_id)?, of(&lines)))
            })
            .collect()
    };
    for (at, logs) in found {
        snapshot.operators[at]
            .logs
            .get_or_insert_with(OperatorLogs::default)
            .add(&logs, LOG_LINES_KEPT);
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
