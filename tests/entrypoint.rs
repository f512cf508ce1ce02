//! logwrap as an entrypoint: stopping the child, lifecycle events, the run
//! as a trace, pipe mode, the pseudo-terminal.

use std::process::Stdio;
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::any_value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::support::*;

/// Starts logwrap and returns once the child printed "ready" on stdout.
async fn start_until_ready(
    args: &[&str],
) -> (
    tokio::process::Child,
    BufReader<tokio::process::ChildStdout>,
) {
    let mut cmd = logwrap();
    cmd.args(args);
    spawn_until_ready(cmd).await
}

/// Sends `signal` and waits for logwrap to end: its exit code and how long
/// that took.
async fn signal_and_wait(
    child: &mut tokio::process::Child,
    signal: i32,
) -> (Option<i32>, Duration) {
    let started = std::time::Instant::now();
    kill(child, signal);
    let status = tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .unwrap()
        .unwrap();
    (status.code(), started.elapsed())
}

fn kill(child: &tokio::process::Child, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id().unwrap() as i32, signal) };
}

#[tokio::test]
async fn a_child_that_ignores_sigterm_is_killed_after_the_stop_timeout() {
    let receiver = OtlpReceiver::start().await;
    let (mut child, _stdout) = start_until_ready(&[
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--stop-timeout",
        "700ms",
        "--",
        "sh",
        "-c",
        "trap 'echo ignoring TERM' TERM; echo ready; while :; do sleep 0.05; done",
    ])
    .await;
    let (code, took) = signal_and_wait(&mut child, libc::SIGTERM).await;
    assert_eq!(code, Some(137));
    assert!(
        took >= Duration::from_millis(650),
        "waited the stop timeout: {took:?}"
    );
    assert!(took < Duration::from_secs(8), "{took:?}");
    let exit = receiver
        .events()
        .into_iter()
        .find(|e| e.event_name == "logwrap.process.exit")
        .expect("an exit event");
    assert_eq!(
        attr(&exit.attributes, "process.exit.code"),
        Some(&any_value::Value::IntValue(137))
    );
    assert_eq!(
        attr_str(&exit.attributes, "logwrap.process.signal").as_deref(),
        Some("SIGKILL")
    );
    assert!(
        receiver
            .records()
            .iter()
            .any(|r| body_text(r) == "ignoring TERM")
    );
}

#[tokio::test]
async fn a_second_stop_signal_ends_the_wait_at_once() {
    let (mut child, _stdout) = start_until_ready(&[
        "--exporter",
        "none",
        "--stop-timeout",
        "30s",
        "--",
        "sh",
        "-c",
        "trap '' TERM INT; echo ready; while :; do sleep 0.05; done",
    ])
    .await;
    kill(&child, libc::SIGTERM);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (code, took) = signal_and_wait(&mut child, libc::SIGINT).await;
    assert_eq!(code, Some(137));
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn lifecycle_events_tell_how_the_run_went() {
    let receiver = OtlpReceiver::start().await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "python3",
        "-c",
        "x = bytearray(30 * 1024 * 1024); import sys; sys.exit(3)",
    ])
    .await;
    assert_eq!(run.code, Some(3));
    let events = receiver.events();
    assert_eq!(events.len(), 2, "{events:#?}");
    let start = &events[0];
    assert_eq!(start.event_name, "logwrap.process.start");
    assert_eq!(
        attr_str(&start.attributes, "process.command").as_deref(),
        Some("python3")
    );
    assert!(start.time_unix_nano > 0);
    let exit = &events[1];
    assert_eq!(exit.event_name, "logwrap.process.exit");
    assert_eq!(
        (exit.severity_number, exit.severity_text.as_str()),
        (17, "ERROR")
    );
    assert_eq!(
        attr(&exit.attributes, "process.exit.code"),
        Some(&any_value::Value::IntValue(3))
    );
    let Some(any_value::Value::IntValue(rss)) =
        attr(&exit.attributes, "logwrap.process.max_rss_bytes")
    else {
        panic!("max RSS is reported");
    };
    assert!(
        *rss > 30 * 1024 * 1024,
        "the kernel's max RSS of the child: {rss}"
    );
    assert!(matches!(
        attr(&exit.attributes, "logwrap.process.cpu.user_seconds"),
        Some(any_value::Value::DoubleValue(_))
    ));
    assert!(body_text(exit).contains("exited with code 3"));
    // The start event's pid is the resource's pid.
    let resource = &receiver.requests()[0].request.resource_logs[0]
        .resource
        .clone()
        .unwrap()
        .attributes;
    assert_eq!(
        attr(resource, "process.pid"),
        attr(&start.attributes, "process.pid")
    );
}

