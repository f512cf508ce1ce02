//! Signals sent to logwrap reach the child; the pipeline keeps running.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::*;

/// Starts logwrap on the trap fixture and returns it once the child is ready.
async fn start_trapper(
    receiver: &OtlpReceiver,
) -> (
    tokio::process::Child,
    BufReader<tokio::process::ChildStdout>,
) {
    let mut cmd = logwrap();
    cmd.args([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        &fixture("traps.sh"),
    ]);
    spawn_until_ready(cmd).await
}

#[tokio::test]
async fn every_listed_signal_is_forwarded_and_sigterm_ends_with_the_childs_code() {
    let receiver = OtlpReceiver::start().await;
    let (mut child, mut stdout) = start_trapper(&receiver).await;
    let pid = child.id().unwrap() as i32;
    for (signal, name) in [
        (libc::SIGHUP, "HUP"),
        (libc::SIGQUIT, "QUIT"),
        (libc::SIGUSR1, "USR1"),
        (libc::SIGUSR2, "USR2"),
        (libc::SIGWINCH, "WINCH"),
        (libc::SIGCONT, "CONT"),
    ] {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid, signal) };
        let mut line = String::new();
        tokio::time::timeout(TIMEOUT, stdout.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(line, format!("got {name}\n"));
    }
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        status.code(),
        Some(7),
        "the child's own exit code after its TERM trap"
    );

    // Its last words were shipped.
    let bodies: Vec<String> = receiver.records().iter().map(body_text).collect();
    assert_eq!(bodies.first().map(String::as_str), Some("ready"));
    assert_eq!(bodies.last().map(String::as_str), Some("got TERM"));
    assert_eq!(bodies.len(), 8);
    let events = receiver.events();
    assert_eq!(events.len(), 2, "a start and an exit event");
}

#[tokio::test]
async fn a_child_that_dies_of_the_forwarded_signal_gives_128_plus_n() {
    let mut cmd = logwrap();
    cmd.args([
        "--exporter",
        "none",
        "--",
        "sh",
        "-c",
        "echo ready; exec sleep 30",
    ]);
    let mut child = cmd.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(TIMEOUT, stdout.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    // `exec` replaced sh with sleep; give it a moment to be sleep.
    tokio::time::sleep(Duration::from_millis(100)).await;
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGINT) };
    let status = tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(130));
}
