//! Structure from text, end to end: real programs' output through the binary.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::*;
use opentelemetry_proto::tonic::common::v1::any_value;

#[tokio::test]
async fn a_python_crash_is_one_error_record_with_the_whole_traceback() {
    let receiver = OtlpReceiver::start().await;
    let script = "import logging, sys\n\
logging.basicConfig(level=logging.INFO)\n\
logging.info('starting')\n\
def parse(v):\n    return int(v)\n\
parse('x')\n";
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "python3",
        "-c",
        script,
    ])
    .await;
    assert_eq!(run.code, Some(1));
    let records = receiver.records();
    let bodies: Vec<String> = records.iter().map(body_text).collect();
    assert_eq!(records.len(), 2, "{bodies:#?}");
    assert_eq!(bodies[0], "INFO:root:starting");
    assert_eq!(
        (
            records[0].severity_number,
            records[0].severity_text.as_str()
        ),
        (9, "INFO")
    );
    let crash = &records[1];
    assert!(
        bodies[1].starts_with("Traceback (most recent call last):\n"),
        "{}",
        bodies[1]
    );
    assert!(
        bodies[1].ends_with("ValueError: invalid literal for int() with base 10: 'x'"),
        "{}",
        bodies[1]
    );
    assert_eq!(
        (crash.severity_number, crash.severity_text.as_str()),
        (17, "Traceback")
    );
}

#[tokio::test]
async fn json_lines_give_body_severity_time_trace_and_attributes() {
    let receiver = OtlpReceiver::start().await;
    let line = r#"{"time":"TIME","level":"warn","msg":"slow query","db":{"table":"orders","ms":812},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#;
    let now = jiff::Timestamp::now();
    let line = line.replace("TIME", &now.to_string());
    let run = run_logwrap(["--otlp-endpoint", &receiver.endpoint(), "--", "echo", &line]).await;
    assert_eq!(run.code, Some(0));
    assert_eq!(
        run.stdout_text(),
        format!("{line}\n"),
        "the pass-through is the raw line"
    );
    let r = &receiver.records()[0];
    assert_eq!(body_text(r), "slow query");
    assert_eq!((r.severity_number, r.severity_text.as_str()), (13, "warn"));
    assert_eq!(r.time_unix_nano as i128, now.as_nanosecond());
    assert_eq!(hex(&r.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(hex(&r.span_id), "00f067aa0ba902b7");
    let Some(any_value::Value::KvlistValue(db)) = attr(&r.attributes, "db") else {
        panic!("db is a key-value list");
    };
    assert_eq!(
        attr(&db.values, "ms"),
        Some(&any_value::Value::IntValue(812))
    );
    assert!(attr(&r.attributes, "msg").is_none() && attr(&r.attributes, "level").is_none());
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn colours_stay_in_the_pass_through_and_leave_the_record() {
    let receiver = OtlpReceiver::start().await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "printf",
        "\\033[31mERROR\\033[0m red alert\\n",
    ])
    .await;
    assert_eq!(run.stdout, b"\x1b[31mERROR\x1b[0m red alert\n");
    let r = &receiver.records()[0];
    assert_eq!(body_text(r), "ERROR red alert");
    assert_eq!(r.severity_number, 17);
}

#[tokio::test]
async fn a_held_record_goes_out_after_the_multiline_timeout_while_the_child_runs() {
    let receiver = OtlpReceiver::start().await;
    let mut cmd = logwrap();
    cmd.args([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--batch-delay",
        "50ms",
        "--multiline-timeout",
        "200ms",
        "--",
        "sh",
        "-c",
        "echo first; echo ready >&2; sleep 30",
    ]);
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(TIMEOUT, stderr.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    let started = std::time::Instant::now();
    let records = receiver.wait_for_records(2).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(150),
        "held for the timeout ({waited:?})"
    );
    let mut bodies: Vec<String> = records.iter().map(body_text).collect();
    bodies.sort();
    assert_eq!(bodies, ["first", "ready"]);
    // SIGTERM, forwarded: the child and logwrap end cleanly.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn parse_none_and_no_multiline_ship_lines_as_they_are() {
    let receiver = OtlpReceiver::start().await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--parse",
        "none",
        "--no-multiline",
        "--",
        "printf",
        "ERROR one\\n  indented\\n",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    let records = receiver.records();
    assert_eq!(
        records.iter().map(body_text).collect::<Vec<_>>(),
        ["ERROR one", "  indented"]
    );
    assert!(
        records.iter().all(|r| r.severity_number == 9),
        "stream severity only"
    );
}
