//! Delivery at the edges (issue 13, items 6-9 and 12): a collector that
//! hangs at shutdown, signals during the final flush, stop signals repeated
//! by `timeout`, a full disk under `--file`, and a Loki that refuses
//! structured metadata.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::loki::LokiReceiver;
use crate::support::*;

/// A collector that reads every request and never answers.
async fn hanging() -> OtlpReceiver {
    let receiver = OtlpReceiver::start().await;
    receiver.http.hang_next(usize::MAX);
    receiver
}

/// A later run on `buffer` with a collector that is up: what the disk held
/// arrives there. Returns the bodies received.
async fn bodies_sent_later(buffer: &str) -> Vec<String> {
    let receiver = OtlpReceiver::start().await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-lifecycle",
        "--buffer-dir",
        buffer,
        "--",
        "true",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    receiver.all_records().iter().map(body_text).collect()
}

#[tokio::test]
async fn unanswered_requests_at_shutdown_go_to_the_disk_buffer_in_time() {
    for mode in ["all", "overflow"] {
        let receiver = hanging().await;
        let dir = tempfile::tempdir().unwrap();
        let buffer = dir.path().to_str().unwrap();
        let run = run_logwrap([
            "--otlp-endpoint",
            &receiver.endpoint(),
            "--buffer-dir",
            buffer,
            "--buffer-disk-mode",
            mode,
            "--shutdown-timeout",
            "2s",
            "-v",
            "--",
            "sh",
            "-c",
            "echo hi; exit 9",
        ])
        .await;
        assert_eq!(run.code, Some(9));
        let err = run.stderr_text();
        assert!(
            run.elapsed < Duration::from_millis(3500),
            "{mode}: took {:?}",
            run.elapsed
        );
        assert!(!err.contains("not delivered"), "{mode}: {err}");
        assert!(
            err.contains("records wait in the disk buffer"),
            "{mode}: {err}"
        );
        let later = bodies_sent_later(buffer).await;
        assert!(later.iter().any(|b| b == "hi"), "{mode}: {later:?}");
        assert!(
            later.iter().any(|b| b.starts_with("exited with code 9")),
            "{mode}: {later:?}"
        );
    }
}

/// Starts logwrap whose child exits at once, against a collector that never
/// answers, and returns once the final flush is under way (the collector
/// holds a request).
async fn in_final_flush(buffer: &str, receiver: &OtlpReceiver) -> Running {
    let running = spawn_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--buffer-dir",
        buffer,
        "--buffer-disk-mode",
        "overflow",
        "--shutdown-timeout",
        "3s",
        "--",
        "sh",
        "-c",
        "echo hi",
    ]);
    let deadline = Instant::now() + TIMEOUT;
    while receiver.requests_seen() == 0 {
        assert!(Instant::now() < deadline, "no request arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    running
}

fn sigterm(pid: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGTERM) };
}

#[tokio::test]
async fn one_sigterm_during_the_final_flush_is_not_a_second_signal() {
    let receiver = hanging().await;
    let dir = tempfile::tempdir().unwrap();
    let buffer = dir.path().to_str().unwrap();
    let running = in_final_flush(buffer, &receiver).await;
    let started = Instant::now();
    sigterm(running.pid());
    let run = running.finish().await;
    assert_eq!(run.code, Some(0));
    let err = run.stderr_text();
    assert!(!err.contains("second signal"), "{err}");
    assert!(!err.contains("not delivered"), "{err}");
    // The flush ran to its deadline (3 s after the child's exit) rather than
    // giving up at the signal.
    assert!(started.elapsed() > Duration::from_secs(1), "{err}");
    assert!(bodies_sent_later(buffer).await.contains(&"hi".to_string()));
}

#[tokio::test]
async fn a_second_sigterm_during_the_final_flush_moves_the_rest_to_disk_at_once() {
    let receiver = hanging().await;
    let dir = tempfile::tempdir().unwrap();
    let buffer = dir.path().to_str().unwrap();
    let running = in_final_flush(buffer, &receiver).await;
    sigterm(running.pid());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = Instant::now();
    sigterm(running.pid());
    let run = running.finish().await;
    assert!(
        second.elapsed() < Duration::from_millis(1500),
        "ended {:?} after the second signal",
        second.elapsed()
    );
    let err = run.stderr_text();
    assert!(err.contains("second signal"), "{err}");
    assert!(!err.contains("not delivered"), "kept on disk: {err}");
    assert!(bodies_sent_later(buffer).await.contains(&"hi".to_string()));
}

