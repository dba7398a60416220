//! One relay thread per stream of a child: each line, as it is read, counted as its
//! operator's, sent as a log record, and echoed.

use std::io::{Read, Write as _};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::counters::registry::NO_SERIES;
use crate::export::line_logs::{self, Line};
use crate::logs::operator_lines::{self, Severity};

/// Lines sent as log records between two waits for their export (512, a quarter of the
/// SDK's default `OTEL_BLRP_MAX_QUEUE_SIZE`): a child writing faster than records are
/// exported is held up (its pipe fills) rather than its lines dropped by a full queue.
/// With `OTEL_BLRP_MAX_QUEUE_SIZE` set below it, the SDK may drop lines.
pub const PROCESS_LINES_PER_FLUSH: usize = 512;

/// Who started the child, for every line of it.
pub(crate) struct Origin {
    /// The operator's series, or [`NO_SERIES`].
    pub(crate) series: u32,
    /// Its labels: (`node.type`, `node.id`).
    pub(crate) operator: Option<(&'static str, &'static str)>,
    /// What the echo's prefix names: the operator, or else the program.
    pub(crate) name: String,
    pub(crate) executable: String,
    pub(crate) pid: u32,
    pub(crate) echo: bool,
}

/// Relays `pipe` (the child's `stream`) on a thread of its own until it ends.
pub(crate) fn start(
    pipe: impl Read + Send + 'static,
    stream: &'static str,
    origin: Arc<Origin>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("pipetel-{stream}-{}", origin.pid))
        .spawn(move || relay(pipe, stream, &origin))
}

fn relay(pipe: impl Read, stream: &'static str, origin: &Origin) {
    let mut reader = super::line_reader::LineReader::new(pipe);
    let mut sent = 0;
    while let Some(bytes) = reader.next_line() {
        let text = String::from_utf8_lossy(&bytes);
        if origin.series != NO_SERIES {
            operator_lines::record(origin.series, Severity::Info, stream, &text);
        }
        let line = Line {
            operator: origin.operator,
            stream,
            pid: origin.pid,
            executable: &origin.executable,
            text: &text,
        };
        if line_logs::emit(&line) {
            sent += 1;
            if sent % PROCESS_LINES_PER_FLUSH == 0 {
                line_logs::flush();
            }
        }
        if origin.echo {
            // One line at a time: lines of several children never interleave.
            let _ = writeln!(
                std::io::stderr().lock(),
                "[{} {stream}] {text}",
                origin.name
            );
        }
    }
}
