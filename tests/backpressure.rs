//! The default `--when-full` policy, `adaptive`, against collectors that are
//! fast, slow, down, hanging, refusing or coming back: every line reaches a
//! collector that accepts, and the child never waits long on one that does
//! not. Lines written are counted against lines received (decoded with the
//! official `opentelemetry-proto` types) and against what logwrap reports.
//!
//! The heavy runs use `--no-passthrough` only so the test process does not
//! have to read tens of megabytes of pass-through; it changes nothing in
//! delivery. Where a test shortens `--shutdown-timeout`, it is to keep the
//! suite quick when the collector never takes the records anyway.

use std::time::{Duration, Instant};

use crate::support::counting::{Behaviour, CountingReceiver};
use crate::support::*;

/// Lines of about 116 bytes, as the typical mix.
const WIDTH: &str = "104";

#[tokio::test]
async fn a_burst_into_a_receiver_taking_60000_lines_a_second_arrives_whole_exactly_once() {
    let count = 100_000;
    let receiver = CountingReceiver::start(Behaviour {
        rate: Some(60_000.0),
        ..Behaviour::default()
    })
    .await;
    let run = run_logwrap(args(
        &["--otlp-endpoint", &receiver.endpoint(), "--no-lifecycle"],
        numbered(count, &["--width", WIDTH]),
    ))
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(run.stderr_text(), "", "quiet when everything was delivered");
    receiver.assert_exactly_once(count as usize);
}

#[tokio::test]
async fn two_million_lines_as_fast_as_the_child_writes_all_arrive() {
    let count = 2_000_000;
    let receiver = CountingReceiver::start(Behaviour::default()).await;
    let run = run_logwrap(args(
        &[
            "--otlp-endpoint",
            &receiver.endpoint(),
            "--no-lifecycle",
            "--no-passthrough",
        ],
        numbered(count, &["--width", WIDTH, "--per-write", "2000"]),
    ))
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(run.stderr_text(), "");
    receiver.assert_exactly_once(count as usize);
    eprintln!(
        "2,000,000 lines in {:?} ({} requests)",
        run.elapsed,
        receiver.accepted_requests()
    );
}

/// The child writes `count` lines at `rate` a second through logwrap sending
/// to `endpoint`; returns the run and the child's (writing time, longest
/// blocked write).
async fn paced_run(
    endpoint: &str,
    count: u64,
    rate: u32,
    extra: &[&str],
) -> (Run, Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let timing = dir.path().join("timing");
    let rate = rate.to_string();
    let mut head = vec![
        "--otlp-endpoint",
        endpoint,
        "--no-lifecycle",
        "--no-passthrough",
    ];
    head.extend_from_slice(extra);
    let run = run_logwrap(args(
        &head,
        numbered(
            count,
            &[
                "--width",
                WIDTH,
                "--per-write",
                "500",
                "--rate",
                &rate,
                "--timing",
                timing.to_str().unwrap(),
            ],
        ),
    ))
    .await;
    let (writing, longest) = child_times(&timing);
    (run, writing, longest)
}

