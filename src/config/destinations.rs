//! Loki and plain-HTTP settings, and the headers a user may add (never the
//! ones logwrap owns), into the exporters' own settings types.

#[allow(unused_imports)]
use super::*;

pub(super) fn dedup(kinds: Vec<ExporterKind>) -> Vec<ExporterKind> {
    let mut out = Vec::new();
    for k in kinds {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// Loki and plain-HTTP options need their destination's URL: there is no
/// default address to send to, so without it they would be silently unused
/// (issue 13). The defaults of `--loki-encoding` and the compressions
/// count as not given.
pub(super) fn check_destination_options(cli: &Cli, r: &mut Resolver<'_, impl Env>) {
    if cli.loki_url.is_none() {
        let loki = [
            ("--loki-tenant", cli.loki_tenant.is_some()),
            ("--loki-label", !cli.loki_labels.is_empty()),
            (
                "--no-loki-structured-metadata",
                cli.no_loki_structured_metadata,
            ),
            ("--loki-username", cli.loki_username.is_some()),
            ("--loki-password", cli.loki_password.is_some()),
            ("--loki-password-file", cli.loki_password_file.is_some()),
            ("--loki-bearer-token", cli.loki_bearer_token.is_some()),
            (
                "--loki-bearer-token-file",
                cli.loki_bearer_token_file.is_some(),
            ),
            (
                "--loki-encoding",
                cli.loki_encoding != loki::LokiEncoding::default(),
            ),
            (
                "--loki-compression",
                cli.loki_compression != Compression::None,
            ),
        ];
        for (option, _) in loki.into_iter().filter(|(_, given)| *given) {
            r.error(
                option,
                "needs --loki-url URL (there is no Loki destination)",
            );
        }
    }
    if cli.http_url.is_none() {
        let http = [
            ("--http-header", !cli.http_headers.is_empty()),
            (
                "--http-compression",
                cli.http_compression != Compression::None,
            ),
            (
                "--http-bearer-token-file",
                cli.http_bearer_token_file.is_some(),
            ),
        ];
        for (option, _) in http.into_iter().filter(|(_, given)| *given) {
            r.error(
                option,
                "needs --http-url URL (there is no HTTP destination)",
            );
        }
    }
}

pub(super) fn resolve_loki(
    cli: &Cli,
    tls: &TlsOptions,
    r: &mut Resolver<'_, impl Env>,
) -> Option<LokiConfig> {
    let Some(raw) = &cli.loki_url else {
        r.error("--exporter", "'loki' needs --loki-url URL");
        return None;
    };
    let url = match loki::push_url(raw) {
        Ok(url) => url,
        Err(why) => {
            r.error("--loki-url", format!("{:?} {why}", mask_url(raw)));
            return None;
        }
    };
    if cli.loki_compression == Compression::Zstd {
        r.error("--loki-compression", "Loki accepts gzip or none");
    }
    let mut labels: Vec<LokiLabel> = Vec::new();
    for entry in &cli.loki_labels {
        let Some((name, value)) = entry.split_once('=') else {
            r.error(
                "--loki-label",
                format!("{entry:?} has no '='; use NAME=VALUE or NAME={{attribute}}"),
            );
            continue;
        };
        let name = name.trim();
        if loki::label_name(name) != name {
            r.error(
                "--loki-label",
                format!(
                    "{name:?} is not a Loki label name; use letters, digits and _ (e.g. {:?})",
                    loki::label_name(name)
                ),
            );
            continue;
        }
        if name == "service_name" {
            r.error(
                "--loki-label",
                "service_name is set from service.name; use --service-name",
            );
            continue;
        }
        let value = value.trim();
        let value = match value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
            Some(attribute) => LabelValue::Attribute(attribute.to_string()),
            None => LabelValue::Static(value.to_string()),
        };
        labels.retain(|l| l.name != name);
        labels.push(LokiLabel {
            name: name.to_string(),
            value,
        });
    }
    if labels.len() + 1 > MAX_LOKI_LABELS {
        r.error(
            "--loki-label",
            format!(
                "{} labels with service_name; Loki allows {MAX_LOKI_LABELS} per stream by default",
                labels.len() + 1
            ),
        );
    }
    let password = match (&cli.loki_password, &cli.loki_password_file) {
        (Some(p), None) => Some(Secret::Literal(p.clone())),
        (None, Some(f)) => Some(Secret::file(f.clone())),
        (None, None) => None,
        (Some(_), Some(_)) => {
            r.error(
                "--loki-password-file",
                "give the password or a password file, not both",
            );
            None
        }
    };
    let bearer = match (&cli.loki_bearer_token, &cli.loki_bearer_token_file) {
        (Some(t), None) => Some(Secret::Literal(t.clone())),
        (None, Some(f)) => Some(Secret::file(f.clone())),
        (None, None) => None,
        (Some(_), Some(_)) => {
            r.error(
                "--loki-bearer-token-file",
                "give the token or a token file, not both",
            );
            None
        }
    };
    let basic = match (&cli.loki_username, password) {
        (Some(user), Some(p)) => Some((user.clone(), p)),
        (Some(_), None) => {
            r.error(
                "--loki-username",
                "basic auth needs a password (LOGWRAP_LOKI_PASSWORD or --loki-password-file)",
            );
            None
        }
        (None, Some(_)) => {
            r.error("--loki-password", "a password needs --loki-username");
            None
        }
        (None, None) => None,
    };
    if basic.is_some() && bearer.is_some() {
        r.error(
            "--loki-bearer-token",
            "use basic auth or a bearer token, not both",
        );
    }
    check_tls(tls, "--tls-client-cert", r);
    Some(LokiConfig {
        url,
        encoding: cli.loki_encoding,
        compression: cli.loki_compression,
        tenant: cli.loki_tenant.clone(),
        auth: Auth { bearer, basic },
        labels,
        structured_metadata: !cli.no_loki_structured_metadata,
        level_label: !cli.no_loki_level_label,
        timeout: DEFAULT_HTTP_TIMEOUT,
        tls: tls.clone(),
    })
}

pub(super) fn resolve_http(
    cli: &Cli,
    tls: &TlsOptions,
    r: &mut Resolver<'_, impl Env>,
) -> Option<HttpConfig> {
    let Some(raw) = &cli.http_url else {
        r.error("--exporter", "'http' needs --http-url URL");
        return None;
    };
    let url = match check_http_url(raw) {
        Ok(url) => url.to_string(),
        Err(why) => {
            r.error("--http-url", format!("{:?} {why}", mask_url(raw)));
            return None;
        }
    };
    let mut headers = Vec::new();
    let bearer_file = cli.http_bearer_token_file.is_some();
    for h in &cli.http_headers {
        match parse_header(h).and_then(|kv| not_owned(kv, false, bearer_file)) {
            Ok(kv) => headers.push(kv),
            Err(why) => r.error("--http-header", why),
        }
    }
    check_tls(tls, "--tls-client-cert", r);
    Some(HttpConfig {
        url,
        headers,
        compression: cli.http_compression,
        auth: Auth {
            bearer: cli.http_bearer_token_file.clone().map(Secret::file),
            basic: None,
        },
        timeout: DEFAULT_HTTP_TIMEOUT,
        tls: tls.clone(),
    })
}

pub(super) fn check_http_url(raw: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| format!("is not a URL ({e}); use e.g. http://collector:4318"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("has scheme {other:?}; use http:// or https://")),
    }
}

