//! Child processes whose output is the operator's log: [`Command`] starts a program as
//! `std::process::Command` does, and relays each line the child writes to its stdout and
//! stderr, as it writes it, as a log line of the operator that started it (`logs`), an
//! OTLP log record while logs are exported (`export::line_logs`), and — unless told
//! otherwise — a line on the parent's stderr with a prefix naming the operator and the
//! stream.

mod child;
mod command;
mod line_reader;
mod relay;

pub use child::Child;
pub use command::Command;
pub use line_reader::PROCESS_LINE_BYTES;
pub use relay::PROCESS_LINES_PER_FLUSH;