#[tokio::test]
async fn a_receiver_that_is_down_or_never_answers_does_not_slow_the_child() {
    // 200,000 lines of ~116 bytes: more than the default 16 MiB holds.
    let count = 200_000;
    let live = CountingReceiver::start(Behaviour::default()).await;
    let (run, live_time, _) = paced_run(&live.endpoint(), count, 50_000, &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    live.assert_exactly_once(count as usize);

    let down = format!("http://127.0.0.1:{}", free_port());
    let hanging = CountingReceiver::start(Behaviour {
        hang: true,
        ..Behaviour::default()
    })
    .await;
    for (what, endpoint) in [("down", down), ("never answering", hanging.endpoint())] {
        let (run, time, longest) =
            paced_run(&endpoint, count, 50_000, &["--shutdown-timeout", "1s"]).await;
        assert_eq!(run.code, Some(0), "{what}: {}", run.stderr_text());
        eprintln!(
            "{what}: the child wrote for {time:?} (against {live_time:?} with a live receiver), longest write {longest:?}"
        );
        assert!(
            time.as_secs_f64() <= live_time.as_secs_f64() * 1.5,
            "{what}: the child wrote for {time:?}, {live_time:?} against a live receiver"
        );
        // Nothing arrived, and every line is reported lost.
        let err = run.stderr_text();
        assert_eq!(undelivered(&err, "lost"), count, "{what}: {err}");
    }
    assert_eq!(hanging.distinct(), 0);
}

#[tokio::test]
async fn a_receiver_down_for_3_seconds_then_up_loses_nothing() {
    let port = free_port();
    let count = 40_000;
    let endpoint = format!("http://127.0.0.1:{port}");
    let running = tokio::spawn(async move { paced_run(&endpoint, count, 10_000, &[]).await });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let receiver = CountingReceiver::start_on(port, Behaviour::default()).await;
    let (run, _, _) = tokio::time::timeout(TIMEOUT, running)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert!(
        !run.stderr_text().contains("not delivered"),
        "{}",
        run.stderr_text()
    );
    receiver.assert_exactly_once(count as usize);
}

/// The child's own wait, measured by `numbered.py`: 600 lines at 500 a
/// second into a collector that is not there.
async fn against_nothing(policy: &[&str]) -> (Run, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let timing = dir.path().join("timing");
    let mut head = vec![
        "--otlp-endpoint",
        "http://127.0.0.1:9",
        "--buffer-max-bytes",
        "64KiB",
        "--max-line-bytes",
        "4KiB",
        "--drain-timeout",
        "1s",
        "--shutdown-timeout",
        "2s",
    ];
    head.extend_from_slice(policy);
    let run = run_logwrap(args(
        &head,
        numbered(
            600,
            &[
                "--width",
                WIDTH,
                "--rate",
                "500",
                "--per-write",
                "1",
                "--timing",
                timing.to_str().unwrap(),
            ],
        ),
    ))
    .await;
    (run, child_times(&timing).0)
}

#[tokio::test]
async fn backpressure_never_outlives_its_reasons() {
    // Block (always wait) and the default, into a port nobody listens on:
    // 90 KB of lines against 64 KiB of buffer. Once the child exits, nothing
    // waits on the dead collector: logwrap ends within --shutdown-timeout
    // (2 s) and a second of the child's end.
    for policy in [&["--when-full", "block"][..], &[][..]] {
        let started = Instant::now();
        let (run, writing) = against_nothing(policy).await;
        let elapsed = started.elapsed();
        assert_eq!(run.code, Some(0), "{policy:?}: {}", run.stderr_text());
        // Python's start-up is outside the child's own clock: half a second
        // of slack for it.
        assert!(
            elapsed < writing + Duration::from_millis(3_500),
            "{policy:?}: logwrap took {elapsed:?} for a child that wrote for {writing:?}"
        );
        // 600 lines and the two lifecycle records, all counted.
        let err = run.stderr_text();
        assert_eq!(undelivered(&err, "lost"), 602, "{policy:?}: {err}");
        assert!(!err.contains("pipes are still open"), "{policy:?}: {err}");
    }
}

#[tokio::test]
async fn a_receiver_answering_503_for_5_seconds_costs_counted_records_and_never_blocks_long() {
    let count = 300_000;
    let receiver = CountingReceiver::start(Behaviour {
        unavailable_for: Duration::from_secs(5),
        ..Behaviour::default()
    })
    .await;
    let (run, _, longest) = paced_run(&receiver.endpoint(), count, 50_000, &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let err = run.stderr_text();
    let lost = undelivered(&err, "lost");
    let received = receiver.distinct() as u64;
    eprintln!("503 for 5 s: received {received}, lost {lost}, longest write {longest:?}");
    assert!(receiver.refused_requests() > 0);
    assert!(lost > 0 && received > 0, "{err}");
    assert_eq!(
        received + lost,
        count,
        "every line received or counted: {err}"
    );
    assert!(
        receiver.arrivals(count as usize).iter().all(|&n| n <= 1),
        "no duplicates"
    );
    // The documented bound: a write waits at most --stall-timeout (1 s) for
    // a destination that makes no progress; a second of slack for a busy
    // machine.
    assert!(
        longest < Duration::from_secs(2),
        "a write waited {longest:?}"
    );
}

#[tokio::test]
async fn a_successful_run_adds_nothing_to_the_childs_output() {
    let receiver = CountingReceiver::start(Behaviour::default()).await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "sh",
        "-c",
        "echo 'line 0 out'; echo 'line 1 err' >&2; printf 'line 2 no newline'",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    assert_eq!(run.stdout_text(), "line 0 out\nline 2 no newline");
    assert_eq!(run.stderr_text(), "line 1 err\n");
    receiver.assert_exactly_once(3);
}

#[tokio::test]
async fn kill_9_mid_outage_with_a_disk_buffer_then_every_line_arrives() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let buffer = dir.path().to_str().unwrap();
    let count = 50_000;
    let mut running = spawn_logwrap(args(
        &[
            "--otlp-endpoint",
            &format!("http://127.0.0.1:{port}"),
            "--no-lifecycle",
            "--buffer-dir",
            buffer,
        ],
        numbered(count, &["--width", WIDTH, "--hold", "60"]),
    ));
    // Wait for the child's last line in the pass-through.
    let mut stdout = running.child.stdout.take().unwrap();
    let last = format!("line {} ", count - 1);
    tokio::time::timeout(TIMEOUT, async {
        use tokio::io::AsyncReadExt;
        let mut tail = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = stdout.read(&mut buf).await.unwrap();
            assert!(n > 0, "stdout closed early");
            tail.extend_from_slice(&buf[..n]);
            if tail.windows(last.len()).any(|w| w == last.as_bytes()) {
                break;
            }
            let keep = tail.len().saturating_sub(last.len());
            tail.drain(..keep);
        }
    })
    .await
    .expect("the child wrote its lines");
    // The last line is held for --multiline-timeout (500 ms) in case
    // continuation lines follow.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let killed = running.kill9_with_children().await;
    assert_eq!(killed.code, None, "killed by a signal");

    let receiver = CountingReceiver::start_on(port, Behaviour::default()).await;
    let again = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-lifecycle",
        "--buffer-dir",
        buffer,
        "--",
        "true",
    ])
    .await;
    assert_eq!(again.code, Some(0), "{}", again.stderr_text());
    receiver.assert_exactly_once(count as usize);
}
