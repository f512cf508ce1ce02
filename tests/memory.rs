//! The allocator settings of the binary: main.rs sets mimalloc options by
//! number, and these checks prove the numbers are the options that
//! mimalloc's own environment variables of those names set.

use crate::support::{logwrap, run_command};

async fn allocator_line(env: &[(&str, &str)]) -> String {
    let mut cmd = logwrap();
    cmd.args(["-vv", "--exporter", "none", "--", "true"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = run_command(cmd).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    run.stderr_text()
        .lines()
        .find(|l| l.contains("allocator: mimalloc"))
        .unwrap_or_else(|| panic!("no allocator line in {}", run.stderr_text()))
        .to_string()
}

#[tokio::test]
async fn freed_memory_goes_back_after_10_ms_by_default() {
    let line = allocator_line(&[]).await;
    assert!(
        line.contains("purge_delay_ms=10") && line.contains("arena_purge_mult=1"),
        "{line}"
    );
}

#[tokio::test]
async fn mimallocs_own_variables_win_and_name_the_same_options() {
    let line = allocator_line(&[
        ("MIMALLOC_PURGE_DELAY", "7"),
        ("MIMALLOC_ARENA_PURGE_MULT", "3"),
    ])
    .await;
    assert!(
        line.contains("purge_delay_ms=7") && line.contains("arena_purge_mult=3"),
        "{line}"
    );
}

#[tokio::test]
async fn mimallocs_names_count_in_any_case_and_under_the_old_name() {
    let line = allocator_line(&[("mimalloc_reset_delay", "3")]).await;
    assert!(line.contains("purge_delay_ms=3"), "{line}");
}

/// The number after `key=` in a log line.
fn field(line: &str, key: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

/// A few seconds in, logwrap drops the resident pages of its code and
/// constants (src/footprint.rs): its file-backed RSS falls, and everything
/// after still works, from code the kernel maps again on demand.
#[tokio::test]
async fn start_up_pages_are_released_and_the_run_goes_on() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let receiver = crate::support::OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let go_on = dir.path().join("go-on");
    let mut cmd = logwrap();
    cmd.args([
        "-vv",
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "sh",
        "-c",
        // Waits for the test to have seen the release, then logs and exits.
        "echo ready; while [ ! -e \"$1\" ]; do sleep 0.05; done; echo after-release; exit 3",
        "sh",
        go_on.to_str().unwrap(),
    ]);
    let (mut child, mut stdout) = crate::support::spawn_until_ready(cmd).await;

    // Read all of stderr, so that -vv never fills the pipe; hand over the
    // release line.
    let mut stderr = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel();
    let drain = tokio::spawn(async move {
        let mut release_tx = Some(release_tx);
        while let Ok(Some(line)) = stderr.next_line().await {
            if line.contains("releasing start-up pages")
                && let Some(tx) = release_tx.take()
            {
                let _ = tx.send(line);
            }
        }
    });
    let release_line = tokio::time::timeout(crate::support::TIMEOUT, release_rx)
        .await
        .expect("the release line within the timeout")
        .expect("stderr ended without the release line");
    // The line comes just before the release; the figure falls just after.
    let before = field(&release_line, "rss_file_kib_before");
    let pid = child.id().unwrap();
    let rss_file_kib = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        logwrap::footprint::status_kib(&status, "RssFile").unwrap()
    };
    let deadline = std::time::Instant::now() + crate::support::TIMEOUT;
    while rss_file_kib() * 2 >= before {
        assert!(
            std::time::Instant::now() < deadline,
            "file-backed RSS did not halve: {} KiB after {release_line}",
            rss_file_kib()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    std::fs::write(&go_on, b"").unwrap();

    let status = tokio::time::timeout(crate::support::TIMEOUT, child.wait())
        .await
        .unwrap()
        .unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    drain.await.unwrap();

    assert_eq!(
        status.code(),
        Some(3),
        "the child's exit code comes through"
    );
    assert_eq!(rest, "after-release\n", "pass-through goes on");
    let bodies: Vec<String> = receiver
        .wait_for_records(2)
        .await
        .iter()
        .map(crate::support::body_text)
        .collect();
    assert_eq!(bodies, ["ready", "after-release"], "export goes on");
    assert!(field(&release_line, "ranges") > 0, "{release_line}");
}
