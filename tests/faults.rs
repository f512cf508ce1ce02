//! Fault injection: real receivers on loopback that go down, come back,
//! throttle, refuse, hang or crawl; logwrap killed with SIGKILL; a disk
//! buffer that fills or is damaged. Each test counts the lines the child
//! wrote and the lines received: none lost in lossless modes, every drop
//! counted in lossy ones.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;

use crate::support::*;

/// How many times each `line <i>` arrived.
fn arrivals(records: &[LogRecord]) -> BTreeMap<u64, usize> {
    let mut seen = BTreeMap::new();
    for r in records {
        let body = body_text(r);
        if let Some(n) = body
            .strip_prefix("line ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
        {
            *seen.entry(n).or_insert(0) += 1;
        }
    }
    seen
}

/// Asserts every line `0..count` arrived exactly once.
fn assert_exactly_once(records: &[LogRecord], count: u64) {
    let seen = arrivals(records);
    let missing: Vec<u64> = (0..count).filter(|i| !seen.contains_key(i)).collect();
    let twice: Vec<u64> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(i, _)| *i)
        .collect();
    assert!(
        missing.is_empty() && twice.is_empty() && seen.len() as u64 == count,
        "written {count}, received {} distinct; missing {} (first {:?}), duplicated {}",
        seen.len(),
        missing.len(),
        missing.first(),
        twice.len()
    );
}

#[tokio::test]
async fn a_receiver_down_at_start_then_up_loses_nothing() {
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let count = 2_000;
    let running = spawn_logwrap(args(
        &[
            "--otlp-endpoint",
            &endpoint,
            "--no-lifecycle",
            "--no-passthrough",
            "-v",
            "--retry-initial",
            "100ms",
            "--retry-max-interval",
            "300ms",
            "--shutdown-timeout",
            "20s",
        ],
        numbered(count, &["--per-write", "100", "--pause", "0.05"]),
    ));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let receiver = OtlpReceiver::start_on(port).await;
    let run = running.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let err = run.stderr_text();
    assert!(err.contains("export failed; retrying"), "{err}");
    assert!(err.contains("delivery resumed"), "{err}");
    assert!(!err.contains("not delivered"), "{err}");
    assert_exactly_once(&receiver.records(), count);
}

#[tokio::test]
async fn a_receiver_killed_and_restarted_mid_run_loses_nothing() {
    let first = OtlpReceiver::start().await;
    let port = first.http.port();
    let count = 3_000;
    let running = spawn_logwrap(args(
        &[
            "--otlp-endpoint",
            &first.endpoint(),
            "--no-lifecycle",
            "--no-passthrough",
            "-v",
            "--batch-max-records",
            "100",
            "--batch-delay",
            "50ms",
            "--retry-initial",
            "100ms",
            "--retry-max-interval",
            "300ms",
            "--shutdown-timeout",
            "20s",
        ],
        numbered(count, &["--per-write", "50", "--pause", "0.05"]),
    ));
    first.wait_for_records(500).await;
    first.http.kill();
    let before = first.records();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let second = OtlpReceiver::start_on(port).await;
    let run = running.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let err = run.stderr_text();
    assert!(err.contains("delivery resumed"), "{err}");
    assert!(!err.contains("not delivered"), "{err}");
    let mut all = before;
    all.extend(second.records());
    // At-least-once: a request cut while in flight may have been read by
    // the first receiver and is sent again; nothing may be missing.
    let seen = arrivals(&all);
    let missing = (0..count).filter(|i| !seen.contains_key(i)).count();
    assert_eq!(missing, 0, "written {count}, missing {missing}");
    let duplicated = seen.values().filter(|n| **n > 1).count();
    assert!(
        duplicated <= 2 * 100,
        "at most the batches in flight come twice: {duplicated}"
    );
    assert!(
        !second.records().is_empty(),
        "the second receiver got records"
    );
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_a_date_is_honoured() {
    let receiver = OtlpReceiver::start().await;
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3));
    receiver.script([
        Answer {
            status: 429,
            headers: vec![("retry-after", "1".into())],
            body: b"slow down".to_vec(),
        },
        Answer {
            status: 503,
            headers: vec![("retry-after", date)],
            body: vec![],
        },
    ]);
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-lifecycle",
        // Backoff alone would retry within 20 ms.
        "--retry-initial",
        "10ms",
        "--retry-max-interval",
        "20ms",
        "--",
        "echo",
        "line 0",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let seen = receiver.http.captured();
    assert_eq!(
        seen.iter().map(|c| c.status).collect::<Vec<_>>(),
        [429, 503, 200],
        "one request per answer: no hammering"
    );
    let first_wait = seen[1].at - seen[0].at;
    let second_wait = seen[2].at - seen[1].at;
    assert!(first_wait >= Duration::from_millis(950), "{first_wait:?}");
    // The date has whole seconds and was made ~1 s before the 503 was sent.
    assert!(second_wait >= Duration::from_millis(900), "{second_wait:?}");
    assert_exactly_once(&receiver.records(), 1);
}