#[tokio::test]
async fn exit_codes_can_be_remapped() {
    let run = run_logwrap([
        "--exporter",
        "none",
        "--remap-exit-code",
        "143=0",
        "--",
        "sh",
        "-c",
        "kill -TERM $$",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    let run = run_logwrap([
        "--exporter",
        "none",
        "--remap-exit-code",
        "143=0",
        "--",
        "sh",
        "-c",
        "exit 3",
    ])
    .await;
    assert_eq!(run.code, Some(3));
    let run = run_logwrap(["--remap-exit-code", "143", "--", "true"]).await;
    assert_eq!(run.code, Some(2));
}

#[tokio::test]
async fn signal_group_reaches_what_a_shell_started() {
    // The shell traps TERM, so the signal waits until its foreground sleep
    // ends: only the group signal reaches the sleep.
    let script = "trap 'echo shell got TERM' TERM; echo ready; sleep 30";
    // TERM once the sleep runs (or the TERM reaches the shell first): the
    // exit code and how long logwrap took to end.
    let stop = |group: bool| async move {
        let mut args = vec!["--exporter", "none", "--stop-timeout", "1s"];
        if group {
            args.push("--signal-group");
        }
        args.extend(["--", "sh", "-c", script]);
        let (mut child, _) = start_until_ready(&args).await;
        wait_for_grandchild(child.id().unwrap() as i32);
        signal_and_wait(&mut child, libc::SIGTERM).await
    };

    let (code, took) = stop(true).await;
    assert_eq!(
        code,
        Some(143),
        "sleep died of TERM and the shell passed that on"
    );
    assert!(took < Duration::from_millis(900), "{took:?}");

    let (code, took) = stop(false).await;
    assert_eq!(
        code,
        Some(137),
        "without the group, only the stop timeout ends it"
    );
    assert!(took >= Duration::from_millis(900));
}

#[tokio::test]
async fn the_run_is_a_span_in_the_callers_trace() {
    let receiver = OtlpReceiver::start().await;
    let parent_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_span = "00f067aa0ba902b7";
    let mut cmd = logwrap();
    cmd.env("TRACEPARENT", format!("00-{parent_trace}-{parent_span}-01")).args([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--trace",
        "--",
        "sh",
        "-c",
        r#"echo "child sees $TRACEPARENT"; echo '{"msg":"own ids","trace_id":"11111111111111111111111111111111","span_id":"2222222222222222"}'; exit 4"#,
    ]);
    let run = run_command(cmd).await;
    assert_eq!(run.code, Some(4), "{}", run.stderr_text());

    let spans = receiver.spans();
    assert_eq!(spans.len(), 1, "one span for the run");
    let span = &spans[0];
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(hex(&span.trace_id), parent_trace, "a child of TRACEPARENT");
    assert_eq!(hex(&span.parent_span_id), parent_span);
    assert_eq!(span.name, "run sh");
    assert_eq!(
        span.status.as_ref().unwrap().code,
        2,
        "error status for exit code 4"
    );
    assert_eq!(
        attr(&span.attributes, "process.exit.code"),
        Some(&any_value::Value::IntValue(4))
    );

    let records = receiver.records();
    let sees = records
        .iter()
        .find(|r| body_text(r).starts_with("child sees"))
        .unwrap();
    assert_eq!(
        body_text(sees),
        format!("child sees 00-{parent_trace}-{}-01", hex(&span.span_id)),
        "the child's TRACEPARENT is the run span"
    );
    assert_eq!(hex(&sees.trace_id), parent_trace);
    assert_eq!(sees.span_id, span.span_id, "records carry the run's ids");
    let own = records.iter().find(|r| body_text(r) == "own ids").unwrap();
    assert_eq!(
        hex(&own.trace_id),
        "11111111111111111111111111111111",
        "a line's own ids win"
    );
    for event in receiver.events() {
        assert_eq!(event.span_id, span.span_id);
    }
}

#[tokio::test]
async fn pipe_mode_ships_stdin() {
    let receiver = OtlpReceiver::start().await;
    let mut cmd = logwrap();
    cmd.stdin(Stdio::piped()).args([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--service-name",
        "piped",
    ]);
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"first\nERROR second\nno newline")
        .await
        .unwrap();
    drop(stdin);
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        output.stdout, b"first\nERROR second\nno newline",
        "passed through"
    );
    let records = receiver.records();
    assert_eq!(
        records.iter().map(body_text).collect::<Vec<_>>(),
        ["first", "ERROR second", "no newline"]
    );
    assert_eq!(records[1].severity_number, 17);
    assert!(
        receiver.events().is_empty(),
        "no child, no lifecycle events"
    );
    let resource = &receiver.requests()[0].request.resource_logs[0]
        .resource
        .clone()
        .unwrap()
        .attributes;
    assert_eq!(attr_str(resource, "service.name").as_deref(), Some("piped"));
    assert!(attr(resource, "process.pid").is_none());
}

