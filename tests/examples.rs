//! The programs in examples/ under logwrap: what examples/README.md says
//! appears in the receiver does.

use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::logs::v1::LogRecord;

use crate::support::*;

fn example(path: &str) -> String {
    format!("{}/examples/{path}", env!("CARGO_MANIFEST_DIR"))
}

async fn run_example(program: &str, path: &str) -> (Run, Vec<LogRecord>) {
    let receiver = OtlpReceiver::start().await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-lifecycle",
        "-q",
        "--",
        program,
        &example(path),
    ])
    .await;
    (run, receiver.records())
}

/// The record whose body holds `text` (a text line's body is the whole line).
fn find<'a>(records: &'a [LogRecord], text: &str) -> &'a LogRecord {
    records
        .iter()
        .find(|r| body_text(r).contains(text))
        .unwrap_or_else(|| panic!("no record with {text:?}"))
}

#[tokio::test]
async fn python_logging_with_a_traceback() {
    let (run, records) = run_example("python3", "python/app.py").await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(
        records.len(),
        6,
        "{:?}",
        records.iter().map(body_text).collect::<Vec<_>>()
    );
    let warning = find(&records, "payment provider slow");
    assert_eq!(
        (warning.severity_number, warning.severity_text.as_str()),
        (13, "WARNING")
    );
    assert!(
        warning.time_unix_nano > 0,
        "the leading time is the Timestamp"
    );
    let failure = find(&records, "could not compute the average");
    assert_eq!(failure.severity_number, 17);
    let body = body_text(failure);
    assert!(
        body.contains("Traceback (most recent call last):")
            && body.ends_with("ZeroDivisionError: division by zero"),
        "the traceback is one record: {body}"
    );
    let plain = find(&records, "shutting down cleanly");
    assert_eq!(
        plain.severity_number, 9,
        "stdout without a level word is INFO"
    );
}

#[tokio::test]
async fn node_json_lines_with_trace_ids() {
    let (run, records) = run_example("node", "node/app.js").await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(records.len(), 4);
    let started = find(&records, "checkout started");
    assert_eq!(hex(&started.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(hex(&started.span_id), "00f067aa0ba902b7");
    assert_eq!(
        attr(&started.attributes, "user_id"),
        Some(&any_value::Value::IntValue(42))
    );
    assert!(matches!(
        attr(&started.attributes, "cart"),
        Some(any_value::Value::KvlistValue(_))
    ));
    let failed = find(&records, "could not read the saved cart");
    assert_eq!(failed.severity_number, 17);
    assert!(matches!(
        attr(&failed.attributes, "err"),
        Some(any_value::Value::KvlistValue(_))
    ));
    assert!(started.time_unix_nano > 0);
}

#[tokio::test]
async fn a_noisy_shell_script() {
    let (run, records) = run_example("sh", "shell/noisy.sh").await;
    assert_eq!(run.code, Some(3), "the script's exit code");
    let upload = find(&records, "upload to s3");
    assert_eq!(
        (upload.severity_number, upload.severity_text.as_str()),
        (17, "ERROR")
    );
    let disk = find(&records, "disk almost full");
    assert_eq!(disk.severity_number, 13);
    assert_eq!(attr_str(&disk.attributes, "pct").as_deref(), Some("91"));
    let ok = find(&records, "OK checksum verified");
    assert_eq!(
        body_text(ok),
        "OK checksum verified",
        "colours are stripped from the record"
    );
    let _ = find(&records, "giving up after 3 attempts");
    assert!(
        run.stdout_text().contains("\u{1b}[1;32mOK"),
        "and kept in the pass-through"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