#[tokio::test]
async fn a_permanent_400_drops_that_batch_once_and_counts_it() {
    let receiver = OtlpReceiver::start().await;
    receiver.script([
        Answer::status(200),
        Answer::status(200),
        Answer::text(400, "invalid record in field 3"),
    ]);
    let count = 100;
    let run = run_logwrap(args(
        &[
            "--otlp-endpoint",
            &receiver.endpoint(),
            "--no-lifecycle",
            "--no-passthrough",
            "--batch-max-records",
            "10",
            "--max-in-flight",
            "1",
        ],
        numbered(count, &[]),
    ))
    .await;
    assert_eq!(run.code, Some(0));
    let err = run.stderr_text();
    assert!(err.contains("invalid record in field 3"), "{err}");
    assert_eq!(undelivered(&err, "lost"), 10, "{err}");
    assert_eq!(undelivered(&err, "failed"), 10, "{err}");
    let seen = arrivals(&receiver.records());
    assert_eq!(seen.len(), 90);
    assert!((20..30).all(|i| !seen.contains_key(&i)), "the third batch");
    // 10 batches and the dropped-records notice: the 400 was not retried.
    assert_eq!(receiver.requests_seen(), 11);
    let notice = receiver.events();
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0].event_name, "logwrap.dropped");
    assert_eq!(
        attr(&notice[0].attributes, "logwrap.dropped.failed"),
        Some(&opentelemetry_proto::tonic::common::v1::any_value::Value::IntValue(10))
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_costs_a_timeout_per_try_and_ends_in_time() {
    // Accepts connections and reads nothing: a hung collector.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            sockets.push(socket);
        }
    });
    let run = run_logwrap([
        "--otlp-endpoint",
        &endpoint,
        "--otlp-timeout",
        "500ms",
        "--shutdown-timeout",
        "2s",
        "--no-lifecycle",
        "--",
        "sh",
        "-c",
        "echo line 0; exit 7",
    ])
    .await;
    held.abort();
    assert_eq!(run.code, Some(7));
    assert_eq!(run.stdout_text(), "line 0\n");
    let err = run.stderr_text();
    assert!(err.contains("timed out"), "{err}");
    assert_eq!(undelivered(&err, "lost"), 1, "{err}");
    assert!(run.elapsed < Duration::from_secs(6), "{:?}", run.elapsed);
}

#[tokio::test]
async fn a_request_left_unanswered_is_sent_again_after_the_timeout() {
    let receiver = OtlpReceiver::start().await;
    receiver.http.hang_next(1);
    let run = run_logwrap(args(
        &[
            "--otlp-endpoint",
            &receiver.endpoint(),
            "--otlp-timeout",
            "1s",
            "--retry-initial",
            "50ms",
            "--no-lifecycle",
        ],
        numbered(10, &[]),
    ))
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert!(run.elapsed >= Duration::from_secs(1), "{:?}", run.elapsed);
    assert_eq!(receiver.requests_seen(), 2);
    assert_exactly_once(&receiver.records(), 10);
}

#[tokio::test]
async fn partial_success_is_counted_and_logged_never_retried() {
    let receiver = OtlpReceiver::start().await;
    let response = ExportLogsServiceResponse {
        partial_success: Some(ExportLogsPartialSuccess {
            rejected_log_records: 2,
            error_message: "2 records were too old".into(),
        }),
    };
    receiver.script([Answer {
        status: 200,
        headers: vec![("content-type", "application/x-protobuf".into())],
        body: response.encode_to_vec(),
    }]);
    let run = run_logwrap(args(
        &["--otlp-endpoint", &receiver.endpoint(), "--no-lifecycle"],
        numbered(5, &[]),
    ))
    .await;
    assert_eq!(run.code, Some(0));
    let err = run.stderr_text();
    assert!(
        err.contains("partial success") && err.contains("2 records were too old"),
        "{err}"
    );
    assert_eq!(undelivered(&err, "rejected"), 2, "{err}");
    assert_eq!(receiver.requests_seen(), 1, "not retried");
}

/// How long the child took to write its lines, from its own clock.
fn child_timing(path: &std::path::Path) -> Duration {
    child_times(path).0
}

