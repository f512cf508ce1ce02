//! The child's bytes reach logwrap's own stdout and stderr unchanged.

use crate::support::*;

#[tokio::test]
async fn pass_through_is_byte_identical_on_both_streams() {
    let receiver = OtlpReceiver::start().await;
    // Every byte value, CR without LF, and no final newline.
    let mut out: Vec<u8> = (0..=255u8).collect();
    out.extend_from_slice(b"\r\rtext\r\n\n\nend-without-newline");
    let err: Vec<u8> = b"warn: \xc3\x28 broken\n\x00\x01\x02".to_vec();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        // No exit summary: stderr must be the child's alone.
        "-q",
        "--",
        "python3",
        &fixture("bytes.py"),
        &hex(&out),
        &hex(&err),
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(run.stdout, out);
    assert_eq!(run.stderr, err);
}

#[tokio::test]
async fn pass_through_is_identical_for_a_large_mixed_run() {
    let receiver = OtlpReceiver::start().await;
    let mut direct = tokio::process::Command::new("python3");
    direct.args([&fixture("interleave.py"), "20000"]);
    let direct = direct.output().await.unwrap();
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        // No exit summary: stderr must be the child's alone.
        "-q",
        "--",
        "python3",
        &fixture("interleave.py"),
        "20000",
    ])
    .await;
    // The first line holds the pid, which differs between the two runs.
    let skip_pid = |b: &[u8]| b.splitn(2, |&c| c == b'\n').nth(1).unwrap().to_vec();
    assert_eq!(skip_pid(&run.stdout), skip_pid(&direct.stdout));
    assert_eq!(run.stderr, direct.stderr);
}
