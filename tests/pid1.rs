//! logwrap as PID 1 of a new PID namespace (`unshare --pid --fork
//! --mount-proc`, which needs root), as in a container, and the same
//! scenarios under Debian's tini for comparison. Tests skip, saying so, where
//! unshare or root is missing; the tini side skips where tini is missing.

use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt;

use crate::support::*;

fn can_unshare() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let ok = root
        && std::process::Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "true"])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: PID-namespace tests need root and unshare(1)");
    }
    ok
}

fn has_tini() -> bool {
    let ok = std::process::Command::new("tini")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: the tini comparison needs tini (apt-get install tini)");
    }
    ok
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Init {
    Logwrap,
    Tini,
}

/// `unshare --pid --fork --mount-proc <init> -- <child...>`; for logwrap the
/// given options go before `--`.
fn in_namespace(
    init: Init,
    logwrap_args: &[&str],
    tini_args: &[&str],
    child: &[&str],
) -> tokio::process::Command {
    let mut cmd = namespace();
    match init {
        Init::Logwrap => cmd.arg(env!("CARGO_BIN_EXE_logwrap")).args(logwrap_args),
        Init::Tini => cmd.arg("tini").args(tini_args),
    };
    cmd.arg("--").args(child);
    cmd
}

/// `unshare --pid --fork --mount-proc`, with the clean environment of the
/// other tests.
fn namespace() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// The host pid of the namespace's PID 1 (unshare's only child).
fn namespace_init(unshare_pid: u32) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let children =
            std::fs::read_to_string(format!("/proc/{unshare_pid}/task/{unshare_pid}/children"))
                .unwrap_or_default();
        if let Some(pid) = children.split_whitespace().next() {
            return pid.parse().unwrap();
        }
        assert!(Instant::now() < deadline, "no init under unshare");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts the namespace and waits for "ready" on stdout.
async fn start_ready(cmd: tokio::process::Command) -> (tokio::process::Child, i32) {
    let (child, mut stdout) = spawn_until_ready(cmd).await;
    // Keep reading so the child never blocks on a full pipe.
    tokio::spawn(async move {
        let mut rest = String::new();
        while stdout.read_line(&mut rest).await.is_ok_and(|n| n > 0) {}
    });
    let init = namespace_init(child.id().unwrap());
    (child, init)
}

fn kill(pid: i32, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, signal) };
}

/// Lists `pid state comm` of every process in the namespace, from inside.
const LIST_PROCESSES: &str =
    "for f in /proc/[0-9]*/stat; do cut -d' ' -f1-3 \"$f\" 2>/dev/null; done";

fn zombies(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some("Z"))
        .map(str::to_string)
        .collect()
}

async fn orphans_left_as_zombies(init: Option<Init>) -> Vec<String> {
    // Three orphans exit while the main child is still running, then it
    // lists what the namespace holds.
    let script = format!("for i in 1 2 3; do (sleep 0.1 &); done; sleep 0.6; {LIST_PROCESSES}");
    let cmd = match init {
        Some(init) => in_namespace(init, &["--exporter", "none"], &[], &["sh", "-c", &script]),
        None => {
            // PID 1 is a sleep, which reaps nothing: orphans stay zombies.
            let mut c = namespace();
            c.args(["sh", "-c", &format!("({script}) & exec sleep 1")]);
            c
        }
    };
    let run = run_command(cmd).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    zombies(&run.stdout_text())
}

#[tokio::test]
async fn orphaned_zombies_are_reaped() {
    if !can_unshare() {
        return;
    }
    // The check itself can fail: without a reaping init, zombies stay.
    assert!(
        !orphans_left_as_zombies(None).await.is_empty(),
        "the control run must show zombies"
    );
    assert_eq!(
        orphans_left_as_zombies(Some(Init::Logwrap)).await,
        Vec::<String>::new()
    );
    if has_tini() {
        assert_eq!(
            orphans_left_as_zombies(Some(Init::Tini)).await,
            Vec::<String>::new()
        );
    }
}

#[tokio::test]
async fn sigterm_to_a_trapping_child_gives_its_code_and_ships_its_last_lines() {
    if !can_unshare() {
        return;
    }
    let receiver = OtlpReceiver::start().await;
    let script = "trap 'echo last words; exit 7' TERM; echo ready; while :; do sleep 0.05; done";
    for init in [Init::Logwrap, Init::Tini] {
        if init == Init::Tini && !has_tini() {
            continue;
        }
        let cmd = in_namespace(
            init,
            &["--otlp-endpoint", &receiver.endpoint()],
            &[],
            &["sh", "-c", script],
        );
        let (mut child, pid1) = start_ready(cmd).await;
        kill(pid1, libc::SIGTERM);
        let status = tokio::time::timeout(TIMEOUT, child.wait())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.code(), Some(7), "{init:?}");
    }
    let bodies: Vec<String> = receiver.records().iter().map(body_text).collect();
    assert_eq!(bodies, ["ready", "last words"], "logwrap shipped them");
}

