//! Every destination against a real receiver that decodes with the server
//! side's own schema: OTLP/gRPC (tonic LogsService), OTLP/HTTP protobuf and
//! JSON (opentelemetry-proto), Loki (push.proto field for field, snappy),
//! NDJSON over HTTP and to a file; TLS and mTLS with certificates made here.

use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::any_value;

use crate::support::grpc::{GrpcAnswer, GrpcReceiver};
use crate::support::loki::LokiReceiver;
use crate::support::*;

fn bodies(records: &[opentelemetry_proto::tonic::logs::v1::LogRecord]) -> Vec<String> {
    records.iter().map(body_text).collect()
}

#[tokio::test]
async fn otlp_grpc_delivers_with_gzip_and_metadata() {
    let receiver = GrpcReceiver::start().await;
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), "grpc-token\n").unwrap();
    let run = run_logwrap([
        "--otlp-protocol",
        "grpc",
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--otlp-compression",
        "gzip",
        "--otlp-header",
        "x-tenant=acme",
        "--otlp-bearer-token-file",
        token.path().to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "echo one; echo two >&2",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let mut got = bodies(&receiver.records());
    got.sort();
    assert_eq!(got, ["one", "two"]);
    let call = &receiver.calls()[0];
    assert_eq!(call.metadata.get("x-tenant").unwrap(), "acme");
    assert_eq!(
        call.metadata.get("authorization").unwrap(),
        "Bearer grpc-token"
    );
    let resource = call.request.resource_logs[0].resource.as_ref().unwrap();
    assert_eq!(
        attr_str(&resource.attributes, "service.name").as_deref(),
        Some("unknown_service:sh")
    );
}

#[tokio::test]
async fn otlp_grpc_retries_what_the_spec_says_and_honours_retry_info() {
    let receiver = GrpcReceiver::start().await;
    receiver.script([
        GrpcAnswer::Status {
            code: tonic::Code::Unavailable,
            message: "restarting".into(),
            retry_after: None,
        },
        GrpcAnswer::Status {
            code: tonic::Code::ResourceExhausted,
            message: "slow down".into(),
            retry_after: Some(Duration::from_millis(1500)),
        },
    ]);
    let run = run_logwrap([
        "--no-lifecycle",
        "--otlp-protocol",
        "grpc",
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--shutdown-timeout",
        "20s",
        "--",
        "echo",
        "eventually",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(bodies(&receiver.records()), ["eventually"]);
    let calls = receiver.calls();
    assert_eq!(calls.len(), 3);
    let waited = calls[2].at - calls[1].at;
    assert!(
        waited >= Duration::from_millis(1400),
        "RetryInfo's delay honoured: {waited:?}"
    );
}

#[tokio::test]
async fn otlp_grpc_permanent_errors_and_partial_success_are_not_retried() {
    let receiver = GrpcReceiver::start().await;
    receiver.script([GrpcAnswer::Status {
        code: tonic::Code::InvalidArgument,
        message: "bad record".into(),
        retry_after: None,
    }]);
    let run = run_logwrap([
        "--no-lifecycle",
        "--otlp-protocol",
        "grpc",
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "echo",
        "x",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    assert_eq!(receiver.calls().len(), 1);
    assert!(
        run.stderr_text().contains("InvalidArgument") && run.stderr_text().contains("bad record"),
        "{}",
        run.stderr_text()
    );

    let receiver = GrpcReceiver::start().await;
    receiver.script([GrpcAnswer::PartialSuccess {
        rejected: 1,
        message: "one was too old".into(),
    }]);
    let run = run_logwrap([
        "--no-lifecycle",
        "--otlp-protocol",
        "grpc",
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "echo",
        "y",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    assert_eq!(
        receiver.calls().len(),
        1,
        "partial success is never retried"
    );
    let err = run.stderr_text();
    assert!(
        err.contains("one was too old") && err.contains("rejected=1"),
        "{err}"
    );
}

#[tokio::test]
async fn otlp_http_json_is_the_spec_shape() {
    let receiver = OtlpReceiver::start().await;
    let line = r#"{"level":"warn","msg":"json path","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","n":9007199254740993}"#;
    let run = run_logwrap([
        "--no-lifecycle",
        "--otlp-protocol",
        "http/json",
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--",
        "echo",
        line,
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let captured = &receiver.http.accepted()[0];
    assert_eq!(captured.headers["content-type"], "application/json");
    let text = String::from_utf8(captured.body.clone()).unwrap();
    assert!(
        text.contains("\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\""),
        "{text}"
    );
    assert!(text.contains("\"severityNumber\":13"), "{text}");
    assert!(text.contains("\"intValue\":\"9007199254740993\""), "{text}");
    // And the official serde types agree.
    let r = &receiver.records()[0];
    assert_eq!(body_text(r), "json path");
    assert_eq!(
        attr(&r.attributes, "n"),
        Some(&any_value::Value::IntValue(9_007_199_254_740_993))
    );
}

#[tokio::test]
async fn otlp_http_with_zstd_and_gzip() {
    for algo in ["zstd", "gzip"] {
        let receiver = OtlpReceiver::start().await;
        let run = run_logwrap([
            "--otlp-endpoint",
            &receiver.endpoint(),
            "--otlp-compression",
            algo,
            "--",
            "seq",
            "1",
            "2000",
        ])
        .await;
        assert_eq!(run.code, Some(0), "{}", run.stderr_text());
        let requests = receiver.requests();
        assert_eq!(requests[0].headers["content-encoding"], algo);
        assert_eq!(receiver.records().len(), 2000);
        let wire: usize = requests.iter().map(|r| r.wire_bytes).sum();
        let raw: usize = receiver.http.accepted().iter().map(|c| c.body.len()).sum();
        assert!(wire * 3 < raw, "{algo}: {wire} bytes on the wire for {raw}");
    }
}

#[tokio::test]
async fn loki_protobuf_push_with_labels_metadata_order_and_auth() {
    let loki = LokiReceiver::start().await;
    let run = run_logwrap([
        "--loki-url",
        &loki.url(),
        "--service-name",
        "checkout",
        "--loki-label",
        "env=prod",
        "--loki-label",
        "level={severity}",
        "--loki-tenant",
        "team-a",
        "--loki-username",
        "shipper",
        "--loki-password",
        "pw",
        "--",
        "sh",
        "-c",
        r#"echo 'ERROR payment failed'; echo same; echo same; echo '{"level":"info","msg":"ok","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","order":7}'"#,
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let push = &loki.http.accepted()[0];
    assert_eq!(push.headers["x-scope-orgid"], "team-a");
    assert_eq!(push.headers["authorization"], "Basic c2hpcHBlcjpwdw==");
    let entries = loki.entries();
    assert_eq!(entries.len(), 4);
    let error = entries
        .iter()
        .find(|e| e.line == "ERROR payment failed")
        .unwrap();
    assert_eq!(
        error.labels,
        r#"{env="prod",level="error",service_name="checkout"}"#
    );
    assert_eq!(error.meta("level"), Some("ERROR"));
    assert_eq!(error.meta("log_iostream"), Some("stdout"));
    assert!(
        error.meta("process_pid").is_some(),
        "resource attributes as metadata"
    );
    assert!(
        error.meta("service_name").is_none(),
        "service_name is a label"
    );
    let json = entries.iter().find(|e| e.line == "ok").unwrap();
    assert_eq!(
        json.meta("trace_id"),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(json.meta("order"), Some("7"));
    assert!(!json.labels.contains("trace"), "never a trace id label");
    // Same line twice: distinct, increasing timestamps, so Loki keeps both.
    let same: Vec<i64> = entries
        .iter()
        .filter(|e| e.line == "same")
        .map(|e| e.ts_nanos)
        .collect();
    assert_eq!(same.len(), 2);
    assert!(same[0] < same[1]);
    for stream in entries.chunk_by(|a, b| a.labels == b.labels) {
        assert!(
            stream.windows(2).all(|w| w[0].ts_nanos < w[1].ts_nanos),
            "time order within a stream"
        );
    }
}

#[tokio::test]
async fn loki_json_push_with_gzip_and_a_bearer_token() {
    let loki = LokiReceiver::start().await;
    let mut cmd = logwrap();
    cmd.env("LOGWRAP_LOKI_BEARER_TOKEN", "t0k3n").args([
        "--loki-url",
        &loki.url(),
        "--loki-encoding",
        "json",
        "--loki-compression",
        "gzip",
        "--",
        "printf",
        "a\\nb\\n",
    ]);
    let run = run_command(cmd).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let push = &loki.http.accepted()[0];
    assert_eq!(push.headers["content-encoding"], "gzip");
    assert_eq!(push.headers["authorization"], "Bearer t0k3n");
    let lines: Vec<String> = loki.entries().into_iter().map(|e| e.line).collect();
    assert_eq!(lines, ["a", "b"]);
    assert!(!run.stderr_text().contains("t0k3n"));
}

#[tokio::test]
async fn loki_without_structured_metadata_gets_a_resend_without_it() {
    let loki = LokiReceiver::start().await;
    loki.http.script([Answer::text(
        400,
        "stream '{service_name=\"x\"}' includes structured metadata, but this feature is disallowed. Please see `limits_config.allow_structured_metadata` or contact your Loki administrator to enable it.",
    )]);
    let run = run_logwrap([
        "--no-lifecycle",
        "--loki-url",
        &loki.url(),
        "--batch-max-records",
        "1",
        "--",
        "printf",
        "one\\ntwo\\n",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let entries = loki.entries();
    assert_eq!(
        entries.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(),
        ["one", "two"]
    );
    assert!(
        entries.iter().all(|e| e.metadata.is_empty()),
        "no metadata after the 400"
    );
    let err = run.stderr_text();
    assert_eq!(
        err.matches("does not accept structured metadata").count(),
        1,
        "warned once: {err}"
    );
}

#[tokio::test]
async fn loki_400_is_dropped_with_its_reason_and_429_is_retried() {
    let loki = LokiReceiver::start().await;
    loki.http.script([
        Answer {
            status: 429,
            headers: vec![("retry-after", "1".into())],
            body: b"Ingestion rate limit exceeded".to_vec(),
        },
        Answer::text(
            400,
            "entry for stream '{service_name=\"x\"}' has timestamp too old",
        ),
    ]);
    let run = run_logwrap([
        "--no-lifecycle",
        "--loki-url",
        &loki.url(),
        "--batch-max-records",
        "1",
        "--no-multiline",
        "--",
        "sh",
        "-c",
        // The child ends while the retry waits: the shutdown deadline that
        // follows must not bring the retry forward.
        "echo first; sleep 0.3; echo second",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    let seen = loki.http.captured();
    // The fourth request is the notice that one record was dropped.
    assert_eq!(
        seen.iter().map(|c| c.status).collect::<Vec<_>>(),
        [429, 400, 204, 204]
    );
    assert!(
        seen[1].at - seen[0].at >= Duration::from_millis(900),
        "Retry-After honoured"
    );
    let err = run.stderr_text();
    assert!(
        err.contains("timestamp too old") && err.contains("failed=1"),
        "{err}"
    );
    assert_eq!(loki.entries().len(), 1);
    let notice: Vec<_> = loki
        .all_entries()
        .into_iter()
        .filter(|e| e.meta("event_name") == Some("logwrap.dropped"))
        .collect();
    assert_eq!(notice.len(), 1, "one dropped-records notice");
    assert_eq!(
        notice[0].meta("logwrap_dropped_failed"),
        Some("1"),
        "{notice:?}"
    );
}

/// Loki pushes hold 4096 records at the defaults (one push at a time, so
/// the count bounds the rate against a Loki a few milliseconds away), and
/// the count the user gives wins.
#[tokio::test]
async fn loki_pushes_hold_4096_records_unless_told_otherwise() {
    for (args, sizes) in [
        (&[][..], vec![4096, 904]),
        (&["--batch-max-records", "2000"][..], vec![2000, 2000, 1000]),
    ] {
        let loki = LokiReceiver::start().await;
        let mut all = vec!["--no-lifecycle", "--no-multiline", "--loki-url"];
        let url = loki.url();
        all.push(&url);
        all.extend_from_slice(args);
        all.extend_from_slice(&["--", "seq", "5000"]);
        let run = run_logwrap(all).await;
        assert_eq!(run.code, Some(0), "{}", run.stderr_text());
        let pushes: Vec<usize> = loki
            .http
            .accepted()
            .iter()
            .map(|push| crate::support::loki::decode(push).len())
            .collect();
        assert_eq!(pushes, sizes, "{args:?}");
    }
}

/// A retry sends the very same push (same entries, same timestamps: grouped
/// again, they would move past the first try's); that is what the equal
/// bodies check. The pushes after it wait for it, so lines arrive in the
/// order written and each stream's timestamps only rise from request to
/// request (Loki before 2.4, or with `unordered_writes: false`, refuses
/// entries that go back in time).
#[tokio::test]
async fn loki_pushes_keep_their_order_and_a_retry_resends_the_same_push() {
    let loki = LokiReceiver::start().await;
    loki.http.script([
        Answer::text(503, "ingester not ready"),
        Answer::text(503, "ingester not ready"),
    ]);
    let run = run_logwrap([
        "--no-lifecycle",
        "--loki-url",
        &loki.url(),
        "--batch-max-records",
        "2",
        "--retry-initial",
        "100ms",
        "--no-multiline",
        "--",
        "sh",
        "-c",
        "for i in $(seq 1 40); do echo line $i; done",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let seen = loki.http.captured();
    assert_eq!(
        &seen.iter().map(|c| c.status).take(3).collect::<Vec<_>>(),
        &[503, 503, 204]
    );
    assert!(
        seen[0].body == seen[1].body && seen[1].body == seen[2].body,
        "a retry sends the push it built first"
    );
    let entries = loki.entries();
    let lines: Vec<&str> = entries.iter().map(|e| e.line.as_str()).collect();
    let written: Vec<String> = (1..=40).map(|i| format!("line {i}")).collect();
    assert_eq!(lines, written, "every line, in the order written");
    assert!(
        entries.windows(2).all(|w| w[0].ts_nanos < w[1].ts_nanos),
        "timestamps rise from push to push: {:?}",
        entries.iter().map(|e| e.ts_nanos).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn ndjson_over_http_and_to_a_file() {
    let receiver = HttpReceiver::start(Answer::status(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("records.ndjson");
    let run = run_logwrap([
        "--http-url",
        &format!("{}/ingest", receiver.url()),
        "--http-header",
        "x-source=logwrap",
        "--file",
        file.to_str().unwrap(),
        "--service-name",
        "api",
        "--",
        "sh",
        "-c",
        "echo hello; echo oops >&2",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let request = &receiver.accepted()[0];
    assert_eq!(request.path, "/ingest");
    assert_eq!(request.headers["content-type"], "application/x-ndjson");
    assert_eq!(request.headers["x-source"], "logwrap");
    let posted: String = receiver
        .accepted()
        .iter()
        .map(|r| String::from_utf8(r.body.clone()).unwrap())
        .collect();
    for text in [posted, std::fs::read_to_string(&file).unwrap()] {
        let records: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let records: Vec<_> = records
            .into_iter()
            .filter(|r| r.get("event_name").is_none())
            .collect();
        assert_eq!(records.len(), 2, "{text}");
        assert!(
            records
                .iter()
                .all(|r| r["resource"]["service.name"] == "api")
        );
        assert!(
            records
                .iter()
                .any(|r| r["body"] == "oops" && r["attributes"]["log.iostream"] == "stderr")
        );
    }
}

#[tokio::test]
async fn tls_with_a_custom_ca_and_mtls() {
    let pki = certs::Pki::new();
    let ca = pki.ca_pem.to_str().unwrap().to_string();

    // Server signed by our CA: unknown to the system roots.
    let receiver = OtlpReceiver::start_tls(pki.server(&[b"h2", b"http/1.1"])).await;
    let url = receiver.http.localhost_url();
    let run = run_logwrap([
        "--otlp-endpoint",
        &url,
        "--shutdown-timeout",
        "1s",
        "--",
        "echo",
        "x",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    assert!(receiver.records().is_empty());
    assert!(
        run.stderr_text().contains("certificate"),
        "{}",
        run.stderr_text()
    );
    let run = run_logwrap([
        "--otlp-endpoint",
        &url,
        "--otlp-certificate",
        &ca,
        "--",
        "echo",
        "trusted",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(bodies(&receiver.records()), ["trusted"]);

    // The same CA through the standard variable.
    let mut cmd = logwrap();
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", &url)
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca)
        .args(["--", "echo", "from env"]);
    assert_eq!(run_command(cmd).await.code, Some(0));
    assert!(bodies(&receiver.records()).contains(&"from env".to_string()));

    // mTLS: refused without a client certificate, delivered with one.
    let mtls = OtlpReceiver::start_tls(pki.mtls_server(&[b"h2", b"http/1.1"])).await;
    let url = mtls.http.localhost_url();
    let run = run_logwrap([
        "--otlp-endpoint",
        &url,
        "--otlp-certificate",
        &ca,
        "--shutdown-timeout",
        "1s",
        "--",
        "echo",
        "x",
    ])
    .await;
    assert!(
        mtls.records().is_empty(),
        "no client certificate, no delivery"
    );
    assert_eq!(run.code, Some(0));
    let run = run_logwrap([
        "--otlp-endpoint",
        &url,
        "--otlp-certificate",
        &ca,
        "--otlp-client-certificate",
        pki.client_cert_pem.to_str().unwrap(),
        "--otlp-client-key",
        pki.client_key_pem.to_str().unwrap(),
        "--",
        "echo",
        "mutual",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(bodies(&mtls.records()), ["mutual"]);

    // Skip-verify only when asked, with a warning.
    let loki = HttpReceiver::start_tls(Answer::status(204), pki.server(&[b"http/1.1"])).await;
    let run = run_logwrap([
        "--no-lifecycle",
        "--loki-url",
        &loki.localhost_url(),
        "--tls-insecure-skip-verify",
        "--",
        "echo",
        "unverified",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    assert_eq!(loki.accepted().len(), 1);
    assert!(
        run.stderr_text().contains("not checked"),
        "{}",
        run.stderr_text()
    );
}

#[tokio::test]
async fn otlp_grpc_over_mtls() {
    let pki = certs::Pki::new();
    let receiver = GrpcReceiver::start_tls(pki.mtls_server(&[b"h2"])).await;
    let run = run_logwrap([
        "--otlp-protocol",
        "grpc",
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--otlp-certificate",
        pki.ca_pem.to_str().unwrap(),
        "--otlp-client-certificate",
        pki.client_cert_pem.to_str().unwrap(),
        "--otlp-client-key",
        pki.client_key_pem.to_str().unwrap(),
        "--",
        "echo",
        "grpc over mtls",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert_eq!(bodies(&receiver.records()), ["grpc over mtls"]);
}

#[tokio::test]
async fn two_destinations_and_one_of_them_down() {
    let receiver = OtlpReceiver::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = run_logwrap([
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--loki-url",
        &format!("http://127.0.0.1:{closed}"),
        "--shutdown-timeout",
        "2s",
        "--",
        "seq",
        "1",
        "3000",
    ])
    .await;
    assert_eq!(run.code, Some(0));
    assert_eq!(
        receiver.records().len(),
        3000,
        "the healthy destination gets everything"
    );
    let err = run.stderr_text();
    assert!(
        err.contains("destination=\"loki\"") && err.contains("records were not delivered"),
        "{err}"
    );
    assert!(!err.contains("destination=\"otlp\" lost"), "{err}");
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
}

#[tokio::test]
async fn a_token_file_is_read_again_when_it_changes() {
    let loki = LokiReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    let go = dir.path().join("go");
    std::fs::write(&token, "first-token").unwrap();
    let script = format!(
        "echo one; while [ ! -e {} ]; do sleep 0.05; done; echo two",
        go.display()
    );
    let mut cmd = logwrap();
    cmd.args([
        "--no-lifecycle",
        "--loki-url",
        &loki.url(),
        "--loki-bearer-token-file",
        token.to_str().unwrap(),
        "--batch-delay",
        "50ms",
        "--multiline-timeout",
        "50ms",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let child = cmd.spawn().unwrap();
    loki.wait_for_entries(1).await;
    // Rotated the way Kubernetes does it: a new file renamed over the old.
    std::fs::write(dir.path().join("token.new"), "second-token").unwrap();
    std::fs::rename(dir.path().join("token.new"), &token).unwrap();
    std::fs::write(&go, "").unwrap();
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let auth: Vec<String> = loki
        .http
        .accepted()
        .iter()
        .map(|c| c.headers["authorization"].to_str().unwrap().to_string())
        .collect();
    assert_eq!(auth, ["Bearer first-token", "Bearer second-token"]);
}

#[tokio::test]
async fn secrets_stay_out_of_help_and_logs() {
    let mut cmd = logwrap();
    cmd.env("LOGWRAP_LOKI_PASSWORD", "hunter2")
        .env("LOGWRAP_LOKI_BEARER_TOKEN", "t0k3n")
        .env("LOGWRAP_OTLP_HEADERS", "authorization=Bearer%20s3cr3t")
        .arg("--help");
    let run = run_command(cmd).await;
    assert_eq!(run.code, Some(0));
    let help = run.stdout_text();
    assert!(help.contains("LOGWRAP_LOKI_PASSWORD"));
    for secret in ["hunter2", "t0k3n", "s3cr3t"] {
        assert!(!help.contains(secret), "{secret} in --help");
    }
    // A destination that fails does not print credentials either.
    let mut cmd = logwrap();
    cmd.env("LOGWRAP_LOKI_PASSWORD", "hunter2").args([
        "--loki-url",
        "http://127.0.0.1:9",
        "--loki-username",
        "u",
        "--shutdown-timeout",
        "500ms",
        "-vvv",
        "--",
        "echo",
        "x",
    ]);
    let run = run_command(cmd).await;
    assert!(
        !run.stderr_text().contains("hunter2"),
        "{}",
        run.stderr_text()
    );
}
