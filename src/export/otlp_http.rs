//! OTLP/HTTP, protobuf or JSON: POST an `ExportLogsServiceRequest` to the
//! logs URL and interpret the answer.
//!
//! ```text
//!  &[Record] ──RequestEncoder | JsonRequestEncoder──► body ──gzip/zstd?──► POST ──► 2xx (+ partial_success) | retryable | permanent
//! ```
//!
//! Answers follow the OTLP/HTTP spec: 2xx is success, and its body may carry a
//! `partial_success` with rejected records, which are counted and logged,
//! never retried; 429/502/503/504 and transport errors are retryable (see
//! `retry`); everything else is permanent. Error bodies are
//! `google.rpc.Status` messages (protobuf or JSON) whose `message` is quoted
//! in the log, or plain text from proxies, quoted as is. A server that answers
//! garbage costs one logged error, never a crash.

use std::time::{Duration, SystemTime};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use super::http::{self, Auth, Compression};
use super::otlp::{OtlpConfig, OtlpProtocol};
use super::otlp_json::JsonRequestEncoder;
use super::otlp_proto::RequestEncoder;
use super::retry::{Disposition, classify_http};
use super::secret::mask_url;
use super::{Accepted, ExportError};
use crate::record::{Record, Str, Value};

/// `google.rpc.Status`, the body of OTLP/HTTP error responses (field numbers
/// from googleapis `google/rpc/status.proto`; `details` is not needed).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

enum Encoder {
    Protobuf(RequestEncoder),
    Json(JsonRequestEncoder),
}

pub struct OtlpHttpExporter {
    client: reqwest::Client,
    url: reqwest::Url,
    headers: HeaderMap,
    compression: Compression,
    timeout: Duration,
    auth: Auth,
    encoder: Encoder,
}

