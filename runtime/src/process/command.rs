//! [`Command`]: `std::process::Command` with the child's output relayed line by line as
//! the starting operator's log.

use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;

use super::child::Child;
use super::relay::{self, Origin};
use crate::counters::registry::{self, NO_SERIES};
use crate::counters::thread_state::this_thread;
use crate::insight::figures::names::names_of;

/// A program to start, as `std::process::Command`, whose stdout and stderr are relayed
/// line by line while it runs: each line a log line of the operator whose call starts it
/// (counted in its [`logs`](crate::snapshot::OperatorSnapshot::logs)), an OTLP log record
/// while logs are exported (tagged `node.id`, `node.type`, `log.iostream`,
/// `process.pid`), and a line on this program's stderr prefixed with the operator and the
/// stream, unless [`echo(false)`](Self::echo).
///
/// Each stream is read on a thread of its own as the child writes it, so a child never
/// blocks on a full pipe, however much it writes; lines keep their order within a
/// stream. A line longer than [`PROCESS_LINE_BYTES`](crate::process::PROCESS_LINE_BYTES)
/// goes in pieces. Its stdout and stderr are always captured (what [`as_std_mut`](Self::as_std_mut)
/// sets for them is replaced); its stdin is the caller's to choose.
///
/// ```
/// # #[cfg(unix)] {
/// let telemetry = pipetel::Config::new().collect_locally(true).init();
///
/// #[pipetel::operator(node_type = "udf", node_id = "shout")]
/// fn shout() -> std::io::Result<std::process::ExitStatus> {
///     pipetel::process::Command::new("sh")
///         .args(["-c", "echo one; echo two >&2"])
///         .echo(false)
///         .status()
/// }
/// assert!(shout().unwrap().success());
/// let udf = pipetel::snapshot().operator("udf", "shout").cloned().unwrap();
/// assert_eq!(udf.logs.unwrap().lines, 2);
/// # drop(telemetry);
/// # }
/// ```
#[derive(Debug)]
pub struct Command {
    command: std::process::Command,
    echo: bool,
}

impl Command {
    /// A command to run `program`, as [`std::process::Command::new`].
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Sets an environment variable of the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.command.env(key, value);
        self
    }

    /// Removes an environment variable from the child's.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.command.env_remove(key);
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.command.current_dir(dir);
        self
    }

    /// Whether each line also goes to this program's stderr, prefixed
    /// `[<operator> stdout]` or `[<operator> stderr]` (default: yes).
    pub fn echo(&mut self, echo: bool) -> &mut Command {
        self.echo = echo;
        self
    }

    /// The `std::process::Command` inside, for what this type does not forward.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.command
    }

    /// Starts the child, its output relayed from now on.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let executable = self.command.get_program().to_string_lossy().into_owned();
        let series = this_thread().current().series;
        let operator = (series != NO_SERIES)
            .then(|| {
                registry::with_labels(|labels| {
                    labels
                        .get(series as usize)
                        .map(|label| (label.node_type, label.node_id))
                })
            })
            .flatten();
        let mut child = self
            .command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let name = match operator {
            Some((node_type, node_id)) => {
                let key = (node_type.to_owned(), node_id.to_owned());
                names_of(vec![key.clone()]).remove(&key).unwrap_or_default()
            }
            None => executable.clone(),
        };
        let origin = Arc::new(Origin {
            series,
            operator,
            name,
            executable,
            pid: child.id(),
            echo: self.echo,
        });
        let mut relays = Vec::with_capacity(2);
        if let Some(stdout) = child.stdout.take() {
            relays.push(relay::start(stdout, "stdout", origin.clone())?);
        }
        if let Some(stderr) = child.stderr.take() {
            relays.push(relay::start(stderr, "stderr", origin)?);
        }
        Ok(Child::new(child, relays))
    }

    /// Runs the child to its end, its output relayed as it comes; its exit status.
    pub fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait()
    }
}

impl From<std::process::Command> for Command {
    /// `command`, its output to be relayed.
    fn from(command: std::process::Command) -> Command {
        Command {
            command,
            echo: true,
        }
    }
}
