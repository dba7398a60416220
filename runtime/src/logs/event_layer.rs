//! [`OperatorLines`]: the `tracing` layer that counts each event (`INFO` and above, as
//! exported) emitted inside an operator's call as a line of that operator
//! (`logs::operator_lines`), whether or not logs are exported. Events outside any
//! operator cost it one thread-local read; events below `INFO` are not enabled by it, so
//! a `debug!` in a hot loop stays as cheap as the program's own filter makes it.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::{Filtered, LevelFilter};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

use crate::counters::registry::NO_SERIES;
use crate::counters::thread_state::this_thread;
use crate::logs::operator_lines::{record, Severity};

/// Counts and keeps the events emitted inside operators, by operator.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OperatorLines;

/// [`OperatorLines`] for events of `INFO` and above.
pub(crate) fn operator_lines<S: Subscriber>() -> Filtered<OperatorLines, LevelFilter, S> {
    OperatorLines.with_filter(LevelFilter::INFO)
}

impl<S: Subscriber> Layer<S> for OperatorLines {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        let series = this_thread().current().series;
        if series == NO_SERIES {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        let metadata = event.metadata();
        record(
            series,
            Severity::from(metadata.level()),
            metadata.target(),
            &text.0,
        );
    }
}

/// An event's fields as a line: the message, then each other field as `name=value`.
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let fields = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}{fields}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_comes_first_then_the_fields() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let captured = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        struct Capture(std::sync::Arc<std::sync::Mutex<String>>);
        impl<S: Subscriber> Layer<S> for Capture {
            fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
                let mut text = Text::default();
                event.record(&mut text);
                *self.0.lock().expect("lock") = text.0;
            }
        }
        let subscriber = tracing_subscriber::registry().with(Capture(captured.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(rows = 3, path = "a.csv", "loaded {} batches", 2);
        });
        assert_eq!(
            *captured.lock().expect("lock"),
            "loaded 2 batches rows=3 path=\"a.csv\""
        );
    }
}