/// `KEY=VALUE` from `--otlp-header`; the value is taken literally.
pub(super) fn parse_header(raw: &str) -> Result<(String, String), String> {
    let Some((k, v)) = raw.split_once('=') else {
        // The text may be a token pasted without its name: do not echo it.
        return Err("a header has no '='; use KEY=VALUE".to_string());
    };
    validate_header(k.trim(), v.trim())?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

/// The W3C-baggage-like list of `OTEL_EXPORTER_OTLP_HEADERS`: `k=v,k2=v2`,
/// values percent-decoded.
pub(super) fn parse_header_list(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, member) in raw.split(',').map(str::trim).enumerate() {
        if member.is_empty() {
            continue;
        }
        let Some((k, v)) = member.split_once('=') else {
            return Err(format!(
                "entry {} has no '=' (expected key=value,key2=value2)",
                i + 1
            ));
        };
        let value = resource::percent_decode(v.trim())
            .ok_or_else(|| format!("the value of {:?} has a bad %-escape", k.trim()))?;
        validate_header(k.trim(), &value)?;
        out.push((k.trim().to_string(), value));
    }
    Ok(out)
}

/// Headers logwrap sets itself, which a user header would contradict
/// (issue 13): `Host` comes from the URL (another value sends the request
/// to one virtual host and its TLS name to another), the body headers
/// describe the body logwrap encodes (`Content-Encoding: gzip` on an
/// uncompressed body makes the server refuse or misread it), the hop-by-hop
/// headers belong to the HTTP client, and gRPC's own headers frame the
/// call. `Authorization` is the user's, unless a bearer token file sets it
/// too, where one of the two would be silently lost.
pub(super) fn owned_header(name: &str, grpc: bool, bearer_file: bool) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    match name.as_str() {
        "host" => Some("logwrap sets it from the URL; change the URL instead"),
        "content-type" | "content-length" => Some("logwrap sets it for the body it sends"),
        "content-encoding" => Some("logwrap sets it from the compression option"),
        "transfer-encoding" | "connection" | "keep-alive" | "proxy-connection" | "upgrade"
        | "te" | "trailer" => Some("the HTTP client manages the connection and sets it"),
        "authorization" if bearer_file => {
            Some("the bearer token file sets it; give one or the other")
        }
        _ if grpc && name.starts_with("grpc-") => {
            Some("it is part of gRPC's framing, set by the gRPC client")
        }
        _ => None,
    }
}

/// `kv` unless logwrap owns that header; the error names it and says why.
pub(super) fn not_owned(
    kv: (String, String),
    grpc: bool,
    bearer_file: bool,
) -> Result<(String, String), String> {
    match owned_header(&kv.0, grpc, bearer_file) {
        Some(why) => Err(format!("cannot set header {:?}: {why}", kv.0)),
        None => Ok(kv),
    }
}

pub(super) fn validate_header(name: &str, value: &str) -> Result<(), String> {
    reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid HTTP header name"))?;
    reqwest::header::HeaderValue::from_str(value)
        .map_err(|_| format!("the value of {name:?} is not a valid HTTP header value"))?;
    Ok(())
}
