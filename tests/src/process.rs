//! Running an instrumented program as a child process, with exactly the environment a
//! test gives it.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Runs `program` with `args` and exactly the `OTEL_*` variables given (the test's own
/// `OTEL_*` and `PIPETEL_*` environment is removed), killing it after `timeout`.
pub fn run(program: &str, args: &[&str], env: &[(&str, &str)], timeout: Duration) -> Output {
    run_in(None, program, args, env, timeout)
}

/// [`run`] in the working directory `dir` (the test's own when `None`).
pub fn run_in(
    dir: Option<&std::path::Path>,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> Output {
    let mut command = Command::new(program);
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") || key.starts_with("PIPETEL_") || key == "TRACEPARENT" {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("start the instrumented program");
    let deadline = Instant::now() + timeout;
    loop {
        if child.try_wait().expect("wait").is_some() || Instant::now() >= deadline {
            let _ = child.kill();
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(10));
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
