//! Running logwrap in production: the metrics and health endpoints, the
//! config file and its precedence, `--print-config`, `logwrap check`, and
//! the summary line at exit.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::loki::LokiReceiver;
use crate::support::*;

/// A plain HTTP/1.0 GET: status and body.
async fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the metrics port is open");
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The value of one series in Prometheus text.
fn series(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name_and_labels} not in\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn metrics_scraped_during_a_run_match_what_the_receiver_counted() {
    let receiver = OtlpReceiver::start().await;
    let port = free_port();
    let running = spawn_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--metrics-addr",
        &port.to_string(),
        "--no-lifecycle",
        "--batch-max-records",
        "100",
        "--",
        "sh",
        "-c",
        "i=0; while [ $i -lt 1000 ]; do echo line $i; i=$((i+1)); done; echo oops >&2; sleep 3",
    ]);
    receiver.wait_for_records(1001).await;
    // The last batch's counters are updated right after its answer.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, text) = get(port, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(
        series(&text, "logwrap_lines_read_total{stream=\"stdout\"}"),
        1000.0
    );
    assert_eq!(
        series(&text, "logwrap_lines_read_total{stream=\"stderr\"}"),
        1.0
    );
    let received = receiver.records().len() as f64;
    assert_eq!(
        series(
            &text,
            "logwrap_records_exported_total{destination=\"otlp\"}"
        ),
        received
    );
    assert_eq!(
        series(
            &text,
            "logwrap_records_dropped_total{destination=\"otlp\",reason=\"queue_full\"}"
        ),
        0.0
    );
    assert_eq!(
        series(&text, "logwrap_destination_failing{destination=\"otlp\"}"),
        0.0
    );
    let batches = receiver.requests().len() as f64;
    assert_eq!(
        series(
            &text,
            "logwrap_batch_latency_seconds_count{destination=\"otlp\"}"
        ),
        batches
    );
    assert!(text.contains("# TYPE logwrap_batch_latency_seconds histogram"));
    assert_eq!(get(port, "/healthz").await.0, 200);
    assert_eq!(get(port, "/readyz").await, (200, "ready\n".to_string()));
    assert_eq!(get(port, "/nope").await.0, 404);
    let run = running.finish().await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
}

#[tokio::test]
async fn a_metrics_port_in_use_is_reported_and_the_run_goes_on() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let run = run_logwrap([
        "--metrics-addr",
        &port,
        "-q",
        "--",
        "sh",
        "-c",
        "echo hi; exit 4",
    ])
    .await;
    assert_eq!(run.code, Some(4));
    let err = run.stderr_text();
    assert!(
        err.contains("cannot serve metrics") && err.contains("in use"),
        "{err}"
    );
}

#[tokio::test]
async fn metrics_address_values() {
    let run = run_logwrap(["--metrics-addr", ":9464", "--", "true"]).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr_text().contains("0.0.0.0:9464"),
        "{}",
        run.stderr_text()
    );
}