#[tokio::test]
async fn a_child_that_ignores_sigterm_is_killed_after_the_timeout_where_tini_waits() {
    if !can_unshare() {
        return;
    }
    let script = "trap '' TERM; echo ready; while :; do sleep 0.05; done";
    let cmd = in_namespace(
        Init::Logwrap,
        &["--exporter", "none", "--stop-timeout", "1s"],
        &[],
        &["sh", "-c", script],
    );
    let (mut child, pid1) = start_ready(cmd).await;
    let started = Instant::now();
    kill(pid1, libc::SIGTERM);
    let status = tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(137));
    assert!(
        started.elapsed() >= Duration::from_millis(900)
            && started.elapsed() < Duration::from_secs(6)
    );

    if has_tini() {
        let cmd = in_namespace(Init::Tini, &[], &[], &["sh", "-c", script]);
        let (mut child, pid1) = start_ready(cmd).await;
        kill(pid1, libc::SIGTERM);
        let waited = tokio::time::timeout(Duration::from_secs(3), child.wait()).await;
        assert!(
            waited.is_err(),
            "tini has no stop timeout: the child keeps running"
        );
        kill(pid1, libc::SIGKILL);
        let _ = child.wait().await;
    }
}

#[tokio::test]
async fn sh_c_with_and_without_the_process_group() {
    if !can_unshare() {
        return;
    }
    // The shell traps TERM, so it acts only when its foreground sleep ends.
    let script = "trap 'echo shell got TERM' TERM; echo ready; sleep 30";
    // (init, logwrap's options, tini's options, expected exit code or None for "never ends")
    type Case<'a> = (Init, &'a [&'a str], &'a [&'a str], Option<i32>);
    let cases: [Case; 4] = [
        (
            Init::Logwrap,
            &["--exporter", "none", "--stop-timeout", "1s"],
            &[],
            Some(137),
        ),
        (
            Init::Logwrap,
            &[
                "--exporter",
                "none",
                "--stop-timeout",
                "1s",
                "--signal-group",
            ],
            &[],
            Some(143),
        ),
        (Init::Tini, &[], &[], None),
        (Init::Tini, &[], &["-g"], Some(143)),
    ];
    for (init, logwrap_args, tini_args, expected) in cases {
        if init == Init::Tini && !has_tini() {
            continue;
        }
        let cmd = in_namespace(init, logwrap_args, tini_args, &["sh", "-c", script]);
        let (mut child, pid1) = start_ready(cmd).await;
        // The sleep must be running, or the TERM reaches the shell first.
        wait_for_grandchild(pid1);
        kill(pid1, libc::SIGTERM);
        let status = tokio::time::timeout(Duration::from_secs(4), child.wait()).await;
        match expected {
            Some(code) => {
                let status = status.unwrap_or_else(|_| {
                    panic!("{init:?} {logwrap_args:?} {tini_args:?} did not end")
                });
                assert_eq!(
                    status.unwrap().code(),
                    Some(code),
                    "{init:?} {logwrap_args:?} {tini_args:?}"
                );
            }
            None => {
                assert!(
                    status.is_err(),
                    "tini without -g: the TERM never reaches the sleep"
                );
                kill(pid1, libc::SIGKILL);
                let _ = child.wait().await;
            }
        }
    }
}

#[tokio::test]
async fn every_exit_code_passes_through() {
    if !can_unshare() {
        return;
    }
    let tini = has_tini();
    for code in 0..=255u16 {
        let script = format!("exit {code}");
        let run = run_command(in_namespace(
            Init::Logwrap,
            &["--exporter", "none"],
            &[],
            &["sh", "-c", &script],
        ))
        .await;
        assert_eq!(run.code, Some(code as i32), "logwrap, exit {code}");
        if tini && code % 17 == 0 {
            let run = run_command(in_namespace(Init::Tini, &[], &[], &["sh", "-c", &script])).await;
            assert_eq!(run.code, Some(code as i32), "tini, exit {code}");
        }
    }
}

#[tokio::test]
async fn a_grandchild_holding_the_pipes_does_not_hold_the_container() {
    if !can_unshare() {
        return;
    }
    let receiver = OtlpReceiver::start().await;
    let script = "(trap '' TERM; sleep 30) & echo main done";
    let run = run_command(in_namespace(
        Init::Logwrap,
        &[
            "--otlp-endpoint",
            &receiver.endpoint(),
            "--stop-timeout",
            "500ms",
        ],
        &[],
        &["sh", "-c", script],
    ))
    .await;
    assert_eq!(run.code, Some(0));
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    assert_eq!(
        receiver.records().iter().map(body_text).collect::<Vec<_>>(),
        ["main done"]
    );
    if has_tini() {
        // tini exits with the main child; the kernel then kills the rest.
        let run = run_command(in_namespace(Init::Tini, &[], &[], &["sh", "-c", script])).await;
        assert_eq!(run.code, Some(0));
    }
}
