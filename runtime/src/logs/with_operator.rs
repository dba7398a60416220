//! [`WithOperator`]: a `tracing_subscriber::fmt` event format that adds `node.type` and
//! `node.id` to each event emitted inside an operator's call, as the program's own log
//! lines print their fields.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::counters::registry::{self, NO_SERIES};
use crate::counters::thread_state::this_thread;

/// Wraps one of `tracing_subscriber::fmt`'s formats (full, compact, pretty, JSON) so that
/// an event emitted inside an operator's call prints the operator's labels: after the
/// event's fields (`node.type=filter node.id=orders`), or for JSON as the object's first
/// keys. Events outside any operator print as the wrapped format prints them.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// let telemetry = pipetel::Config::new()
///     .collect_locally(true)
///     .install_log_subscriber(false)
///     .init();
/// let subscriber = tracing_subscriber::registry()
///     .with(
///         tracing_subscriber::fmt::layer()
///             .event_format(pipetel::logs::WithOperator::new(tracing_subscriber::fmt::format())),
///     )
///     .with(telemetry.log_layer());
/// let _default = tracing::subscriber::set_default(subscriber);
///
/// #[pipetel::operator(node_type = "filter", node_id = "small")]
/// fn keep_small(batch: Vec<u32>) -> Vec<u32> {
///     tracing::info!(rows = batch.len(), "filtering"); // … INFO …: filtering rows=4 node.type=filter node.id=small
///     batch.into_iter().filter(|&n| n < 10).collect()
/// }
/// keep_small(vec![1, 20, 3, 40]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct WithOperator<F> {
    format: F,
}

impl<F> WithOperator<F> {
    /// `format`, adding the operator's labels to events inside operators.
    pub fn new(format: F) -> Self {
        WithOperator { format }
    }
}

impl<S, N, L, T> FormatEvent<S, N> for WithOperator<Format<L, T>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    Format<L, T>: FormatEvent<S, N> + Clone,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some((node_type, node_id)) = current_labels() else {
            return self.format.format_event(context, writer, event);
        };
        // Formatted apart, to place the labels: with the writer's colours, which the
        // format is told since its own writer has none.
        let mut line = String::new();
        self.format
            .clone()
            .with_ansi(writer.has_ansi_escapes())
            .format_event(context, Writer::new(&mut line), event)?;
        writer.write_str(&with_labels(&line, node_type, node_id))
    }
}

/// The labels of the operator running on this thread, if any.
fn current_labels() -> Option<(&'static str, &'static str)> {
    let series = this_thread().current().series;
    if series == NO_SERIES {
        return None;
    }
    registry::with_labels(|labels| {
        labels
            .get(series as usize)
            .map(|label| (label.node_type, label.node_id))
    })
}

/// `line` (one formatted event) with the labels: a JSON object's first keys, or fields
/// before its line ending.
fn with_labels(line: &str, node_type: &str, node_id: &str) -> String {
    if let Some(rest) = line.strip_prefix('{') {
        let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
        let separator = if rest.trim_start().starts_with('}') {
            ""
        } else {
            ","
        };
        return format!(
            "{{\"node.type\":{},\"node.id\":{}{separator}{rest}",
            quoted(node_type),
            quoted(node_id)
        );
    }
    let body = line.trim_end_matches(['\n', '\r']);
    let ending = &line[body.len()..];
    format!("{body} node.type={node_type} node.id={node_id}{ending}")
}

#[cfg(test)]
mod tests {
    use super::with_labels;

    #[test]
    fn labels_go_after_the_fields_or_first_in_a_json_object() {
        assert_eq!(
            with_labels("INFO app: read rows=3\n", "scan", "a.csv"),
            "INFO app: read rows=3 node.type=scan node.id=a.csv\n"
        );
        assert_eq!(
            with_labels("{\"level\":\"INFO\"}\n", "scan", "say \"hi\""),
            "{\"node.type\":\"scan\",\"node.id\":\"say \\\"hi\\\"\",\"level\":\"INFO\"}\n"
        );
        assert_eq!(
            with_labels("{}", "scan", "1"),
            "{\"node.type\":\"scan\",\"node.id\":\"1\"}"
        );
    }
}