#[tokio::test]
async fn a_slow_receiver_with_drop_newest_never_slows_the_child_and_counts_every_drop() {
    let count = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let mut timings = Vec::new();
    for delay_ms in [0, 400] {
        let receiver = OtlpReceiver::start().await;
        receiver.http.set_delay(Duration::from_millis(delay_ms));
        let timing = dir.path().join(format!("timing-{delay_ms}"));
        let run = run_logwrap(args(
            &[
                "--otlp-endpoint",
                &receiver.endpoint(),
                "--no-lifecycle",
                "--no-passthrough",
                "--buffer-max-bytes",
                "1MiB",
                "--when-full",
                "drop-newest",
                "--shutdown-timeout",
                "3s",
            ],
            numbered(
                count,
                &["--width", "80", "--timing", timing.to_str().unwrap()],
            ),
        ))
        .await;
        assert_eq!(run.code, Some(0), "{}", run.stderr_text());
        timings.push(child_timing(&timing));
        if delay_ms == 0 {
            continue;
        }
        // Every line is either received or counted as lost.
        let err = run.stderr_text();
        let lost = undelivered(&err, "lost");
        let received = arrivals(&receiver.records());
        assert!(received.values().all(|n| *n == 1), "no duplicates");
        assert_eq!(
            received.len() as u64 + lost,
            count,
            "received {} + lost {lost} = written {count}\n{err}",
            received.len()
        );
        assert!(lost > 0, "a receiver this slow must cost records");
        assert!(undelivered(&err, "queue_full") > 0, "{err}");
        // The gap is reported in the backend too.
        let notices: Vec<_> = receiver
            .http
            .accepted()
            .iter()
            .flat_map(|c| records_of(&decode(c).request))
            .filter(|r| r.event_name == "logwrap.dropped")
            .collect();
        assert!(!notices.is_empty(), "a logwrap.dropped notice arrived");
    }
    let (fast, slow) = (timings[0], timings[1]);
    eprintln!("child writing time: fast receiver {fast:?}, slow receiver {slow:?}");
    assert!(
        slow <= fast * 2 + Duration::from_millis(500),
        "the child waited on its logs: {slow:?} against {fast:?}"
    );
}

