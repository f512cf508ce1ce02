//! `--input file:GLOB`: a sidecar reading an application's log files
//! through rename-and-create and copytruncate rotation, and across its own
//! restart, with nothing lost or doubled; named pipes too.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::support::*;

async fn wait_for_lines(receiver: &OtlpReceiver, n: usize) {
    receiver.wait_for_records(n).await;
}

fn sidecar(receiver: &OtlpReceiver, dir: &Path) -> Running {
    spawn_logwrap([
        "--input",
        &format!("file:{}/*.log", dir.display()),
        "--buffer-dir",
        dir.join("buffer").to_str().unwrap(),
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--batch-delay",
        "100ms",
        "--no-lifecycle",
        "-v",
    ])
}

async fn stop(running: Running) -> Run {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(running.pid(), libc::SIGTERM) };
    running.finish().await
}

fn append(file: &mut std::fs::File, text: &str) {
    file.write_all(text.as_bytes()).unwrap();
    file.flush().unwrap();
}

#[tokio::test]
async fn files_are_followed_through_rotation_and_restarts_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let receiver = OtlpReceiver::start().await;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    append(&mut file, &numbered_lines(0..500));
    let running = sidecar(&receiver, dir.path());
    append(&mut file, &numbered_lines(500..1000));
    wait_for_lines(&receiver, 1000).await;

    // Rename and create (logrotate's default): the app writes a few more
    // lines to the old file before it reopens.
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    append(&mut file, &numbered_lines(1000..1050));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    append(&mut file, &numbered_lines(1050..2000));
    wait_for_lines(&receiver, 2000).await;

    // copytruncate: copied away, emptied in place, written again at once
    // (past the old position before logwrap looks).
    std::fs::copy(&log, dir.path().join("app.log.2")).unwrap();
    file.set_len(0).unwrap();
    append(&mut file, &numbered_lines(2000..3000));
    wait_for_lines(&receiver, 3000).await;
    let first = stop(running).await;
    assert_eq!(
        first.code,
        Some(0),
        "SIGTERM is a sidecar's normal end: {}",
        first.stderr_text()
    );
    let err = first.stderr_text();
    assert!(err.contains("truncated"), "{err}");

    // Lines written while logwrap is down arrive after its restart; nothing
    // it had already read comes again.
    append(&mut file, &numbered_lines(3000..3100));
    let running = sidecar(&receiver, dir.path());
    wait_for_lines(&receiver, 3100).await;
    // Give a wrongly re-read file the time to show up twice.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let second = stop(running).await;
    assert_eq!(second.code, Some(0), "{}", second.stderr_text());

    let seen = line_arrivals(&receiver);
    let missing: Vec<u32> = (0..3100).filter(|i| !seen.contains_key(i)).collect();
    let doubled: Vec<u32> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(i, _)| *i)
        .collect();
    assert!(
        missing.is_empty() && doubled.is_empty(),
        "written 3100; missing {} (first {:?}), doubled {} (first {:?})",
        missing.len(),
        missing.first(),
        doubled.len(),
        doubled.first()
    );
    // Each record names its file.
    let record = &receiver.records()[0];
    assert_eq!(
        attr_str(&record.attributes, "log.file.path").as_deref(),
        Some(log.to_str().unwrap())
    );
    assert_eq!(
        attr_str(&record.attributes, "log.file.name").as_deref(),
        Some("app.log")
    );
    assert!(attr(&record.attributes, "log.iostream").is_none());
}

#[tokio::test]
async fn a_named_pipe_is_read_as_writers_come_and_go() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("app.log");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let receiver = OtlpReceiver::start().await;
    let running = sidecar(&receiver, dir.path());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for (from, to) in [(0, 100), (100, 200)] {
        // Each writer opens, writes and closes, as `echo >> fifo` does.
        let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        append(&mut w, &numbered_lines(from..to));
    }
    wait_for_lines(&receiver, 200).await;
    let run = stop(running).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let seen = line_arrivals(&receiver);
    assert_eq!(seen.len(), 200);
    assert!(seen.values().all(|n| *n == 1));
}

#[tokio::test]
async fn files_and_a_child_together() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("side.log"), numbered_lines(0..3)).unwrap();
    let receiver = OtlpReceiver::start().await;
    let run = run_logwrap([
        "--input",
        &format!("file:{}/*.log", dir.path().display()),
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-lifecycle",
        // The exit summary counts the files' lines.
        "-v",
        "--",
        "sh",
        "-c",
        "sleep 0.5; echo from the child",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let bodies: Vec<String> = receiver.records().iter().map(body_text).collect();
    assert!(bodies.contains(&"from the child".to_string()), "{bodies:?}");
    assert_eq!(line_arrivals(&receiver).len(), 3, "{bodies:?}");
    let summary = run.stderr_text();
    assert!(summary.contains("files=3"), "{summary}");
}

#[tokio::test]
async fn a_bad_input_value_is_a_usage_error() {
    let run = run_logwrap(["--input", "/var/log/app.log", "--", "true"]).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr_text().contains("file:PATH"),
        "{}",
        run.stderr_text()
    );
}
