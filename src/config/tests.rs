//! Tests of the composition: precedence, errors, warnings.

use super::*;
use clap::Parser;

/// A real, small file for an option that names a file logwrap reads
/// (those are read at start); leaked, as the tables hold &'static str.
fn real_file(name: &str) -> &'static str {
    let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    let path = dir.path().join(name);
    std::fs::write(&path, "x").unwrap();
    Box::leak(path.to_str().unwrap().to_string().into_boxed_str())
}

#[test]
fn headers_logwrap_owns_are_refused_from_flags_and_dropped_from_otel_variables() {
    for (args, setting) in [
        (
            &["--exporter", "otlp", "--otlp-header", "Host=x"][..],
            "--otlp-header",
        ),
        (
            &[
                "--exporter",
                "otlp",
                "--otlp-header",
                "content-encoding=gzip",
            ],
            "--otlp-header",
        ),
        (
            &[
                "--exporter",
                "otlp",
                "--otlp-protocol",
                "grpc",
                "--otlp-header",
                "grpc-encoding=gzip",
            ],
            "--otlp-header",
        ),
        (
            &["--http-url", "http://h", "--http-header", "te=trailers"],
            "--http-header",
        ),
    ] {
        let e = resolve_with(args, &[]).unwrap_err();
        assert_eq!(e.0[0].setting, setting, "{args:?}");
    }
    // Allowed: grpc-* over HTTP means nothing special; authorization
    // without a token file is the user's.
    let r = resolve_with(
        &[
            "--exporter",
            "otlp",
            "--otlp-header",
            "authorization=Basic x",
            "--otlp-header",
            "grpc-x=1",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(otlp(&r).headers.len(), 2);
    let r = resolve_with(
        &["--exporter", "otlp"],
        &[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "api-key=1,content-type=text/plain",
        )],
    )
    .unwrap();
    assert_eq!(otlp(&r).headers, [("api-key".to_string(), "1".to_string())]);
    assert!(
        r.warnings.iter().any(|w| w.contains("content-type")),
        "{:?}",
        r.warnings
    );
}

fn cli(args: &[&str]) -> Cli {
    let mut argv = vec!["logwrap"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--", "true"]);
    Cli::try_parse_from(argv).unwrap()
}

fn resolve_with(
    args: &[&str],
    env: &[(&'static str, &'static str)],
) -> Result<Resolved, ConfigErrors> {
    let env: HashMap<&str, &str> = env.iter().copied().collect();
    resolve(cli(args), &env)
}

fn otlp(resolved: &Resolved) -> &OtlpConfig {
    match resolved.config.exporters.as_slice() {
        [ExporterConfig::Otlp(o)] => o,
        other => panic!("expected one OTLP exporter, got {other:?}"),
    }
}

#[test]
fn console_is_the_default_and_turns_the_passthrough_off() {
    let r = resolve_with(&[], &[]).unwrap();
    assert_eq!(r.config.exporters, [ExporterConfig::Console]);
    assert!(!r.config.read.passthrough);
}

#[test]
fn an_endpoint_anywhere_selects_otlp_and_keeps_the_passthrough() {
    let r = resolve_with(&[], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]).unwrap();
    assert_eq!(otlp(&r).url, "http://c:4318/v1/logs");
    assert!(r.config.read.passthrough);
    let r = resolve_with(&["--otlp-endpoint", "http://flag:1/base/"], &[]).unwrap();
    assert_eq!(otlp(&r).url, "http://flag:1/base/v1/logs");
}

#[test]
fn endpoint_precedence_and_path_rules() {
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318/prefix"),
        (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            "http://logs:4318/custom/path",
        ),
    ];
    // Logs-specific beats generic and is used as-is.
    let r = resolve_with(&[], &env).unwrap();
    assert_eq!(otlp(&r).url, "http://logs:4318/custom/path");
    // The flag beats both.
    let r = resolve_with(&["--otlp-endpoint", "https://flag"], &env).unwrap();
    assert_eq!(otlp(&r).url, "https://flag/v1/logs");
    // Generic: v1/logs appended to the path, one slash.
    let r = resolve_with(&[], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://g:1/prefix")]).unwrap();
    assert_eq!(otlp(&r).url, "http://g:1/prefix/v1/logs");
    // Logs-specific without a path gets the root path, nothing appended.
    let r = resolve_with(
        &[],
        &[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://l:4318")],
    )
    .unwrap();
    assert_eq!(otlp(&r).url, "http://l:4318/");
    // OTEL_LOGS_EXPORTER=otlp with no endpoint: the spec's default.
    let r = resolve_with(&[], &[("OTEL_LOGS_EXPORTER", "otlp")]).unwrap();
    assert_eq!(otlp(&r).url, "http://localhost:4318/v1/logs");
}

#[test]
fn a_bad_flag_is_an_error_but_a_bad_otel_variable_is_a_warning() {
    let errs = resolve_with(&["--otlp-endpoint", "collector:4318"], &[]).unwrap_err();
    assert_eq!(errs.0[0].setting, "--otlp-endpoint");
    assert!(errs.to_string().contains("http://"), "{errs}");

    let r = resolve_with(
        &["--exporter", "otlp"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "5s"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
        ],
    )
    .unwrap();
    assert_eq!(otlp(&r).url, "http://localhost:4318/v1/logs");
    assert_eq!(otlp(&r).timeout, DEFAULT_OTLP_TIMEOUT);
    assert_eq!(otlp(&r).compression, Compression::None);
    assert_eq!(r.warnings.len(), 3, "{:?}", r.warnings);
}

#[test]
fn all_errors_are_reported_together() {
    let errs = resolve_with(
        &[
            "--max-line-bytes",
            "8",
            "--otlp-endpoint",
            "ftp://x",
            "--exporter",
            "none,console",
        ],
        &[],
    )
    .unwrap_err();
    let settings: Vec<&str> = errs.0.iter().map(|e| e.setting.as_str()).collect();
    assert!(settings.contains(&"--max-line-bytes"), "{settings:?}");
    assert!(settings.contains(&"--exporter"), "{settings:?}");
}

#[test]
fn headers_from_flags_or_env_with_percent_decoding() {
    let r = resolve_with(
        &["--exporter", "otlp"],
        &[
            ("OTEL_EXPORTER_OTLP_HEADERS", "generic=1"),
            (
                "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
                "Authorization=Basic%20abc, x-tenant = t1 ",
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        otlp(&r).headers,
        [
            ("Authorization".into(), "Basic abc".into()),
            ("x-tenant".into(), "t1".into())
        ]
    );
    let r = resolve_with(&["--otlp-header", "a=b=c", "--otlp-header", "d=e"], &[]).unwrap();
    // An OTLP option alone selects OTLP at the default endpoint (issue
    // 13; it used to leave the console, silently ignoring the header).
    assert_eq!(otlp(&r).url, "http://localhost:4318/v1/logs");
    assert!(!r.config.exporters.contains(&ExporterConfig::Console));
    let r = resolve_with(&["--exporter", "otlp", "--otlp-header", "a=b=c"], &[]).unwrap();
    assert_eq!(otlp(&r).headers, [("a".into(), "b=c".into())]);
    let errs = resolve_with(&["--exporter", "otlp", "--otlp-header", "token"], &[]).unwrap_err();
    assert!(errs.to_string().contains("KEY=VALUE"));
}

#[test]
fn header_values_never_appear_in_messages() {
    let r = resolve_with(
        &["--exporter", "otlp"],
        &[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "Authorization=Bearer%20s3cr3t,broken",
        )],
    )
    .unwrap();
    assert!(!r.warnings.join(" ").contains("s3cr3t"), "{:?}", r.warnings);
    let debug = format!(
        "{:?}",
        resolve_with(&["--exporter", "otlp", "--otlp-header", "k=s3cr3t"], &[])
            .unwrap()
            .config
    );
    assert!(!debug.contains("s3cr3t"), "{debug}");
}

#[test]
fn timeout_and_compression_precedence() {
    let env = [
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "2000"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
    ];
    let r = resolve_with(&["--exporter", "otlp"], &env).unwrap();
    assert_eq!(otlp(&r).timeout, Duration::from_secs(2));
    assert_eq!(otlp(&r).compression, Compression::Gzip);
    let r = resolve_with(
        &[
            "--exporter",
            "otlp",
            "--otlp-timeout",
            "1s",
            "--otlp-compression",
            "none",
        ],
        &env,
    )
    .unwrap();
    assert_eq!(otlp(&r).timeout, Duration::from_secs(1));
    assert_eq!(otlp(&r).compression, Compression::None);
}

#[test]
fn batch_settings_honour_the_blrp_variables() {
    let env = [
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "100"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "250"),
    ];
    let r = resolve_with(&[], &env).unwrap();
    assert_eq!(r.config.batch.max_records, 100);
    assert_eq!(r.config.batch.max_delay, Duration::from_millis(250));
    let r = resolve_with(&["--batch-max-records", "7", "--batch-delay", "2s"], &env).unwrap();
    assert_eq!(r.config.batch.max_records, 7);
    assert_eq!(r.config.batch.max_delay, Duration::from_secs(2));
}

/// A count the user chose holds for every destination; without one, a
/// destination's own default (Loki's) replaces the general one.
#[test]
fn a_chosen_batch_count_is_kept_and_only_a_default_gives_way() {
    let loki = |r: &Resolved| r.config.batch.records_or(4096).max_records;
    let r = resolve_with(&[], &[]).unwrap();
    assert!(!r.config.batch.records_given);
    assert_eq!((r.config.batch.max_records, loki(&r)), (1024, 4096));
    let r = resolve_with(&["--batch-max-records", "7"], &[]).unwrap();
    assert_eq!((r.config.batch.max_records, loki(&r)), (7, 7));
    let r = resolve_with(&[], &[("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "100")]).unwrap();
    assert_eq!((r.config.batch.max_records, loki(&r)), (100, 100));
    // A value that is ignored (with a warning) is no choice.
    let r = resolve_with(&[], &[("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "many")]).unwrap();
    assert_eq!((r.config.batch.max_records, loki(&r)), (1024, 4096));
}

#[test]
fn resource_attributes_are_parsed_or_discarded_whole() {
    let r = resolve_with(
        &[],
        &[
            ("OTEL_RESOURCE_ATTRIBUTES", "a=1,b=2"),
            ("OTEL_SERVICE_NAME", "svc"),
        ],
    )
    .unwrap();
    assert_eq!(r.config.resource.env_attributes.len(), 2);
    assert_eq!(r.config.resource.otel_service_name.as_deref(), Some("svc"));
    let r = resolve_with(&[], &[("OTEL_RESOURCE_ATTRIBUTES", "a=1,oops")]).unwrap();
    assert!(r.config.resource.env_attributes.is_empty());
    assert!(r.warnings[0].contains("OTEL_RESOURCE_ATTRIBUTES"));
}

#[test]
fn verbosity_sets_the_log_filter_unless_logwrap_log_is_set() {
    assert_eq!(
        resolve_with(&[], &[]).unwrap().config.log_filter,
        "warn,logwrap=warn"
    );
    assert_eq!(
        resolve_with(&["-vv"], &[]).unwrap().config.log_filter,
        "warn,logwrap=debug"
    );
    assert_eq!(
        resolve_with(&["-q"], &[]).unwrap().config.log_filter,
        "warn,logwrap=error"
    );
    let r = resolve_with(&["-v"], &[("LOGWRAP_LOG", "trace")]).unwrap();
    assert_eq!(r.config.log_filter, "trace");
}

#[test]
fn protocol_precedence_and_grpc_endpoints() {
    let env = [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc"),
    ];
    let r = resolve_with(&["--exporter", "otlp"], &env).unwrap();
    assert_eq!(otlp(&r).protocol, OtlpProtocol::Grpc);
    assert_eq!(
        otlp(&r).url,
        "http://localhost:4317",
        "gRPC default: no path"
    );
    let r = resolve_with(
        &["--exporter", "otlp", "--otlp-protocol", "http/protobuf"],
        &env,
    )
    .unwrap();
    assert_eq!(otlp(&r).protocol, OtlpProtocol::HttpProtobuf);
    let r = resolve_with(
        &["--exporter", "otlp"],
        &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
    )
    .unwrap();
    assert_eq!(otlp(&r).protocol, OtlpProtocol::HttpJson);
    assert_eq!(otlp(&r).url, "http://localhost:4318/v1/logs");
    // An unknown protocol in OTEL_* is a warning, in a flag an error.
    let r = resolve_with(
        &["--exporter", "otlp"],
        &[("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift")],
    )
    .unwrap();
    assert_eq!(otlp(&r).protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(r.warnings.len(), 1);
    assert!(resolve_with(&["--otlp-protocol", "thrift", "--exporter", "otlp"], &[]).is_err());

    // gRPC endpoints: scheme decides TLS; no scheme follows INSECURE.
    let grpc = |endpoint: &'static str, insecure: &'static str| {
        let env = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_INSECURE", insecure),
        ];
        otlp(&resolve_with(&[], &env).unwrap()).url.clone()
    };
    assert_eq!(grpc("collector:4317", "true"), "http://collector:4317");
    assert_eq!(grpc("collector:4317", "false"), "https://collector:4317");
    assert_eq!(
        grpc("https://collector:4317/ignored/path", "true"),
        "https://collector:4317"
    );
    assert_eq!(grpc("http://collector", "false"), "http://collector:80");
    let e = resolve_with(
        &[
            "--otlp-protocol",
            "grpc",
            "--otlp-compression",
            "zstd",
            "--exporter",
            "otlp",
        ],
        &[],
    )
    .unwrap_err();
    assert_eq!(e.0[0].setting, "--otlp-compression");
}

/// Every OTEL_EXPORTER_OTLP_* variable that applies to logs: the
/// logs-specific one beats the generic one, and the flag beats both.
#[test]
fn every_otlp_variable_follows_the_precedence() {
    // (suffix, generic value, logs value, flag, flag value, what the config shows)
    type Show = fn(&OtlpConfig) -> String;
    let cases: &[(&str, &str, &str, &str, &str, Show)] = &[
        (
            "ENDPOINT",
            "http://g:1",
            "http://l:2/x",
            "--otlp-endpoint",
            "http://f:3",
            |c| c.url.clone(),
        ),
        (
            "HEADERS",
            "a=generic",
            "a=logs",
            "--otlp-header",
            "a=flag",
            |c| c.headers[0].1.clone(),
        ),
        (
            "COMPRESSION",
            "none",
            "gzip",
            "--otlp-compression",
            "zstd",
            |c| format!("{:?}", c.compression),
        ),
        ("TIMEOUT", "1000", "2000", "--otlp-timeout", "3s", |c| {
            format!("{:?}", c.timeout)
        }),
        (
            "PROTOCOL",
            "http/json",
            "grpc",
            "--otlp-protocol",
            "http/protobuf",
            |c| format!("{:?}", c.protocol),
        ),
        (
            "CERTIFICATE",
            "/g.pem",
            "/l.pem",
            "--otlp-certificate",
            real_file("f.pem"),
            |c| format!("{:?}", c.tls.ca_file),
        ),
    ];
    for (suffix, generic, logs, flag, flag_value, show) in cases {
        let generic_name: &'static str =
            Box::leak(format!("OTEL_EXPORTER_OTLP_{suffix}").into_boxed_str());
        let logs_name: &'static str =
            Box::leak(format!("OTEL_EXPORTER_OTLP_LOGS_{suffix}").into_boxed_str());
        let only_generic = show(otlp(
            &resolve_with(&["--exporter", "otlp"], &[(generic_name, generic)]).unwrap(),
        ));
        let both = show(otlp(
            &resolve_with(
                &["--exporter", "otlp"],
                &[(generic_name, generic), (logs_name, logs)],
            )
            .unwrap(),
        ));
        let with_flag = show(otlp(
            &resolve_with(
                &["--exporter", "otlp", flag, flag_value],
                &[(generic_name, generic), (logs_name, logs)],
            )
            .unwrap(),
        ));
        assert_ne!(
            only_generic, both,
            "{suffix}: the logs variable must beat the generic one"
        );
        assert_ne!(
            both, with_flag,
            "{suffix}: the flag must beat the variables"
        );
        assert_ne!(only_generic, with_flag, "{suffix}");
    }
    // Pairs: client certificate and key travel together.
    for suffix in ["CLIENT_CERTIFICATE", "CLIENT_KEY"] {
        let other = if suffix == "CLIENT_KEY" {
            "CLIENT_CERTIFICATE"
        } else {
            "CLIENT_KEY"
        };
        let env = [
            (
                Box::leak(format!("OTEL_EXPORTER_OTLP_{suffix}").into_boxed_str()) as &str,
                "/generic",
            ),
            (
                Box::leak(format!("OTEL_EXPORTER_OTLP_LOGS_{suffix}").into_boxed_str()) as &str,
                "/logs",
            ),
            (
                Box::leak(format!("OTEL_EXPORTER_OTLP_{other}").into_boxed_str()) as &str,
                "/other",
            ),
        ];
        let r = resolve_with(&["--exporter", "otlp"], &env).unwrap();
        let tls = &otlp(&r).tls;
        let got = if suffix == "CLIENT_KEY" {
            &tls.client_key
        } else {
            &tls.client_cert
        };
        assert_eq!(
            got.as_deref(),
            Some(std::path::Path::new("/logs")),
            "{suffix}"
        );
    }
    // INSECURE: logs-specific "false" beats generic "true".
    let env = [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
    ];
    assert_eq!(
        otlp(&resolve_with(&[], &env).unwrap()).url,
        "http://collector:4317"
    );
    let mut with_logs = env.to_vec();
    with_logs.push(("OTEL_EXPORTER_OTLP_LOGS_INSECURE", "false"));
    assert_eq!(
        otlp(&resolve_with(&[], &with_logs).unwrap()).url,
        "https://collector:4317"
    );
    assert_eq!(
        otlp(&resolve_with(&["--otlp-insecure"], &with_logs).unwrap()).url,
        "http://collector:4317"
    );
}

#[test]
fn tls_file_precedence() {
    let (shared, flag) = (real_file("shared.pem"), real_file("flag.pem"));
    let env = [
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/generic/ca.pem"),
        ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "/logs/ca.pem"),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/c.pem"),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/c.key"),
    ];
    let r = resolve_with(&["--exporter", "otlp", "--tls-ca-file", shared], &env).unwrap();
    assert_eq!(otlp(&r).tls.ca_file, Some(PathBuf::from("/logs/ca.pem")));
    assert_eq!(otlp(&r).tls.client_cert, Some(PathBuf::from("/c.pem")));
    let r = resolve_with(&["--exporter", "otlp", "--otlp-certificate", flag], &env).unwrap();
    assert_eq!(otlp(&r).tls.ca_file, Some(PathBuf::from(flag)));
    let r = resolve_with(&["--exporter", "otlp", "--tls-ca-file", shared], &[]).unwrap();
    assert_eq!(
        otlp(&r).tls.ca_file,
        Some(PathBuf::from(shared)),
        "the shared flag is the fallback"
    );
    let e = resolve_with(
        &["--exporter", "otlp"],
        &[("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/only.key")],
    )
    .unwrap_err();
    assert!(e.to_string().contains("client certificate"), "{e}");
    let r = resolve_with(
        &["--exporter", "otlp"],
        &[("OTEL_EXPORTER_OTLP_INSECURE", "yes")],
    )
    .unwrap();
    assert!(
        r.warnings[0].contains("true or false"),
        "only 'true' is true"
    );
}

#[test]
fn every_addressed_destination_is_used() {
    let r = resolve_with(
        &[
            "--loki-url",
            "http://loki:3100",
            "--http-url",
            "http://v:8080/logs",
            "--file",
            "/tmp/x.ndjson",
        ],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")],
    )
    .unwrap();
    let kinds: Vec<&str> = r
        .config
        .exporters
        .iter()
        .map(|e| match e {
            ExporterConfig::Otlp(_) => "otlp",
            ExporterConfig::Loki(_) => "loki",
            ExporterConfig::Http(_) => "http",
            ExporterConfig::File(_) => "file",
            ExporterConfig::Console => "console",
        })
        .collect();
    assert_eq!(kinds, ["otlp", "loki", "http", "file"]);
    let r = resolve_with(&[], &[("OTEL_LOGS_EXPORTER", "none")]).unwrap();
    assert!(r.config.exporters.is_empty());
    let e = resolve_with(&["--exporter", "loki"], &[]).unwrap_err();
    assert!(e.to_string().contains("--loki-url"), "{e}");
}

#[test]
fn loki_settings_and_their_errors() {
    let r = resolve_with(
        &[
            "--loki-url",
            "http://loki:3100",
            "--loki-label",
            "env=prod",
            "--loki-label",
            "level={severity}",
            "--loki-tenant",
            "team-a",
            "--loki-username",
            "u",
            "--loki-password",
            "p",
        ],
        &[],
    )
    .unwrap();
    let [ExporterConfig::Loki(loki)] = r.config.exporters.as_slice() else {
        panic!()
    };
    assert_eq!(loki.url, "http://loki:3100/loki/api/v1/push");
    assert_eq!(
        loki.labels[1].value,
        LabelValue::Attribute("severity".into())
    );
    assert_eq!(loki.tenant.as_deref(), Some("team-a"));
    assert!(loki.auth.basic.is_some() && loki.auth.bearer.is_none());
    assert!(loki.structured_metadata);

    for (args, setting) in [
        (&["--loki-url", "loki:3100"][..], "--loki-url"),
        (
            &["--loki-url", "http://l", "--loki-label", "k8s.ns=x"][..],
            "--loki-label",
        ),
        (
            &["--loki-url", "http://l", "--loki-label", "novalue"][..],
            "--loki-label",
        ),
        (
            &["--loki-url", "http://l", "--loki-label", "service_name=x"][..],
            "--loki-label",
        ),
        (
            &["--loki-url", "http://l", "--loki-username", "u"][..],
            "--loki-username",
        ),
        (
            &["--loki-url", "http://l", "--loki-compression", "zstd"][..],
            "--loki-compression",
        ),
    ] {
        let e = resolve_with(args, &[]).unwrap_err();
        assert!(e.0.iter().any(|e| e.setting == setting), "{args:?}: {e}");
    }
}

#[test]
fn parse_modes_per_stream_and_errors() {
    let r = resolve_with(&["--parse", "stdout=json,stderr=text"], &[]).unwrap();
    assert_eq!(
        (r.config.parse.stdout_mode, r.config.parse.stderr_mode),
        (ParseMode::Json, ParseMode::Text)
    );
    let r = resolve_with(&["--parse", "none"], &[]).unwrap();
    assert_eq!(
        (r.config.parse.stdout_mode, r.config.parse.stderr_mode),
        (ParseMode::None, ParseMode::None)
    );
    let errs = resolve_with(&["--parse", "xml"], &[]).unwrap_err();
    assert!(
        errs.to_string()
            .contains("auto, json, logfmt, text or none"),
        "{errs}"
    );
    let errs = resolve_with(&["--parse", "stdin=json"], &[]).unwrap_err();
    assert_eq!(errs.0[0].setting, "--parse");
}

#[test]
fn time_zones() {
    let zone = |tz: &str| resolve_with(&["--timezone", tz], &[]).map(|r| r.config.parse.time.zone);
    // An offset that starts with '-' is taken as the value, not a flag.
    assert_eq!(zone("UTC").unwrap(), jiff::tz::TimeZone::UTC);
    assert!(zone("Europe/Berlin").is_ok());
    let fixed = zone("+02:00").unwrap();
    assert_eq!(fixed.to_fixed_offset().unwrap().seconds(), 7200);
    assert_eq!(
        zone("-0530").unwrap().to_fixed_offset().unwrap().seconds(),
        -19800
    );
    let errs = zone("Mars/Olympus").unwrap_err();
    assert!(errs.to_string().contains("IANA"), "{errs}");
}

#[test]
fn buffer_must_hold_long_lines() {
    let errs = resolve_with(&["--buffer-max-bytes", "100KiB"], &[]).unwrap_err();
    assert_eq!(errs.0[0].setting, "--buffer-max-bytes");
}
