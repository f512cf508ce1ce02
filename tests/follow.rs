//! `--input` follows files on inotify events: a file is opened as it is
//! created (not at the next 1 s glob), so files that live under a matched
//! name for a fraction of a second are read whole; polling still reads what
//! inotify does not report. The rates and rotation periods of the issue are
//! measured by `benches/rotation.py` (see the README), which needs the
//! release build and quiet cores; these are the small, reliable versions.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;

fn assert_exactly_once(receiver: &OtlpReceiver, n: u32) {
    let seen = line_arrivals(receiver);
    let missing: Vec<u32> = (0..n).filter(|i| !seen.contains_key(i)).collect();
    let doubled: Vec<u32> = seen
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(i, _)| *i)
        .collect();
    assert!(
        missing.is_empty(),
        "missing {} lines: {missing:?}",
        missing.len()
    );
    assert!(doubled.is_empty(), "doubled: {doubled:?}");
}

fn sidecar(receiver: &OtlpReceiver, dir: &Path) -> Running {
    spawn_logwrap([
        "--input",
        &format!("file:{}/*.log", dir.display()),
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--batch-delay",
        "50ms",
        "--no-lifecycle",
    ])
}

/// Whether process `pid` has an inotify watch (its fdinfo lists one line
/// per watch): the sidecar is watching its directory.
fn has_inotify_watch(pid: i32) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_to_string(fd.path()).is_ok_and(|info| info.contains("inotify wd:")))
}

/// Whether process `pid` has `path` open.
fn has_open(pid: i32, path: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path))
}

/// Polls `check` every millisecond until it holds, for at most 10 s;
/// returns how long that took.
fn time_until(what: &str, check: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(1));
    }
    start.elapsed()
}

fn append(file: &mut std::fs::File, text: &str) {
    file.write_all(text.as_bytes()).unwrap();
    file.flush().unwrap();
}

fn create(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

#[tokio::test]
async fn files_are_opened_as_they_are_created_and_read_whole_when_renamed_away_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = OtlpReceiver::start().await;
    let running = sidecar(&receiver, dir.path());
    let pid = running.pid();
    time_until("the sidecar watches its directory", || {
        has_inotify_watch(pid)
    });

    // Rename and create, each file matched for only as long as it takes
    // logwrap to open it: polling would find it at the next glob (every
    // second, half a second later on average).
    let log = dir.path().join("app.log");
    let mut latencies = Vec::new();
    let mut file = create(&log);
    for round in 0..6u32 {
        append(&mut file, &numbered_lines(round * 200..round * 200 + 150));
        latencies.push(time_until("logwrap opens the new file", || {
            has_open(pid, &log)
        }));
        // Renamed away at once; the application writes its last lines to
        // the old file before it reopens.
        std::fs::rename(&log, dir.path().join(format!("app.log.{round}"))).unwrap();
        append(
            &mut file,
            &numbered_lines(round * 200 + 150..round * 200 + 200),
        );
        file = create(&log);
    }
    receiver.wait_for_records(1200).await;
    let stopped = stop(running).await;
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr_text());
    assert_exactly_once(&receiver, 1200);

    latencies.sort();
    let median = latencies[latencies.len() / 2];
    eprintln!("from create to open: {latencies:?}");
    // Well under the 1 s glob period (250 ms leaves room for a busy CI).
    assert!(
        median < Duration::from_millis(250),
        "median {median:?}: files are found by polling, not on their creation"
    );
}

#[tokio::test]
async fn a_file_moved_out_of_the_watched_directory_is_still_read_by_polling() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("archive")).unwrap();
    let receiver = OtlpReceiver::start().await;
    let running = sidecar(&receiver, dir.path());
    let pid = running.pid();
    let log = dir.path().join("app.log");
    let mut file = create(&log);
    append(&mut file, &numbered_lines(0..100));
    time_until("logwrap opens the file", || has_open(pid, &log));
    receiver.wait_for_records(100).await;
    // inotify reports writes to a file in the directory it is in; this one
    // is now in a directory nobody watches.
    std::fs::rename(&log, dir.path().join("archive/app.log")).unwrap();
    append(&mut file, &numbered_lines(100..200));
    receiver.wait_for_records(200).await;
    let stopped = stop(running).await;
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr_text());
    assert_exactly_once(&receiver, 200);
}

#[tokio::test]
async fn a_directory_created_after_the_start_is_watched_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let receiver = OtlpReceiver::start().await;
    let running = spawn_logwrap([
        "--input",
        &format!("file:{}/*.log", logs.display()),
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--batch-delay",
        "50ms",
        "--no-lifecycle",
    ]);
    let pid = running.pid();
    // The sidecar started before the application made its directory.
    std::fs::create_dir(&logs).unwrap();
    let mut file = create(&logs.join("app.log"));
    append(&mut file, &numbered_lines(0..50));
    receiver.wait_for_records(50).await;
    // Found by the glob; from then on the directory is watched.
    time_until("the new directory is watched", || has_inotify_watch(pid));
    let second = logs.join("second.log");
    let mut other = create(&second);
    append(&mut other, &numbered_lines(50..100));
    receiver.wait_for_records(100).await;
    let stopped = stop(running).await;
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr_text());
    assert_exactly_once(&receiver, 100);
}

async fn stop(running: Running) -> Run {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(running.pid(), libc::SIGTERM) };
    running.finish().await
}