#[tokio::test]
async fn a_slow_receiver_with_block_loses_nothing() {
    let count = 20_000;
    let receiver = OtlpReceiver::start().await;
    receiver.http.set_delay(Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let timing = dir.path().join("timing");
    let run = run_logwrap(args(
        &[
            "--otlp-endpoint",
            &receiver.endpoint(),
            "--no-lifecycle",
            "--no-passthrough",
            "--buffer-max-bytes",
            "256KiB",
            "--max-line-bytes",
            "4KiB",
            "--when-full",
            "block",
            "--batch-max-records",
            "2000",
        ],
        numbered(
            count,
            &["--width", "80", "--timing", timing.to_str().unwrap()],
        ),
    ))
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert!(!run.stderr_text().contains("not delivered"));
    assert_exactly_once(&receiver.records(), count);
    // 1.8 MB against 256 KiB of buffer: the child had to wait for the receiver.
    let waited = child_timing(&timing);
    assert!(
        waited >= Duration::from_millis(200),
        "the child was never held back: {waited:?}"
    );
}

/// A second run on the same buffer directory, with the collector up at
/// `port` now; its own child writes one line, `after`.
async fn run_again(port: u16, buffer: &str) -> (OtlpReceiver, Run) {
    let receiver = OtlpReceiver::start_on(port).await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &format!("http://127.0.0.1:{port}"),
        "--no-lifecycle",
        "--buffer-dir",
        buffer,
        "--",
        "echo",
        "after",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    (receiver, run)
}

#[tokio::test]
async fn sigkill_mid_run_with_a_disk_buffer_then_a_new_run_sends_everything() {
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let buffer = dir.path().to_str().unwrap();
    let count = 1_000;
    let mut running = spawn_logwrap(args(
        &[
            "--otlp-endpoint",
            &endpoint,
            "--no-lifecycle",
            "--buffer-dir",
            buffer,
            "--buffer-disk-all",
        ],
        numbered(
            count,
            &["--per-write", "100", "--pause", "0.01", "--hold", "60"],
        ),
    ));
    // Wait for the child's last line in the pass-through.
    let mut stdout = running.child.stdout.take().unwrap();
    let mut passed = Vec::new();
    let last = format!("line {}\n", count - 1);
    tokio::time::timeout(TIMEOUT, async {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 65536];
        while !passed.ends_with(last.as_bytes()) {
            let n = stdout.read(&mut buf).await.unwrap();
            assert!(n > 0, "stdout closed early");
            passed.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the child wrote its lines");
    // The last line is held for --multiline-timeout (500 ms) in case
    // continuation lines follow, then written to disk.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let killed = running.kill9_with_children().await;
    assert_eq!(killed.code, None, "killed by a signal");

    let (receiver, _) = run_again(port, buffer).await;
    let records = receiver.records();
    assert_exactly_once(&records, count);
    assert!(records.iter().any(|r| body_text(r) == "after"));
    // The earlier run's records keep the earlier run's resource.
    let instance = |body: &str| {
        receiver
            .requests()
            .iter()
            .flat_map(|r| r.request.resource_logs.clone())
            .find(|rl| {
                rl.scope_logs
                    .iter()
                    .flat_map(|s| &s.log_records)
                    .any(|r| body_text(r).starts_with(body))
            })
            .and_then(|rl| attr_str(&rl.resource.unwrap().attributes, "service.instance.id"))
            .unwrap()
    };
    assert_ne!(instance("line 0"), instance("after"));
    assert!(
        std::fs::read_dir(dir.path().join("otlp")).unwrap().count() == 0,
        "delivered segments are deleted"
    );
}

#[tokio::test]
async fn a_disk_buffer_on_a_full_tmpfs_falls_back_to_memory_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = mount_tmpfs(dir.path(), "256k") else {
        eprintln!("SKIPPED: mounting a tmpfs needs root (CI runs as root)");
        return;
    };
    let buffer = dir.path().to_str().unwrap();
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let count = 20_000;
    let run = run_logwrap(args(
        &[
            "--otlp-endpoint",
            &endpoint,
            "--no-lifecycle",
            "--no-passthrough",
            "--buffer-dir",
            buffer,
            "--buffer-disk-all",
            "--buffer-max-bytes",
            "64KiB",
            "--max-line-bytes",
            "4KiB",
            "--shutdown-timeout",
            "1s",
        ],
        numbered(count, &["--width", "80"]),
    ))
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let err = run.stderr_text();
    assert!(
        err.contains("the disk buffer refuses records; falling back"),
        "{err}"
    );
    let lost = undelivered(&err, "lost");
    assert!(lost > 0 && lost < count, "{err}");

    let receiver = OtlpReceiver::start_on(port).await;
    let again = run_logwrap([
        "--otlp-endpoint",
        &endpoint,
        "--no-lifecycle",
        "--buffer-dir",
        buffer,
        "--",
        "true",
    ])
    .await;
    assert_eq!(again.code, Some(0), "{}", again.stderr_text());
    let again_err = again.stderr_text();
    assert!(
        !again_err.contains("corrupt"),
        "writes were cut clean: {again_err}"
    );
    let received = arrivals(&receiver.records());
    assert!(received.values().all(|n| *n == 1), "no duplicates");
    assert_eq!(
        received.len() as u64 + lost,
        count,
        "received {} from disk + lost {lost} = written {count}",
        received.len()
    );
}

#[tokio::test]
async fn a_corrupt_segment_is_skipped_and_counted_and_the_rest_is_sent() {
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let buffer = dir.path().to_str().unwrap();
    // Receiver down: at shutdown the batches move to the disk buffer
    // (overflow mode: every record through disk would make one frame of
    // the whole read).
    let run = run_logwrap(args(
        &[
            "--otlp-endpoint",
            &endpoint,
            "--no-lifecycle",
            "-v",
            "--buffer-dir",
            buffer,
            "--buffer-disk-mode",
            "overflow",
            "--batch-max-records",
            "5",
            "--max-in-flight",
            "1",
            "--shutdown-timeout",
            "1s",
        ],
        numbered(20, &[]),
    ))
    .await;
    assert_eq!(run.code, Some(0));
    let err = run.stderr_text();
    assert!(!err.contains("not delivered"), "kept on disk: {err}");
    assert!(err.contains("records wait in the disk buffer"), "{err}");
    let segments: Vec<_> = std::fs::read_dir(dir.path().join("otlp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(segments.len(), 1, "{segments:?}");
    // Damage a byte past the middle: a later frame fails its checksum.
    let mut bytes = std::fs::read(&segments[0]).unwrap();
    let at = bytes.len() * 3 / 4;
    bytes[at] ^= 0xff;
    std::fs::write(&segments[0], &bytes).unwrap();

    let (receiver, again) = run_again(port, buffer).await;
    let again_err = again.stderr_text();
    assert!(again_err.contains("corrupt or cut short"), "{again_err}");
    let records = receiver.records();
    let received = arrivals(&records);
    assert!(
        !received.is_empty() && received.len() < 20 && received.len().is_multiple_of(5),
        "whole frames before the damage arrive: {received:?}"
    );
    assert!(records.iter().any(|r| body_text(r) == "after"));
}

#[tokio::test]
async fn open_batches_are_flushed_at_once_when_the_child_exits() {
    let receiver = OtlpReceiver::start().await;
    let started = Instant::now();
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-lifecycle",
        "--batch-delay",
        "30s",
        "--",
        "echo",
        "line 0",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "did not wait for the batch delay: {:?}",
        started.elapsed()
    );
    assert_exactly_once(&receiver.records(), 1);
}
