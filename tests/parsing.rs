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

/// The issue's complaint, end to end: a program's INFO and WARN lines on
/// stderr in the layouts common servers and libraries write keep their own
/// level instead of the stream's ERROR, and their own time.
#[tokio::test]
async fn real_layouts_on_stderr_keep_their_level_and_time() {
    let receiver = OtlpReceiver::start().await;
    // Written with the current time in UTC, as each program's format string
    // would (Python's strftime for the non-Python ones).
    let script = r#"
import logging, sys, time
from datetime import datetime, timezone
logging.Formatter.converter = time.gmtime
now = datetime.now(timezone.utc)
def out(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
h = logging.StreamHandler(sys.stderr)
h.setFormatter(logging.Formatter('%(asctime)s - %(name)s - %(levelname)s - %(message)s'))
log = logging.getLogger("shop")
log.addHandler(h)
log.setLevel(logging.INFO)
log.info("order 7 stored")
log.warning("stock low for sku 42")
out(now.strftime("%Y/%m/%d %H:%M:%S") + " [notice] 1#1: using the \"epoll\" event method")
out("1:M " + now.strftime("%d %b %Y %H:%M:%S.") + "%03d" % (now.microsecond // 1000) + " * Ready to accept connections tcp")
out(now.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (now.microsecond // 1000) + " UTC [1] LOG:  database system is ready to accept connections")
out("I" + now.strftime("%m%d %H:%M:%S.%f") + "       1 server.go:150] Version: v1.28.4")
out(now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000) + "  INFO 12345 --- [           main] o.s.b.w.embedded.tomcat.TomcatWebServer  : Tomcat started on port 8080 (http)")
out("nova-api.log.1 " + now.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (now.microsecond // 1000) + " 25746 INFO nova.osapi_compute.wsgi.server [req-1 - - -] GET /v2 200")
"#;
    let started = jiff::Timestamp::now().as_nanosecond();
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "python3",
        "-c",
        script,
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let ended = jiff::Timestamp::now().as_nanosecond();
    let records = receiver.records();
    let got: Vec<(String, i32, String)> = records
        .iter()
        .map(|r| (body_text(r), r.severity_number, r.severity_text.clone()))
        .collect();
    assert_eq!(records.len(), 8, "{got:#?}");
    let expected = [
        (9, "INFO"),
        (13, "WARNING"),
        (10, "notice"),
        (10, "*"),
        (9, "LOG"),
        (9, "I"),
        (9, "INFO"),
        (9, "INFO"),
    ];
    for (r, (number, text)) in records.iter().zip(expected) {
        assert_eq!(
            (r.severity_number, r.severity_text.as_str()),
            (number, text),
            "{}",
            body_text(r)
        );
        // The line's own time (whole seconds at least), not the read time.
        let t = r.time_unix_nano as i128;
        assert!(
            t >= started - 1_000_000_000 && t <= ended,
            "{}: time {t} outside the run",
            body_text(r)
        );
    }
}

/// Level words in a message are words of the message: the line keeps the
/// level its header names, or the stream's.
#[tokio::test]
async fn level_words_inside_a_message_do_not_change_the_severity() {
    let receiver = OtlpReceiver::start().await;
    let script = "echo 'request failed: user error count=0'; \
echo 'Error rate is 0.1% today'; \
echo '[main] WARN  c.e.Cache - user error count=0'; \
echo 'upgrade finished, INFO: see docs' >&2; \
echo 'ERROR payment failed; INFO: see docs' >&2; \
echo '2026/11/28 09:14:02 http: TLS handshake error from 10.0.0.9:51234: EOF' >&2";
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-multiline",
        "--",
        "sh",
        "-c",
        script,
    ])
    .await;
    assert_eq!(run.code, Some(0));
    let records = receiver.records();
    let by_body = |b: &str| {
        records
            .iter()
            .find(|r| body_text(r) == b)
            .map(|r| (r.severity_number, r.severity_text.clone()))
            .unwrap_or_else(|| panic!("no record {b:?}"))
    };
    // stdout's default is INFO, stderr's ERROR.
    assert_eq!(
        by_body("request failed: user error count=0"),
        (9, "INFO".into())
    );
    assert_eq!(by_body("Error rate is 0.1% today"), (9, "INFO".into()));
    assert_eq!(
        by_body("[main] WARN  c.e.Cache - user error count=0"),
        (13, "WARN".into())
    );
    assert_eq!(
        by_body("upgrade finished, INFO: see docs"),
        (17, "ERROR".into())
    );
    assert_eq!(
        by_body("ERROR payment failed; INFO: see docs"),
        (17, "ERROR".into())
    );
    assert_eq!(
        by_body("2026/11/28 09:14:02 http: TLS handshake error from 10.0.0.9:51234: EOF"),
        (17, "ERROR".into())
    );
}
