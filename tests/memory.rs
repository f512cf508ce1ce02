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

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in {status}"))
}

/// A few seconds in, logwrap unmaps the pages only start-up used
/// (src/footprint.rs): its RSS falls, and everything after still works,
/// from code the kernel maps again on demand.
#[tokio::test]
async fn start_up_pages_are_released_and_the_run_goes_on() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let receiver = crate::support::OtlpReceiver::start().await;
    let go_on = tempfile::NamedTempFile::new().unwrap().into_temp_path();
    let go_on_path = go_on.to_str().unwrap().to_string();
    std::fs::remove_file(&go_on).unwrap();
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
        &go_on_path,
    ]);
    let (mut child, mut stdout) = crate::support::spawn_until_ready(cmd).await;
    let pid = child.id().unwrap();
    let at_start = vm_rss_kib(pid);

    let mut stderr = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let release_line = tokio::time::timeout(crate::support::TIMEOUT, async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if line.contains("released start-up pages") {
                return line;
            }
        }
        panic!("stderr ended without the release line");
    })
    .await
    .expect("the release line within the timeout");
    let after_release = vm_rss_kib(pid);
    std::fs::write(&go_on_path, b"").unwrap();

    let status = tokio::time::timeout(crate::support::TIMEOUT, child.wait())
        .await
        .unwrap()
        .unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    std::fs::remove_file(&go_on_path).ok();

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
    assert!(
        !release_line.contains("mappings=0"),
        "some mapping released: {release_line}"
    );
    assert!(
        after_release < at_start,
        "RSS falls: {at_start} KiB after start-up, {after_release} KiB after the release ({release_line})"
    );
}
