//! The end of a run: bounded by the timeouts whatever the collector or a
//! grandchild does, and never changing the child's exit code.

use std::time::Duration;

use crate::support::*;

#[tokio::test]
async fn a_receiver_that_is_down_changes_neither_exit_code_nor_pass_through() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = run_logwrap([
        "--otlp-endpoint",
        &format!("http://127.0.0.1:{port}"),
        "--shutdown-timeout",
        "2s",
        "--no-lifecycle",
        "--",
        "sh",
        "-c",
        "echo one; echo two >&2; exit 42",
    ])
    .await;
    assert_eq!(run.code, Some(42));
    assert_eq!(run.stdout_text(), "one\n");
    let err = run.stderr_text();
    assert!(err.starts_with("two\n"), "{err}");
    assert!(
        err.contains("records were not delivered") && err.contains("lost=2"),
        "{err}"
    );
    // Retries with backoff until the shutdown deadline, not a busy loop.
    assert!(
        run.elapsed >= Duration::from_millis(500),
        "gave up too early: {:?}",
        run.elapsed
    );
    assert!(
        run.elapsed < Duration::from_secs(10),
        "ended within its timeouts: {:?}",
        run.elapsed
    );
}

#[tokio::test]
async fn a_receiver_that_answers_errors_is_reported_and_changes_nothing() {
    let receiver = OtlpReceiver::start().await;
    receiver.script([Answer {
        status: 400,
        headers: vec![("content-type", "text/plain".into())],
        body: b"bad data: field 5 is wrong".to_vec(),
    }]);
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-lifecycle",
        "--",
        "sh",
        "-c",
        "echo hi; exit 3",
    ])
    .await;
    assert_eq!(run.code, Some(3));
    assert_eq!(run.stdout_text(), "hi\n");
    let err = run.stderr_text();
    assert!(
        err.contains("HTTP 400") && err.contains("field 5 is wrong"),
        "{err}"
    );
    assert!(receiver.records().is_empty());
    assert_eq!(receiver.requests_seen(), 1, "a 400 is not retried");
}

#[tokio::test]
async fn a_retryable_answer_is_retried_until_it_succeeds() {
    let receiver = OtlpReceiver::start().await;
    receiver.script([Answer {
        status: 503,
        headers: vec![("retry-after", "1".into())],
        body: vec![],
    }]);
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-lifecycle",
        "--",
        "echo",
        "retried",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert!(
        run.elapsed >= Duration::from_secs(1),
        "Retry-After: 1 was honoured ({:?})",
        run.elapsed
    );
    assert_eq!(receiver.requests_seen(), 2);
    let bodies: Vec<String> = receiver.records().iter().map(body_text).collect();
    assert_eq!(bodies, ["retried"]);
}

#[tokio::test]
async fn a_grandchild_holding_the_pipes_is_stopped_and_does_not_hold_logwrap() {
    let receiver = OtlpReceiver::start().await;
    // The grandchild ignores SIGTERM: it gets SIGKILL after --stop-timeout.
    // A sleep with a duration no other process has, to find it afterwards.
    let marker = format!("sleep 29.{}", std::process::id());
    let script = format!("(trap '' TERM; {marker}) & echo parent done");
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--stop-timeout",
        "500ms",
        "--",
        "sh",
        "-c",
        &script,
    ])
    .await;
    assert_eq!(run.code, Some(0));
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
    assert!(
        run.elapsed >= Duration::from_millis(400),
        "the grace period was given: {:?}",
        run.elapsed
    );
    let err = run.stderr_text();
    assert!(err.contains("ignored SIGTERM; killing them"), "{err}");
    let bodies: Vec<String> = receiver.records().iter().map(body_text).collect();
    assert_eq!(bodies, ["parent done"]);
    let left = std::process::Command::new("pgrep")
        .args(["-f", &marker])
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "the grandchild is gone");
}
