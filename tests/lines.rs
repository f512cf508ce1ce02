//! Line splitting on real pipes: long lines, bad bytes, bursts on both streams.

use crate::support::*;
use opentelemetry_proto::tonic::common::v1::any_value;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn a_five_mib_line_without_newline_arrives_as_marked_pieces() {
    let receiver = OtlpReceiver::start().await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-passthrough",
        "--",
        "python3",
        "-c",
        "import sys; sys.stdout.write(''.join(chr(97 + i % 26) for i in range(5 * 1024 * 1024)))",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let records = receiver.records();
    assert_eq!(records.len(), 20, "5 MiB in 256 KiB pieces");
    let mut joined = String::new();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(
            attr(&r.attributes, "logwrap.split.id"),
            Some(&any_value::Value::IntValue(1))
        );
        assert_eq!(
            attr(&r.attributes, "logwrap.split.index"),
            Some(&any_value::Value::IntValue(i as i64))
        );
        let last = i == records.len() - 1;
        assert_eq!(
            attr(&r.attributes, "logwrap.split.last"),
            Some(&any_value::Value::BoolValue(last))
        );
        let body = body_text(r);
        assert!(body.len() <= 256 * 1024);
        joined.push_str(&body);
    }
    let expected: String = (0..5 * 1024 * 1024)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    assert!(joined == expected, "the pieces join back into the line");
}

#[tokio::test]
async fn invalid_utf8_nul_and_crlf_arrive_as_documented() {
    let receiver = OtlpReceiver::start().await;
    let stdout = b"bad \xff\xfe bytes\nnul \x00 inside\ncrlf line\r\nplain\n";
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "python3",
        &fixture("bytes.py"),
        &hex(stdout),
        "",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(run.stdout, stdout, "pass-through unchanged");
    let records = receiver.records();
    assert_eq!(records.len(), 4);
    assert_eq!(
        value(&records[0].body),
        Some(&any_value::Value::BytesValue(
            b"bad \xff\xfe bytes".to_vec()
        )),
        "not UTF-8: the original bytes as bytes_value"
    );
    assert_eq!(body_text(&records[1]), "nul \0 inside");
    assert_eq!(body_text(&records[2]), "crlf line");
    assert_eq!(body_text(&records[3]), "plain");
}

#[tokio::test]
async fn one_mib_bursts_on_both_streams_at_once_do_not_deadlock() {
    let receiver = OtlpReceiver::start().await;
    let size = 1024 * 1024;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "-q",
        "--",
        "python3",
        &fixture("burst.py"),
        &size.to_string(),
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(run.stdout.len(), size / 100 * 100);
    assert_eq!(
        run.stderr.len(),
        size / 100 * 100,
        "stderr carries only the child's bytes"
    );
    let records = receiver.records();
    assert_eq!(stream(&records, "stdout").len(), size / 100);
    assert_eq!(stream(&records, "stderr").len(), size / 100);
}

#[tokio::test]
async fn a_custom_max_line_bytes_splits_at_character_boundaries() {
    let receiver = OtlpReceiver::start().await;
    // 10 three-byte characters; a limit of 16 bytes must not cut one.
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--max-line-bytes",
        "16",
        "--buffer-max-bytes",
        "1MiB",
        "--",
        "printf",
        "€€€€€€€€€€\\n",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let bodies: Vec<String> = receiver.records().iter().map(body_text).collect();
    assert_eq!(bodies, ["€€€€€", "€€€€€"]);
}