#[tokio::test]
async fn sigterm_twice_at_once_from_timeout_gives_the_child_its_grace() {
    // `timeout` signals logwrap, then its own process group (logwrap again):
    // one request to stop. The child's trap takes 0.5 s, well inside
    // --stop-timeout, so it must end with its own code 0, never SIGKILL.
    for attempt in 0..3 {
        let mut cmd = tokio::process::Command::new("timeout");
        cmd.args(["--preserve-status", "1"])
            .arg(env!("CARGO_BIN_EXE_logwrap"))
            .args([
                "--exporter",
                "none",
                "--stop-timeout",
                "3s",
                "--",
                "sh",
                "-c",
                "trap 'sleep 0.5; exit 0' TERM; while :; do sleep 0.2; done",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let run = run_command(cmd).await;
        assert_eq!(
            run.code,
            Some(0),
            "attempt {attempt}: {}",
            run.stderr_text()
        );
    }
}

#[tokio::test]
async fn a_full_disk_under_file_output_neither_duplicates_nor_glues_records() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = mount_tmpfs(dir.path(), "1m") else {
        eprintln!("SKIPPED: mounting a tmpfs needs root (CI runs as root)");
        return;
    };
    // Leave about 100 KiB free: the file fills it part-way through.
    let filler = dir.path().join("filler");
    std::fs::write(&filler, vec![0u8; 900 * 1024]).unwrap();
    let out = dir.path().join("out.ndjson");
    let count = 2_000;
    let mut running = spawn_logwrap(args(
        &[
            "--file",
            out.to_str().unwrap(),
            "--no-lifecycle",
            "--no-passthrough",
            "--batch-max-records",
            "100",
            "--retry-initial",
            "200ms",
        ],
        numbered(count, &["--width", "60", "--hold", "3"]),
    ));
    // Once a write has failed, make room again.
    let mut stderr = tokio::io::BufReader::new(running.child.stderr.take().unwrap());
    let mut seen = String::new();
    tokio::time::timeout(TIMEOUT, async {
        use tokio::io::AsyncBufReadExt;
        while !seen.contains("export failed; retrying") {
            let mut line = String::new();
            assert!(stderr.read_line(&mut line).await.unwrap() > 0, "{seen}");
            seen.push_str(&line);
        }
    })
    .await
    .expect("a write failed on the full disk");
    std::fs::remove_file(&filler).unwrap();
    let run = running.finish().await;
    assert_eq!(run.code, Some(0));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut seen_lines = vec![0u32; count as usize];
    for line in text.lines() {
        let record: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: a torn line {line:?}"));
        let body = record["body"].as_str().unwrap();
        let n: usize = body.split(' ').nth(1).unwrap().parse().unwrap();
        seen_lines[n] += 1;
    }
    let missing = seen_lines.iter().filter(|&&n| n == 0).count();
    let twice = seen_lines.iter().filter(|&&n| n > 1).count();
    assert_eq!((missing, twice), (0, 0), "each record exactly once");
}

#[tokio::test]
async fn loki_without_structured_metadata_gets_the_lines_as_written_and_a_level_label() {
    let loki = LokiReceiver::start().await;
    loki.http.script([Answer::text(
        400,
        "stream '{service_name=\"x\"}' includes structured metadata, but this feature is disallowed. Please see `limits_config.allow_structured_metadata` or contact your Loki administrator to enable it.",
    )]);
    let json = r#"{"level":"error","msg":"bad","user":"x"}"#;
    let logfmt = r#"level=warn msg="slow" table=orders"#;
    let run = run_logwrap([
        "--no-lifecycle",
        "--loki-url",
        &loki.url(),
        "--",
        "printf",
        &format!("{json}\\n{logfmt}\\nplain text\\n"),
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let entries = loki.entries();
    let lines: Vec<&str> = entries.iter().map(|e| e.line.as_str()).collect();
    assert_eq!(lines, [json, logfmt, "plain text"]);
    let labels: Vec<&str> = entries.iter().map(|e| e.labels.as_str()).collect();
    assert!(labels[0].contains(r#"level="error""#), "{labels:?}");
    assert!(labels[1].contains(r#"level="warn""#), "{labels:?}");
    assert!(labels[2].contains(r#"level="info""#), "{labels:?}");
    assert!(entries.iter().all(|e| e.metadata.is_empty()));

    // With structured metadata accepted, the message is the line and the
    // fields travel as metadata, the original line nowhere.
    let loki = LokiReceiver::start().await;
    let run = run_logwrap([
        "--no-lifecycle",
        "--loki-url",
        &loki.url(),
        "--",
        "printf",
        &format!("{json}\\n"),
    ])
    .await;
    assert_eq!(run.code, Some(0));
    let entry = &loki.entries()[0];
    assert_eq!(entry.line, "bad");
    assert_eq!(entry.meta("user"), Some("x"));
    assert!(!entry.labels.contains("level"), "{}", entry.labels);
    assert!(entry.meta("log_record_original").is_none());
}
