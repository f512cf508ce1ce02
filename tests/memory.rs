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
