//! OTLP/HTTP with protobuf bodies: POST an `ExportLogsServiceRequest` to
//! `<endpoint>/v1/logs` and interpret the answer.
//!
//! ```text
//!  &[Record] ──RequestEncoder──► protobuf ──gzip?──► POST ──► 2xx (+ partial_success) | retryable | permanent
//! ```
//!
//! Answers follow the OTLP/HTTP spec: 2xx is success, and its body may carry
//! a `partial_success` with rejected records, which are counted and logged,
//! never retried; 429/502/503/504 and transport errors are retryable (see
//! `retry`); everything else is permanent. Error bodies are
//! `google.rpc.Status` messages, whose `message` is quoted in the log, or
//! plain text from proxies, quoted as is (cut to a few hundred bytes). A
//! server that answers garbage costs one logged error, never a crash.

use std::io::Write;
use std::time::{Duration, SystemTime};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message;
use reqwest::header::{
    CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER,
};

use super::otlp_proto::RequestEncoder;
use super::retry::{Disposition, classify_http};
use super::{Accepted, ExportError};
use crate::cli::Compression;
use crate::config::OtlpConfig;
use crate::record::{Record, Str, Value};

/// How much of an error body is read and quoted.
const MAX_ERROR_BODY: usize = 64 * 1024;
const MAX_QUOTED: usize = 300;

/// `google.rpc.Status`, the body of OTLP/HTTP error responses (field numbers
/// from googleapis `google/rpc/status.proto`; `details` is not needed).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

pub struct OtlpHttpExporter {
    client: reqwest::Client,
    url: reqwest::Url,
    headers: HeaderMap,
    compression: Compression,
    timeout: Duration,
    encoder: RequestEncoder,
}

impl OtlpHttpExporter {
    pub fn new(config: &OtlpConfig, resource: &[(Str, Value)]) -> Result<Self, String> {
        let url = reqwest::Url::parse(&config.url)
            .map_err(|e| format!("bad endpoint {}: {e}", config.url))?;
        let mut headers = HeaderMap::new();
        for (k, v) in &config.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("bad header name {k:?}"))?;
            let mut value =
                HeaderValue::from_str(v).map_err(|_| format!("bad value for header {k:?}"))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        if config.compression == Compression::Gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("logwrap/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(OtlpHttpExporter {
            client,
            url,
            headers,
            compression: config.compression,
            timeout: config.timeout,
            encoder: RequestEncoder::new(resource, "logwrap", env!("CARGO_PKG_VERSION")),
        })
    }

    pub async fn export(&mut self, records: &[Record]) -> Result<Accepted, ExportError> {
        let mut body = Vec::with_capacity(records.len() * 160);
        self.encoder.encode(records, &mut body);
        if self.compression == Compression::Gzip {
            body = gzip(&body);
        }
        let response = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .timeout(self.timeout)
            .body(body)
            .send()
            .await
            .map_err(transport_error)?;

        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let protobuf = response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/x-protobuf"));
        let body = read_limited(response).await;
        match classify_http(status, retry_after.as_deref(), SystemTime::now()) {
            Disposition::Success if protobuf => Ok(partial_success(&body)),
            Disposition::Success => Ok(Accepted::default()),
            Disposition::Retry { after } => Err(ExportError::Retryable {
                reason: format!("HTTP {status}{}", quote_error(&body, protobuf)),
                after,
            }),
            Disposition::Permanent => Err(ExportError::Permanent {
                reason: format!("HTTP {status}{}", quote_error(&body, protobuf)),
            }),
        }
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    // Level 1: logs compress ~5-10x even at the fastest level, and CPU is what
    // a sidecar is short of.
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(body)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

fn transport_error(e: reqwest::Error) -> ExportError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // The error's own chain says why (refused, DNS, TLS); the URL in it is
    // the endpoint, never a header.
    let mut reason = format!("{kind}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        reason.push_str(&format!(": {s}"));
        source = s.source();
    }
    ExportError::Retryable {
        reason,
        after: None,
    }
}

async fn read_limited(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            body.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    body
}

/// Reads `partial_success` from a 2xx body; an empty or unreadable body is
/// plain success (some proxies answer 200 with HTML).
fn partial_success(body: &[u8]) -> Accepted {
    let Ok(response) = ExportLogsServiceResponse::decode(body) else {
        return Accepted::default();
    };
    match response.partial_success {
        Some(p) if p.rejected_log_records > 0 || !p.error_message.is_empty() => Accepted {
            rejected: p.rejected_log_records.max(0) as u64,
            message: (!p.error_message.is_empty()).then_some(p.error_message),
        },
        _ => Accepted::default(),
    }
}

/// `: "<message>"` from a `google.rpc.Status` or plain-text body, or nothing.
fn quote_error(body: &[u8], protobuf: bool) -> String {
    if body.is_empty() {
        return String::new();
    }
    let status = protobuf.then(|| RpcStatus::decode(body).ok()).flatten();
    let text = match status {
        Some(status) if !status.message.is_empty() => status.message,
        _ => String::from_utf8_lossy(body).into_owned(),
    };
    let text = text.trim();
    let cut: String = text.chars().take(MAX_QUOTED).collect();
    let more = if cut.len() < text.len() { "…" } else { "" };
    format!(": {cut:?}{more}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsPartialSuccess;

    #[test]
    fn partial_success_is_read_from_the_body() {
        let body = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 3,
                error_message: "too old".into(),
            }),
        }
        .encode_to_vec();
        let accepted = partial_success(&body);
        assert_eq!(accepted.rejected, 3);
        assert_eq!(accepted.message.as_deref(), Some("too old"));
        assert_eq!(partial_success(b""), Accepted::default());
        assert_eq!(partial_success(b"<html>ok</html>"), Accepted::default());
    }

    #[test]
    fn error_bodies_are_quoted_from_status_or_text() {
        let status = RpcStatus {
            code: 3,
            message: "bad field".into(),
        }
        .encode_to_vec();
        assert_eq!(quote_error(&status, true), ": \"bad field\"");
        assert_eq!(
            quote_error(b"upstream connect error", false),
            ": \"upstream connect error\""
        );
        assert_eq!(quote_error(b"", true), "");
        let long = "x".repeat(1000);
        assert!(quote_error(long.as_bytes(), false).ends_with('…'));
    }

    #[test]
    fn gzip_round_trips() {
        let data = b"hello hello hello".repeat(100);
        let packed = gzip(&data);
        let mut unpacked = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&packed[..]),
            &mut unpacked,
        )
        .unwrap();
        assert_eq!(unpacked, data);
    }
}
