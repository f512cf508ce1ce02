//! Records reach an OTLP/HTTP receiver exactly once, in order, with the right
//! fields and resource.

use crate::support::*;
use opentelemetry_proto::tonic::common::v1::any_value;

#[tokio::test]
async fn a_hundred_thousand_lines_arrive_exactly_once_in_order() {
    let receiver = OtlpReceiver::start().await;
    let n = 50_000;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-passthrough",
        "--service-name",
        "bulk",
        // Requests in flight at once may arrive in either order; one at a
        // time, arrival order is the child's order.
        "--max-in-flight",
        "1",
        "--",
        "python3",
        &fixture("interleave.py"),
        &n.to_string(),
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert!(
        run.stdout.is_empty(),
        "--no-passthrough leaves stdout empty"
    );

    let records = receiver.records();
    assert_eq!(records.len(), 2 * n + 1, "every line exactly once");
    let out = stream(&records, "stdout");
    let err = stream(&records, "stderr");
    assert!(body_text(&out[0]).starts_with("pid "));
    let out_bodies: Vec<String> = out[1..].iter().map(body_text).collect();
    let err_bodies: Vec<String> = err.iter().map(body_text).collect();
    let expected_out: Vec<String> = (0..n).map(|i| format!("stdout line {i}")).collect();
    let expected_err: Vec<String> = (0..n).map(|i| format!("stderr line {i}")).collect();
    assert!(
        out_bodies == expected_out,
        "stdout lines out of order or altered"
    );
    assert!(
        err_bodies == expected_err,
        "stderr lines out of order or altered"
    );

    for r in &out {
        assert_eq!((r.severity_number, r.severity_text.as_str()), (9, "INFO"));
    }
    for r in &err {
        assert_eq!((r.severity_number, r.severity_text.as_str()), (17, "ERROR"));
    }
    for r in &records {
        assert!(r.observed_time_unix_nano > 1_700_000_000_000_000_000);
        assert_eq!(r.time_unix_nano, 0, "no timestamp parsing yet");
    }

    // The resource describes the child, the scope describes logwrap.
    let pid: i64 = body_text(&out[0])[4..].parse().unwrap();
    for req in receiver.requests() {
        for rl in &req.request.resource_logs {
            let res = &rl.resource.as_ref().unwrap().attributes;
            assert_eq!(attr_str(res, "service.name").as_deref(), Some("bulk"));
            assert_eq!(
                attr(res, "process.pid"),
                Some(&any_value::Value::IntValue(pid))
            );
            assert_eq!(
                attr_str(res, "process.executable.name").as_deref(),
                Some("python3")
            );
            assert_eq!(attr_str(res, "process.command").as_deref(), Some("python3"));
            assert!(
                attr(res, "process.command_args").is_none(),
                "argv is opt-in"
            );
            assert!(attr_str(res, "host.name").is_some_and(|h| !h.is_empty()));
            assert_eq!(attr_str(res, "service.instance.id").unwrap().len(), 36);
            let scope = rl.scope_logs[0].scope.as_ref().unwrap();
            assert_eq!(scope.name, "logwrap");
            assert_eq!(scope.version, env!("CARGO_PKG_VERSION"));
        }
    }
}

#[tokio::test]
async fn otel_environment_configures_endpoint_headers_compression_and_resource() {
    let receiver = OtlpReceiver::start().await;
    let mut cmd = logwrap();
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-tenant=team%20a,authorization=Bearer%20t0ken",
        )
        .env("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
        .env("OTEL_SERVICE_NAME", "from-env")
        .env(
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=prod,service.name=ignored",
        )
        .args([
            "--no-lifecycle",
            "--service-name",
            "from-flag",
            "--resource-command-args",
            "--",
            "echo",
            "hello",
        ]);
    let run = run_command(cmd).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(
        run.stdout_text(),
        "hello\n",
        "pass-through stays on with OTLP"
    );

    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.headers["content-encoding"], "gzip");
    assert_eq!(req.headers["x-tenant"], "team a");
    assert_eq!(req.headers["authorization"], "Bearer t0ken");
    let res = &req.request.resource_logs[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes;
    assert_eq!(attr_str(res, "service.name").as_deref(), Some("from-env"));
    assert_eq!(
        attr_str(res, "deployment.environment.name").as_deref(),
        Some("prod")
    );
    let Some(any_value::Value::ArrayValue(args)) = attr(res, "process.command_args") else {
        panic!("process.command_args requested");
    };
    assert_eq!(args.values.len(), 2);
    assert!(!run.stderr_text().contains("t0ken"), "secrets never logged");
}

#[tokio::test]
async fn stream_severities_are_settable_and_none_leaves_them_unset() {
    let receiver = OtlpReceiver::start().await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--stdout-severity",
        "none",
        "--stderr-severity",
        "warn",
        "--",
        "sh",
        "-c",
        "echo plain output; echo plain diagnostics >&2",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    let records = receiver.records();
    let out = &stream(&records, "stdout")[0];
    assert_eq!((out.severity_number, out.severity_text.as_str()), (0, ""));
    let err = &stream(&records, "stderr")[0];
    assert_eq!(
        (err.severity_number, err.severity_text.as_str()),
        (13, "WARN")
    );
}

#[tokio::test]
async fn a_malformed_resource_variable_is_reported_and_ignored_whole() {
    let receiver = OtlpReceiver::start().await;
    let mut cmd = logwrap();
    cmd.env("OTEL_RESOURCE_ATTRIBUTES", "good=1,broken").args([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "echo",
        "x",
    ]);
    let run = run_command(cmd).await;
    assert_eq!(run.code, Some(0));
    assert!(
        run.stderr_text().contains("OTEL_RESOURCE_ATTRIBUTES"),
        "{}",
        run.stderr_text()
    );
    let req = &receiver.requests()[0];
    let res = &req.request.resource_logs[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes;
    assert!(attr(res, "good").is_none(), "the whole value is discarded");
    assert_eq!(
        attr_str(res, "service.name").as_deref(),
        Some("unknown_service:echo")
    );
}

#[tokio::test]
async fn batches_close_at_the_record_limit() {
    let receiver = OtlpReceiver::start().await;
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--no-lifecycle",
        "--batch-max-records",
        "10",
        "--",
        "seq",
        "1",
        "95",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    let sizes: Vec<usize> = receiver
        .requests()
        .iter()
        .map(|r| r.request.resource_logs[0].scope_logs[0].log_records.len())
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 95);
    assert!(sizes.iter().all(|&s| s <= 10), "{sizes:?}");
}

/// Up to eight requests are in flight at once by default: against a
/// collector that answers each request a second late, twelve batches go
/// out as eight at once and then four (one after the other, a distant
/// collector would cap the rate at a batch per round trip).
#[tokio::test]
async fn eight_requests_are_in_flight_at_once_by_default() {
    let receiver = OtlpReceiver::start().await;
    receiver.http.set_delay(std::time::Duration::from_secs(1));
    let run = run_logwrap(args(
        &[
            "--otlp-endpoint",
            &receiver.endpoint(),
            "--no-lifecycle",
            "--no-passthrough",
            "--batch-max-records",
            "10",
        ],
        numbered(120, &[]),
    ))
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let seen = receiver.http.captured();
    assert_eq!(seen.len(), 12);
    // Answers come a second after each request: the first round's together.
    let first = seen[0].at;
    let first_round = seen
        .iter()
        .filter(|c| c.at.duration_since(first) < std::time::Duration::from_millis(500))
        .count();
    assert_eq!(first_round, 8, "answered in the first round");
    assert_eq!(receiver.records().len(), 120);
}