#[tokio::test]
async fn pipe_mode_ends_on_sigterm_after_flushing() {
    let receiver = OtlpReceiver::start().await;
    let mut cmd = logwrap();
    cmd.stdin(Stdio::piped())
        .args(["--otlp-endpoint", &receiver.endpoint()]);
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"before the signal\n").await.unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(TIMEOUT, stdout.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    kill(&child, libc::SIGTERM);
    let status = tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(143));
    assert_eq!(
        receiver.records().iter().map(body_text).collect::<Vec<_>>(),
        ["before the signal"]
    );
    drop(stdin);
}

/// A Python child printing a line, then waiting for a file before it ends.
fn python_waits_for(go: &std::path::Path) -> String {
    format!(
        "import os, time\nprint('early line')\nwhile not os.path.exists({:?}):\n    time.sleep(0.02)\n",
        go.to_str().unwrap()
    )
}

async fn early_line_arrives_before_exit(extra: &[&str], env: &[(&str, &str)]) -> bool {
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    let script = python_waits_for(&go);
    let mut cmd = logwrap();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--batch-delay",
        "20ms",
        "--multiline-timeout",
        "20ms",
        "--no-passthrough",
    ])
    .args(extra)
    .args(["--", "python3", "-c", &script]);
    let child = cmd.spawn().unwrap();
    // Give the line every chance to arrive while the child still runs.
    let early = tokio::time::timeout(Duration::from_secs(3), receiver.wait_for_records(1))
        .await
        .is_ok();
    std::fs::write(&go, "").unwrap();
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        receiver.records().iter().map(body_text).collect::<Vec<_>>(),
        ["early line"]
    );
    early
}

#[tokio::test]
async fn python_output_arrives_as_it_happens() {
    // Default: PYTHONUNBUFFERED=1 is set for the child.
    assert!(early_line_arrives_before_exit(&[], &[]).await);
    // The user's own setting (here: buffering) is kept, and a pipe buffers...
    assert!(!early_line_arrives_before_exit(&[], &[("PYTHONUNBUFFERED", "")]).await);
    // ...unless the child runs on a pseudo-terminal.
    assert!(early_line_arrives_before_exit(&["--pty"], &[("PYTHONUNBUFFERED", "")]).await);
}

#[tokio::test]
async fn with_a_pty_stdout_and_stderr_merge_and_bytes_pass_unchanged() {
    let receiver = OtlpReceiver::start().await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--pty",
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; test -t 1 && echo stdout-is-a-terminal",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    assert_eq!(
        run.stdout_text(),
        "out\nerr\nstdout-is-a-terminal\n",
        "no \\r added by the terminal"
    );
    let records = receiver.records();
    assert_eq!(
        records.iter().map(body_text).collect::<Vec<_>>(),
        ["out", "err", "stdout-is-a-terminal"]
    );
    assert!(records.iter().all(|r| iostream(r) == "stdout"));
}
