//! Running an instrumented program as a child process, with exactly the environment a
//! test gives it.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs `program` with `args` and exactly the `OTEL_*` variables given (the test's own
/// `OTEL_*` and `PIPETEL_*` environment is removed), killing it after `timeout`.
pub fn run(program: &str, args: &[&str], env: &[(&str, &str)], timeout: Duration) -> Output {
    run_in(None, program, args, env, timeout)
}

/// Fails the test, with the program's standard error, unless it exited successfully.
#[track_caller]
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// [`run`] in the working directory `dir` (the test's own when `None`).
pub fn run_in(
    dir: Option<&std::path::Path>,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> Output {
    let mut command = command(program, args, env);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let child = command.spawn().expect("start the instrumented program");
    wait_for_exit(child, timeout)
}

/// Runs `program` (which must wait for its standard input to close, as `instrumented
/// --until-stdin-closes` does) until `done` holds, checked every 20 ms; then closes its
/// standard input and waits for it to exit. `timeout` bounds the whole: a test on a slow
/// machine waits longer, one that would hang fails.
pub fn run_until(
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
    done: impl Fn() -> bool,
    timeout: Duration,
) -> Output {
    let mut command = command(program, args, env);
    command.stdin(Stdio::piped());
    let mut child = command.spawn().expect("start the instrumented program");
    let deadline = Instant::now() + timeout;
    while !done() && Instant::now() < deadline && child.try_wait().ok().flatten().is_none() {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(child.stdin.take());
    wait_for_exit(child, deadline.saturating_duration_since(Instant::now()))
}

/// Starts `program` as [`run`] does, and leaves it running: the caller reads its output
/// (both captured) and waits for it with [`wait_for_exit`].
pub fn start(program: &str, args: &[&str], env: &[(&str, &str)]) -> Child {
    command(program, args, env)
        .spawn()
        .expect("start the instrumented program")
}

/// The command for `program`, its output captured, with the test's own telemetry
/// environment replaced by `env`.
fn command(program: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") || key.starts_with("PIPETEL_") || key == "TRACEPARENT" {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// Waits (at most `timeout`, then kills it) for `child` to exit; its output, read while
/// it runs (a child that writes more than a pipe holds would otherwise wait forever).
pub fn wait_for_exit(mut child: Child, timeout: Duration) -> Output {
    fn drain(
        pipe: Option<impl std::io::Read + Send + 'static>,
    ) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut read = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut read);
            }
            read
        })
    }
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout read"),
        stderr: stderr.join().expect("stderr read"),
    }
}

/// `endpoint` as pipetel shows it: the password of `scheme://user:password@host`
/// replaced by `***`.
pub fn redacted(endpoint: &str) -> String {
    match endpoint.split_once("://").and_then(|(scheme, rest)| {
        let (user_info, host) = rest.split_once('@')?;
        let (user, _) = user_info.split_once(':')?;
        Some(format!("{scheme}://{user}:***@{host}"))
    }) {
        Some(shown) => shown,
        None => endpoint.to_owned(),
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The path of `command` on `PATH`, or a failure saying to install Debian's `packages`
/// (as `scripts/test`, the README's test command, does when they are missing).
pub fn on_path(command: &str, packages: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(command))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{command}` is not installed: `apt-get install -y {packages}` \
                 (Debian's packages), or run the tests with `scripts/test`, which installs them"
            )
        })
}

/// Reads `child`'s standard error on a thread of its own: sends what follows `prefix` on
/// each line that starts with it (an address the program prints, say) as it comes, and
/// returns every line once the program closes it.
pub fn watch_stderr(
    child: &mut Child,
    prefix: &'static str,
) -> (mpsc::Receiver<String>, std::thread::JoinHandle<Vec<String>>) {
    let (found, receiver) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr captured");
    let lines = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix(prefix) {
                let _ = found.send(rest.to_owned());
            }
            lines.push(line);
        }
        lines
    });
    (receiver, lines)
}
