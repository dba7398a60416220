//! Log records of lines no `tracing` event carries — the output of the child processes
//! an operator starts (`process`) — sent to pipetel's logger provider while logs are
//! exported, tagged with the operator and the stream.

use std::sync::RwLock;
use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};

use crate::names;

/// The running provider and its logger, while logs are exported.
static LINES: RwLock<Option<(SdkLoggerProvider, SdkLogger)>> = RwLock::new(None);

/// Makes `provider` (or none) the one lines go to.
pub(crate) fn install(provider: Option<&SdkLoggerProvider>) {
    let installed = provider.map(|provider| (provider.clone(), provider.logger(names::SCOPE)));
    if let Ok(mut lines) = LINES.write() {
        *lines = installed;
    }
}

/// One line of a child process.
pub(crate) struct Line<'a> {
    /// The operator that started the child: (`node.type`, `node.id`).
    pub(crate) operator: Option<(&'a str, &'a str)>,
    /// `stdout` or `stderr` (`log.iostream`).
    pub(crate) stream: &'static str,
    /// The child's process id.
    pub(crate) pid: u32,
    /// The child's executable, as it was started.
    pub(crate) executable: &'a str,
    pub(crate) text: &'a str,
}

/// Sends `line` as a log record, when logs are exported; returns whether it was.
pub(crate) fn emit(line: &Line<'_>) -> bool {
    let Ok(lines) = LINES.read() else {
        return false;
    };
    let Some((_, logger)) = lines.as_ref() else {
        return false;
    };
    let mut record = logger.create_log_record();
    record.set_timestamp(SystemTime::now());
    record.set_observed_timestamp(SystemTime::now());
    record.set_severity_number(Severity::Info);
    record.set_severity_text("INFO");
    record.set_body(AnyValue::from(line.text.to_owned()));
    if let Some((node_type, node_id)) = line.operator {
        record.add_attribute(names::NODE_ID, node_id.to_owned());
        record.add_attribute(names::NODE_TYPE, node_type.to_owned());
    }
    record.add_attribute("log.iostream", line.stream);
    record.add_attribute("process.pid", i64::from(line.pid));
    record.add_attribute("process.executable.name", line.executable.to_owned());
    logger.emit(record);
    true
}

/// Waits until the lines sent so far are exported (or failed): the batch processor's
/// queue is bounded, and a child writing faster than it exports would fill it.
pub(crate) fn flush() {
    let provider = LINES
        .read()
        .ok()
        .and_then(|lines| lines.as_ref().map(|(provider, _)| provider.clone()));
    if let Some(provider) = provider {
        let _ = provider.force_flush();
    }
}
