//! OTLP settings: flags over `LOGWRAP_*` over `OTEL_EXPORTER_OTLP_LOGS_*` over
//! `OTEL_EXPORTER_OTLP_*` over the spec's defaults, into `export::otlp::OtlpConfig`.

#[allow(unused_imports)]
use super::*;

pub(super) fn otel_logs_exporter(r: &mut Resolver<'_, impl Env>) -> Option<Vec<ExporterKind>> {
    let raw = r.env.var("OTEL_LOGS_EXPORTER")?;
    let mut kinds = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.to_ascii_lowercase().as_str() {
            "otlp" => kinds.push(ExporterKind::Otlp),
            "console" => kinds.push(ExporterKind::Console),
            "none" => kinds.push(ExporterKind::None),
            other => {
                r.warn_ignored(
                    "OTEL_LOGS_EXPORTER",
                    &raw,
                    format!("unknown exporter {other:?}; known: otlp, console, none"),
                );
                return None;
            }
        }
    }
    if kinds.contains(&ExporterKind::None) && kinds.len() > 1 {
        r.warn_ignored(
            "OTEL_LOGS_EXPORTER",
            &raw,
            "'none' cannot be combined with other exporters",
        );
        return None;
    }
    (!kinds.is_empty()).then_some(kinds)
}

pub(super) fn resolve_otlp(
    cli: &Cli,
    tls: &TlsOptions,
    r: &mut Resolver<'_, impl Env>,
) -> Option<OtlpConfig> {
    let protocol = match &cli.otlp_protocol {
        Some(flag) => match OtlpProtocol::parse(flag) {
            Some(p) => p,
            None => {
                r.error(
                    "--otlp-protocol",
                    format!("{flag:?} is not a protocol; use grpc, http/protobuf or http/json"),
                );
                return None;
            }
        },
        None => match r.otlp_var("PROTOCOL") {
            Some((name, raw)) => OtlpProtocol::parse(&raw).unwrap_or_else(|| {
                r.warn_ignored(&name, &raw, "expected grpc, http/protobuf or http/json");
                OtlpProtocol::HttpProtobuf
            }),
            None => OtlpProtocol::HttpProtobuf,
        },
    };
    let grpc = protocol == OtlpProtocol::Grpc;
    let insecure = cli.otlp_insecure || otel_bool(r, "INSECURE");

    // Endpoint. HTTP: the flag and the generic variable are base URLs that
    // get `v1/logs` appended, the logs-specific variable is used as is (OTLP
    // exporter spec, "Endpoint URLs for OTLP/HTTP"). gRPC: never a path; a
    // URL without a scheme takes http:// when insecure, else https://.
    let url = match &cli.otlp_endpoint {
        Some(flag) => match endpoint_url(flag, grpc, insecure, true) {
            Ok(url) => url,
            Err(why) => {
                r.error("--otlp-endpoint", format!("{:?} {why}", mask_url(flag)));
                return None;
            }
        },
        None => otlp_endpoint_from_env(r, grpc, insecure),
    };

    let bearer_file = cli.otlp_bearer_token_file.is_some();
    let headers = if !cli.otlp_headers.is_empty() {
        let mut headers = Vec::new();
        for h in &cli.otlp_headers {
            match parse_header(h).and_then(|kv| not_owned(kv, grpc, bearer_file)) {
                Ok(kv) => headers.push(kv),
                Err(why) => r.error("--otlp-header", why),
            }
        }
        headers
    } else if let Some((name, raw)) = r.otlp_var("HEADERS") {
        match parse_header_list(&raw) {
            // A header logwrap owns is dropped alone, with a warning: the
            // variable may be meant for an SDK too (see the module docs).
            Ok(headers) => headers
                .into_iter()
                .filter_map(|kv| match not_owned(kv, grpc, bearer_file) {
                    Ok(kv) => Some(kv),
                    Err(why) => {
                        r.warnings
                            .push(format!("ignoring a header of {name}: {why}"));
                        None
                    }
                })
                .collect(),
            Err(why) => {
                // The value may hold a secret: name the problem, not the value.
                r.warnings.push(format!("ignoring {name}: {why}"));
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };

    let compression = match cli.otlp_compression {
        Some(Compression::Zstd) if grpc => {
            r.error(
                "--otlp-compression",
                "gRPC supports gzip or none; zstd is for OTLP/HTTP",
            );
            Compression::None
        }
        Some(c) => c,
        None => match r.otlp_var("COMPRESSION") {
            Some((name, raw)) => match raw.trim().to_ascii_lowercase().as_str() {
                "gzip" => Compression::Gzip,
                "zstd" if !grpc => Compression::Zstd,
                "none" => Compression::None,
                _ => {
                    r.warn_ignored(
                        &name,
                        &raw,
                        if grpc {
                            "expected gzip or none"
                        } else {
                            "expected gzip, zstd or none"
                        },
                    );
                    Compression::None
                }
            },
            None => Compression::None,
        },
    };

    let timeout = match cli.otlp_timeout {
        Some(t) => t,
        None => {
            let from_env = [
                "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
                "OTEL_EXPORTER_OTLP_TIMEOUT",
            ]
            .into_iter()
            .find_map(|name| r.env_millis(name));
            from_env.unwrap_or(DEFAULT_OTLP_TIMEOUT)
        }
    };
    // The spec reads a timeout of 0 as "no limit"; a day stands in for it.
    let timeout = if timeout.is_zero() {
        Duration::from_secs(86_400)
    } else {
        timeout
    };

    let path_var =
        |r: &Resolver<'_, _>, flag: &Option<PathBuf>, suffix: &str, fallback: &Option<PathBuf>| {
            flag.clone()
                .or_else(|| r.otlp_var(suffix).map(|(_, v)| PathBuf::from(v)))
                .or_else(|| fallback.clone())
        };
    let tls = TlsOptions {
        ca_file: path_var(r, &cli.otlp_certificate, "CERTIFICATE", &tls.ca_file),
        client_cert: path_var(
            r,
            &cli.otlp_client_certificate,
            "CLIENT_CERTIFICATE",
            &tls.client_cert,
        ),
        client_key: path_var(r, &cli.otlp_client_key, "CLIENT_KEY", &tls.client_key),
        insecure_skip_verify: tls.insecure_skip_verify,
    };
    check_tls(&tls, "--otlp-client-certificate", r);

    Some(OtlpConfig {
        protocol,
        url,
        headers,
        compression,
        timeout,
        tls,
        bearer_token: cli.otlp_bearer_token_file.clone().map(Secret::file),
    })
}

/// The first OTLP option given to logwrap itself (not through `OTEL_*`),
/// other than the endpoint.
pub(super) fn otlp_option_given(cli: &Cli) -> Option<&'static str> {
    [
        ("--otlp-protocol", cli.otlp_protocol.is_some()),
        ("--otlp-header", !cli.otlp_headers.is_empty()),
        ("--otlp-compression", cli.otlp_compression.is_some()),
        ("--otlp-timeout", cli.otlp_timeout.is_some()),
        ("--otlp-certificate", cli.otlp_certificate.is_some()),
        (
            "--otlp-client-certificate",
            cli.otlp_client_certificate.is_some(),
        ),
        ("--otlp-client-key", cli.otlp_client_key.is_some()),
        ("--otlp-insecure", cli.otlp_insecure),
        (
            "--otlp-bearer-token-file",
            cli.otlp_bearer_token_file.is_some(),
        ),
    ]
    .into_iter()
    .find_map(|(option, given)| given.then_some(option))
}

