//! logwrap exits with the child's code; its own failures have their own codes.

use crate::support::*;

#[tokio::test]
async fn exit_codes_pass_through() {
    for code in [0, 1, 42, 255] {
        let run = run_logwrap([
            "--exporter",
            "none",
            "--",
            "sh",
            "-c",
            &format!("exit {code}"),
        ])
        .await;
        assert_eq!(run.code, Some(code), "{}", run.stderr_text());
    }
}

#[tokio::test]
async fn death_by_signal_is_128_plus_the_signal() {
    let run = run_logwrap(["--exporter", "none", "--", "sh", "-c", "kill -TERM $$"]).await;
    assert_eq!(run.code, Some(143));
    let run = run_logwrap(["--exporter", "none", "--", "sh", "-c", "kill -KILL $$"]).await;
    assert_eq!(run.code, Some(137));
}

#[tokio::test]
async fn a_missing_command_is_127_with_a_clear_message() {
    let run = run_logwrap(["--", "no-such-command-anywhere"]).await;
    assert_eq!(run.code, Some(127));
    let err = run.stderr_text();
    assert!(
        err.contains("no-such-command-anywhere") && err.contains("not found"),
        "{err}"
    );
    assert!(run.stdout.is_empty());
}

#[tokio::test]
async fn a_file_that_cannot_run_is_126() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("not-executable.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let run = run_logwrap([script.as_os_str()]).await;
    assert_eq!(run.code, Some(126));
    assert!(
        run.stderr_text().contains("permission denied"),
        "{}",
        run.stderr_text()
    );

    let run = run_logwrap(["--", "/"]).await;
    assert_eq!(run.code, Some(126), "a directory is not executable");
}

#[tokio::test]
async fn usage_and_config_errors_are_2_and_name_the_option() {
    let run = run_logwrap(["--max-line-bytes", "lots", "--", "true"]).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr_text().contains("--max-line-bytes"),
        "{}",
        run.stderr_text()
    );

    let run = run_logwrap(["--otlp-endpoint", "collector:4318", "--", "true"]).await;
    assert_eq!(run.code, Some(2));
    let err = run.stderr_text();
    assert!(
        err.contains("--otlp-endpoint") && err.contains("http://"),
        "{err}"
    );

    let run = run_logwrap(["--when-full", "sometimes", "--", "true"]).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr_text().contains("--when-full"));

    // Without a command logwrap reads stdin (here empty): pipe mode.
    let run = run_logwrap::<[&str; 0], &str>([]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
}
