//! [`Child`]: a running child process whose output is being relayed.

use std::io;
use std::process::{ChildStdin, ExitStatus};
use std::thread::JoinHandle;

/// A child started by [`Command::spawn`](crate::process::Command::spawn). Dropped without
/// [`wait`](Self::wait), it runs on, and its lines are still relayed until it closes its
/// output.
#[derive(Debug)]
pub struct Child {
    child: std::process::Child,
    relays: Vec<JoinHandle<()>>,
}

impl Child {
    pub(crate) fn new(child: std::process::Child, relays: Vec<JoinHandle<()>>) -> Child {
        Child { child, relays }
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The child's stdin, when it was made a pipe (`as_std_mut().stdin(Stdio::piped())`).
    pub fn stdin(&mut self) -> Option<&mut ChildStdin> {
        self.child.stdin.as_mut()
    }

    /// Kills the child, as [`std::process::Child::kill`].
    pub fn kill(&mut self) -> io::Result<()> {
        self.child.kill()
    }

    /// The exit status if the child has exited, without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Waits for the child to exit and for every line it wrote to be relayed; its exit
    /// status. A grandchild that inherited its output and outlives it holds the wait
    /// until it closes the output too.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        // Its stdin first, as `std::process::Child::wait` does: a child reading it to
        // its end would otherwise wait for us.
        drop(self.child.stdin.take());
        let status = self.child.wait()?;
        for relay in self.relays.drain(..) {
            let _ = relay.join();
        }
        Ok(status)
    }
}