impl OtlpHttpExporter {
    pub fn new(config: &OtlpConfig, resource: &[(Str, Value)]) -> Result<Self, String> {
        let url = reqwest::Url::parse(&config.url)
            .map_err(|e| format!("bad endpoint {}: {e}", mask_url(&config.url)))?;
        let json = config.protocol == OtlpProtocol::HttpJson;
        let mut headers = header_map(&config.headers)?;
        let content_type = if json {
            "application/json"
        } else {
            "application/x-protobuf"
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Some(encoding) = config.compression.content_encoding() {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        let scope_version = env!("CARGO_PKG_VERSION");
        let encoder = if json {
            Encoder::Json(JsonRequestEncoder::new(resource, "logwrap", scope_version))
        } else {
            Encoder::Protobuf(RequestEncoder::new(resource, "logwrap", scope_version))
        };
        Ok(OtlpHttpExporter {
            client: http::client(&config.tls, config.timeout.min(Duration::from_secs(10)))?,
            url,
            headers,
            compression: config.compression,
            timeout: config.timeout,
            auth: Auth {
                bearer: config.bearer_token.clone(),
                basic: None,
            },
            encoder,
        })
    }

    /// True when requests are protobuf, which [`Self::send`] frames from
    /// the encoded records directly.
    pub fn is_protobuf(&self) -> bool {
        matches!(self.encoder, Encoder::Protobuf(_))
    }

    /// Sends a batch of encoded records (protobuf: framed as they are).
    pub async fn send(&self, batch: &crate::batch::Batch) -> Result<Accepted, ExportError> {
        match &self.encoder {
            Encoder::Protobuf(e) => {
                // The request's header, then the chunks as they are.
                let mut header = Vec::new();
                e.header(batch.bytes, &mut header);
                let mut parts = Vec::with_capacity(batch.chunks.len() + 1);
                parts.push(header.into());
                parts.extend(batch.chunks.iter().map(|c| c.bytes.clone()));
                self.post(self.compression.body_of(parts)).await
            }
            Encoder::Json(e) => {
                let mut body = Vec::with_capacity(batch.bytes * 5 / 2);
                e.frame(batch.slices(), &mut body)
                    .map_err(|e| ExportError::Permanent {
                        reason: format!("the batch's encoded records cannot be read back: {e}"),
                    })?;
                self.post(self.compression.compress(body).into()).await
            }
        }
    }

    /// Sends records.
    pub async fn export(&self, records: &[Record]) -> Result<Accepted, ExportError> {
        let mut body = Vec::new();
        match &self.encoder {
            Encoder::Protobuf(e) => e.encode(records, &mut body),
            Encoder::Json(e) => {
                body.reserve(records.len() * 400);
                e.encode(records, &mut body)
            }
        }
        self.post(self.compression.compress(body).into()).await
    }

    async fn post(&self, body: reqwest::Body) -> Result<Accepted, ExportError> {
        let request = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .timeout(self.timeout)
            .body(body);
        let answer = http::send(request, &self.auth).await?;
        let (body, kind) = (&answer.body, answer.content_type.as_str());
        match classify_http(
            answer.status,
            answer.retry_after.as_deref(),
            SystemTime::now(),
        ) {
            Disposition::Success => Ok(partial_success(body, kind)),
            failed => Err(answer.error(failed, &error_text(body, kind))),
        }
    }
}

/// Extra headers; values are marked sensitive so they never show in debug output.
pub fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        let name =
            HeaderName::from_bytes(k.as_bytes()).map_err(|_| format!("bad header name {k:?}"))?;
        let mut value =
            HeaderValue::from_str(v).map_err(|_| format!("bad value for header {k:?}"))?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

/// Reads `partial_success` from a 2xx body; an empty or unreadable body is
/// plain success (some proxies answer 200 with HTML).
fn partial_success(body: &[u8], content_type: &str) -> Accepted {
    let response = if content_type.starts_with("application/x-protobuf") {
        ExportLogsServiceResponse::decode(body).ok()
    } else if content_type.starts_with("application/json") {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .map(|v| {
                let p = &v["partialSuccess"];
                let rejected = match &p["rejectedLogRecords"] {
                    serde_json::Value::String(s) => s.parse().unwrap_or(0),
                    n => n.as_i64().unwrap_or(0),
                };
                let error_message = p["errorMessage"].as_str().unwrap_or("").to_string();
                ExportLogsServiceResponse {
                    partial_success: Some(
                        opentelemetry_proto::tonic::collector::logs::v1::ExportLogsPartialSuccess {
                            rejected_log_records: rejected,
                            error_message,
                        },
                    ),
                }
            })
    } else {
        None
    };
    accepted_from(response)
}

/// What a decoded `ExportLogsServiceResponse` says.
pub fn accepted_from(response: Option<ExportLogsServiceResponse>) -> Accepted {
    match response.and_then(|r| r.partial_success) {
        Some(p) if p.rejected_log_records > 0 || !p.error_message.is_empty() => Accepted {
            rejected: p.rejected_log_records.max(0) as u64,
            message: (!p.error_message.is_empty()).then_some(p.error_message),
        },
        _ => Accepted::default(),
    }
}

/// The message of a `google.rpc.Status` body (protobuf or JSON), else the text.
fn error_text(body: &[u8], content_type: &str) -> String {
    if content_type.starts_with("application/x-protobuf")
        && let Ok(status) = RpcStatus::decode(body)
        && !status.message.is_empty()
    {
        return status.message;
    }
    if content_type.starts_with("application/json")
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(message) = v["message"].as_str()
    {
        return message.to_string();
    }
    String::from_utf8_lossy(body).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsPartialSuccess;

    #[test]
    fn partial_success_is_read_from_protobuf_and_json_bodies() {
        let body = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 3,
                error_message: "too old".into(),
            }),
        }
        .encode_to_vec();
        let accepted = partial_success(&body, "application/x-protobuf");
        assert_eq!(
            (accepted.rejected, accepted.message.as_deref()),
            (3, Some("too old"))
        );
        let json = br#"{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"dup"}}"#;
        let accepted = partial_success(json, "application/json");
        assert_eq!(
            (accepted.rejected, accepted.message.as_deref()),
            (2, Some("dup"))
        );
        assert_eq!(
            partial_success(b"", "application/x-protobuf"),
            Accepted::default()
        );
        assert_eq!(
            partial_success(b"<html>ok</html>", "text/html"),
            Accepted::default()
        );
    }

    #[test]
    fn error_bodies_give_their_message() {
        let status = RpcStatus {
            code: 3,
            message: "bad field".into(),
        }
        .encode_to_vec();
        assert_eq!(error_text(&status, "application/x-protobuf"), "bad field");
        assert_eq!(
            error_text(br#"{"code":3,"message":"bad json"}"#, "application/json"),
            "bad json"
        );
        assert_eq!(
            error_text(b"upstream connect error", "text/plain"),
            "upstream connect error"
        );
    }
}
