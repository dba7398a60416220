//! A program whose operators log, to test tagged logs end to end: `talk` emits `tracing`
//! events, `run_child` starts this program again as a child (argument `child`) through
//! `pipetel::process::Command`. The child writes 1 MiB to stdout in 8,192 numbered lines
//! and ten numbered lines to stderr, then `ready`, then waits for the file
//! `PROCESS_LINES_GO` names (at most two minutes) before its last line, `bye`. The parent
//! exports as the `OTEL_*` environment says and prints the child's exit status.

use std::io::Write as _;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use pipetel::operator;

/// Lines of 128 bytes, the line ending included: 1 MiB.
const STDOUT_LINES: usize = 8_192;

fn child() {
    let mut out = std::io::stdout().lock();
    for n in 0..STDOUT_LINES {
        writeln!(out, "out {n:05} {}", "x".repeat(128 - 11)).expect("write stdout");
    }
    for n in 0..10 {
        eprintln!("err {n}");
    }
    writeln!(out, "ready").expect("write stdout");
    out.flush().expect("flush stdout");
    let go = std::env::var_os("PROCESS_LINES_GO").expect("PROCESS_LINES_GO");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::path::Path::new(&go).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    writeln!(out, "bye").expect("write stdout");
}

#[operator(node_type = "logging", node_id = "talker")]
fn talk(n: u64) {
    tracing::info!(n, "talking");
}

#[operator(node_type = "udf", node_id = "chatty")]
fn run_child() -> ExitStatus {
    let program = std::env::current_exe().expect("this program");
    pipetel::process::Command::new(program)
        .arg("child")
        .status()
        .expect("run the child")
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("child") {
        return child();
    }
    let telemetry = pipetel::init();
    for n in 0..3 {
        talk(n);
    }
    let status = run_child();
    println!("child exited: {status}");
    drop(telemetry);
}