/// OTel booleans: true only for "true" (any case); other non-empty values
/// are warned about (configuration spec, "Boolean").
pub(super) fn otel_bool(r: &mut Resolver<'_, impl Env>, suffix: &str) -> bool {
    match r.otlp_var(suffix) {
        Some((_, v)) if v.trim().eq_ignore_ascii_case("true") => true,
        Some((_, v)) if v.trim().eq_ignore_ascii_case("false") => false,
        Some((name, v)) => {
            r.warn_ignored(&name, &v, "expected true or false");
            false
        }
        None => false,
    }
}

pub(super) fn otlp_endpoint_from_env(
    r: &mut Resolver<'_, impl Env>,
    grpc: bool,
    insecure: bool,
) -> String {
    if let Some(raw) = r.env.var("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") {
        match endpoint_url(&raw, grpc, insecure, false) {
            Ok(url) => return url,
            Err(why) => r.warn_ignored("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &mask_url(&raw), why),
        }
    }
    if let Some(raw) = r.env.var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        match endpoint_url(&raw, grpc, insecure, true) {
            Ok(url) => return url,
            Err(why) => r.warn_ignored("OTEL_EXPORTER_OTLP_ENDPOINT", &mask_url(&raw), why),
        }
    }
    let default = if grpc {
        DEFAULT_OTLP_GRPC_ENDPOINT
    } else {
        DEFAULT_OTLP_HTTP_ENDPOINT
    };
    endpoint_url(default, grpc, insecure, true).expect("the default endpoints are valid")
}

/// The URL to use for an endpoint setting. HTTP: `base` ones get `/v1/logs`
/// appended, others only get `/` for an empty path. gRPC: scheme, host and
/// port; a missing scheme follows `insecure`.
pub(super) fn endpoint_url(
    raw: &str,
    grpc: bool,
    insecure: bool,
    base: bool,
) -> Result<String, String> {
    if grpc {
        let raw = raw.trim();
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("{}://{raw}", if insecure { "http" } else { "https" })
        };
        let url = check_http_url(&with_scheme)?;
        let host = url.host_str().ok_or("has no host")?;
        let port = url.port_or_known_default().unwrap_or(4317);
        return Ok(format!("{}://{host}:{port}", url.scheme()));
    }
    if base {
        return logs_url_from_base(raw);
    }
    let mut url = check_http_url(raw)?;
    if url.path().is_empty() {
        url.set_path("/");
    }
    Ok(url.to_string())
}

/// A base URL plus `v1/logs`, with exactly one `/` between them.
pub(super) fn logs_url_from_base(raw: &str) -> Result<String, String> {
    let mut url = check_http_url(raw)?;
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{path}/v1/logs"));
    Ok(url.to_string())
}
