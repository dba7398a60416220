//! What the command prints on stdout: written as a whole, and a reader that stops
//! reading (`| head`, a pager quit) ends the command quietly, where `print!` would panic.

use std::fmt::Display;
use std::io::{ErrorKind, Write as _};

/// Writes `text` to stdout.
pub(crate) fn print(text: impl Display) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    match write!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::BrokenPipe => std::process::exit(0),
        Err(error) => Err(format!("writing to stdout: {error}")),
    }
}