fn config_file(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("logwrap.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test]
async fn flags_beat_env_beats_the_file_beats_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(
        &dir,
        "# settings\nloki-url = \"http://from-file:3100\"\nstop-timeout = \"3s\"\nmax-in-flight = 4\notlp-endpoint = \"http://from-file:4318\"\notlp-header = [\"authorization=Bearer secret-from-file\"]\nno-lifecycle = true\n",
    );
    let mut cmd = logwrap();
    cmd.env("LOGWRAP_STOP_TIMEOUT", "5s")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://from-otel-env:4318")
        .args(["--config", &file, "--max-in-flight", "6", "--print-config"]);
    let run = run_command(cmd).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let out = run.stdout_text();
    for line in [
        "loki-url = \"http://from-file:3100\"  # file",
        "stop-timeout = \"5s\"  # environment",
        "max-in-flight = \"6\"  # flag",
        "no-lifecycle = true  # file",
        "otlp-header = [\"authorization=****\"]  # file",
        "retry-initial = \"1s\"  # default",
        // An OTel variable outranks the file too.
        "otlp: HttpProtobuf http://from-otel-env:4318/v1/logs",
    ] {
        assert!(out.contains(line), "{line:?} not in\n{out}");
    }
    assert!(!out.contains("secret-from-file"), "secrets are masked");
}

#[tokio::test]
async fn a_config_file_drives_a_real_run() {
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(
        &dir,
        &format!(
            "otlp-endpoint = \"{}\"\nservice-name = \"from-file\"\nno-lifecycle = true\n",
            receiver.endpoint()
        ),
    );
    let run = run_logwrap(["--config", &file, "--", "echo", "configured"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let requests = receiver.requests();
    let resource = &requests[0].request.resource_logs[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes;
    assert_eq!(
        attr_str(resource, "service.name").as_deref(),
        Some("from-file")
    );
    assert_eq!(body_text(&receiver.records()[0]), "configured");
}

#[tokio::test]
async fn config_file_mistakes_name_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(
        &dir,
        "loki-url = \"http://loki:3100\"\nloki-ulr = \"x\"\nbatch-delay = \"soon\"\nno-passthrough = \"yes\"\n[otlp]\nendpoint = \"x\"\n",
    );
    let run = run_logwrap(["--config", &file, "--", "echo", "never runs"]).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stdout.is_empty(), "the child did not run");
    let err = run.stderr_text();
    for expected in [
        format!("{file}:2: unknown key `loki-ulr`"),
        "did you mean `loki-url`?".to_string(),
        format!("{file}:3: `batch-delay`: invalid value 'soon'"),
        format!("{file}:4: `no-passthrough`: takes true or false"),
        format!("{file}:5: `[otlp]`: the file has no sections"),
    ] {
        assert!(err.contains(&expected), "{expected:?} not in\n{err}");
    }
    let broken = config_file(&dir, "loki-url = \n");
    let run = run_logwrap(["--config", &broken, "--", "true"]).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr_text()
            .contains(&format!("{broken}:1: not valid TOML")),
        "{}",
        run.stderr_text()
    );
    let run = run_logwrap(["--config", "/nonexistent/logwrap.toml", "--", "true"]).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr_text().contains("cannot read it"),
        "{}",
        run.stderr_text()
    );
}

#[tokio::test]
async fn check_reports_each_destination_up_down_or_refusing() {
    let up = OtlpReceiver::start().await;
    let refusing = LokiReceiver::start().await;
    refusing.http.set_default(Answer::text(401, "no org id"));
    let down = format!("http://127.0.0.1:{}", free_port());
    let run = run_logwrap([
        "check",
        "--otlp-endpoint",
        &up.endpoint(),
        "--loki-url",
        &refusing.url(),
        "--http-url",
        &down,
    ])
    .await;
    assert_eq!(run.code, Some(1), "one failed: {}", run.stdout_text());
    let out = run.stdout_text();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("ok      otlp"), "{out}");
    assert!(
        lines[1].starts_with("FAILED  loki") && lines[1].contains(": auth: HTTP 401"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("FAILED  http") && lines[2].contains(": connect: "),
        "{out}"
    );
    // The test record really arrived where it was accepted.
    let events = up.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_name, "logwrap.check");

    let all_up = run_logwrap(["check", "--otlp-endpoint", &up.endpoint()]).await;
    assert_eq!(all_up.code, Some(0), "{}", all_up.stdout_text());
}

#[tokio::test]
async fn the_exit_summary_comes_with_v_and_counts_what_happened() {
    let receiver = OtlpReceiver::start().await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-lifecycle",
        "-v",
        "--",
        "sh",
        "-c",
        "echo a; echo b; echo c >&2; exit 5",
    ])
    .await;
    assert_eq!(run.code, Some(5));
    let err = run.stderr_text();
    let summary = err.lines().last().unwrap();
    assert_eq!(
        summary,
        "logwrap: summary: exit=5 lines stdout=2 stderr=1; otlp: sent=3 dropped=0 retries=0"
    );
    assert_eq!(receiver.records().len(), 3);

    // At the defaults, a run that delivered everything adds nothing to
    // stderr: the pass-through is exactly the child's bytes.
    let quiet = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "sh",
        "-c",
        "echo c >&2",
    ])
    .await;
    assert_eq!(quiet.stderr_text(), "c\n");
}
