//! Test support: run the real binary; real receivers on loopback that decode
//! with the official schemas (opentelemetry-proto for OTLP, Loki's push.proto
//! field numbers for Loki).

#![allow(dead_code)]

pub mod certs;
pub mod counting;
pub mod grpc;
pub mod http;
pub mod loki;
pub mod loki_proto;
pub mod otlp;
pub mod podman;

use std::ffi::OsStr;
use std::process::Stdio;
use std::time::{Duration, Instant};

pub use http::{Answer, HttpReceiver};
pub use otlp::*;

/// Every await in a test is bounded by this, so a hang fails instead of blocking CI.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The built binary, with an environment that holds nothing of the runner's
/// OTEL_* or LOGWRAP_* settings.
pub fn logwrap() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_logwrap"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Spawns `cmd` and returns once its child printed "ready" on stdout, with
/// the rest of that stdout.
pub async fn spawn_until_ready(
    mut cmd: tokio::process::Command,
) -> (
    tokio::process::Child,
    tokio::io::BufReader<tokio::process::ChildStdout>,
) {
    use tokio::io::AsyncBufReadExt;
    let mut child = cmd.spawn().unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(TIMEOUT, stdout.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(line, "ready\n");
    (child, stdout)
}

/// A fixture script's path.
pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// What a finished run produced.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Run {
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs logwrap with `args` to the end (bounded by [`TIMEOUT`]).
pub async fn run_logwrap<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = logwrap();
    cmd.args(args);
    run_command(cmd).await
}

pub async fn run_command(mut cmd: tokio::process::Command) -> Run {
    Running {
        started: Instant::now(),
        child: cmd.spawn().expect("spawn logwrap"),
    }
    .finish()
    .await
}

/// Direct children of `pid`, from /proc.
pub fn children_of(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Waits until a child of `pid` (a shell) has started a program of its own.
/// The shell's forked child counts only once it has exec'd: until then it is
/// a copy of the shell, with the shell's signal traps, so a signal sent in
/// that gap is caught by the trap and the program never sees it.
pub fn wait_for_grandchild(pid: i32) {
    let exe = |pid: i32| std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !children_of(pid).into_iter().any(|shell| {
        let shell_exe = exe(shell);
        children_of(shell)
            .into_iter()
            .any(|program| exe(program).is_some_and(|e| Some(e) != shell_exe))
    }) {
        assert!(Instant::now() < deadline, "the shell started nothing");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A logwrap that runs while the test does something else.
pub struct Running {
    pub child: tokio::process::Child,
    started: Instant,
}

/// Starts logwrap with `args`, stdout and stderr piped.
pub fn spawn_logwrap<I, S>(args: I) -> Running
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = logwrap();
    cmd.args(args);
    Running {
        child: cmd.spawn().expect("spawn logwrap"),
        started: Instant::now(),
    }
}

impl Running {
    pub fn pid(&self) -> i32 {
        self.child.id().expect("running") as i32
    }

    /// SIGKILL to logwrap and to its children (the wrapped program, which
    /// would otherwise get only the SIGTERM of PR_SET_PDEATHSIG), then the end.
    pub async fn kill9_with_children(self) -> Run {
        let pid = self.pid();
        let children = children_of(pid);
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        for child in children {
            unsafe { libc::kill(child, libc::SIGKILL) };
        }
        self.finish().await
    }

    /// Waits for the end (bounded by [`TIMEOUT`]).
    pub async fn finish(self) -> Run {
        let output = tokio::time::timeout(TIMEOUT, self.child.wait_with_output())
            .await
            .expect("logwrap did not finish in time")
            .expect("wait for logwrap");
        Run {
            code: output.status.code(),
            stdout: output.stdout,
            stderr: output.stderr,
            elapsed: self.started.elapsed(),
        }
    }
}

/// A loopback port that was free a moment ago: nothing listens there.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `key=N` count from logwrap's "records were not delivered" line; 0
/// when nothing was lost.
pub fn undelivered(stderr: &str, key: &str) -> u64 {
    let Some(line) = stderr
        .lines()
        .find(|l| l.contains("records were not delivered"))
    else {
        return 0;
    };
    let pattern = format!(" {key}=");
    let at = line.find(&pattern).expect("the count is in the line") + pattern.len();
    line[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The command line of `numbered.py` writing `count` lines, with its options.
pub fn numbered(count: u64, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "python3".to_string(),
        fixture("numbered.py"),
        count.to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// logwrap's options, `--`, then the child's command line.
pub fn args(head: &[&str], child: Vec<String>) -> Vec<String> {
    let mut all: Vec<String> = head.iter().map(|s| s.to_string()).collect();
    all.push("--".into());
    all.extend(child);
    all
}

/// What `numbered.py --timing FILE` measured on its own clock: how long the
/// writing took, and the longest a single write(2) was blocked.
pub fn child_times(path: &std::path::Path) -> (Duration, Duration) {
    let text = std::fs::read_to_string(path).expect("the child wrote its timing");
    let mut lines = text
        .lines()
        .map(|l| Duration::from_secs_f64(l.parse().expect("seconds")));
    (lines.next().unwrap(), lines.next().unwrap())
}

/// A tmpfs of `size` (mount's `-o size=`) mounted on `dir`, unmounted on
/// drop; `None` where mounting is not allowed (not root).
pub fn mount_tmpfs(dir: &std::path::Path, size: &str) -> Option<Mount> {
    std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        .then(|| Mount(dir.to_path_buf()))
}

/// Unmounts on drop.
pub struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}
