//! OTLP/gRPC: the `LogsService/Export` unary call over HTTP/2, via tonic.
//!
//! ```text
//!  Batch (encoded records) ──RequestEncoder::header + the chunks──► RawCodec (one copy) ──► tonic (gzip?) ──► Export ──► response | Status
//! ```
//!
//! The request body is our own protobuf encoding (see `otlp_proto`), so the
//! codec passes bytes through instead of encoding prost structs; the response
//! is decoded with `opentelemetry-proto`'s type. TLS and ALPN `h2` come from
//! our rustls configuration through a hyper-rustls connector, the same rules
//! as the HTTP exporters. Statuses are classified by `retry::classify_grpc`;
//! a `RetryInfo` in the status details gives the delay.

use std::time::Duration;

use bytes::{Buf, BufMut};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic_types::StatusExt;

use super::otlp_http::accepted_from;
use super::otlp_proto::RequestEncoder;
use super::retry::{Disposition, classify_grpc};
use super::secret::{Secret, mask_url};
use super::{Accepted, ExportError, tls};
use crate::export::otlp::OtlpConfig;
use crate::record::{Str, Value};

const EXPORT_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

pub struct OtlpGrpcExporter {
    client: tonic::client::Grpc<Channel>,
    metadata: MetadataMap,
    bearer: Option<Secret>,
    timeout: Duration,
    encoder: RequestEncoder,
    /// The endpoint as it may be printed (masked).
    endpoint: String,
}

impl OtlpGrpcExporter {
    pub fn new(config: &OtlpConfig, resource: &[(Str, Value)]) -> Result<Self, String> {
        let channel = channel(config)?;
        let mut client = tonic::client::Grpc::new(channel)
            // Answers are small; a server sending megabytes is misbehaving.
            .max_decoding_message_size(4 << 20);
        if config.compression == super::http::Compression::Gzip {
            client = client.send_compressed(tonic::codec::CompressionEncoding::Gzip);
        }
        let mut metadata = MetadataMap::new();
        for (k, v) in &config.headers {
            let key = MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
                .map_err(|_| format!("{k:?} cannot be a gRPC metadata key"))?;
            let value = MetadataValue::try_from(v.as_str())
                .map_err(|_| format!("the value of {k:?} cannot be gRPC metadata"))?;
            metadata.insert(key, value);
        }
        Ok(OtlpGrpcExporter {
            client,
            metadata,
            bearer: config.bearer_token.clone(),
            timeout: config.timeout,
            encoder: RequestEncoder::new(resource, "logwrap", env!("CARGO_PKG_VERSION")),
            endpoint: mask_url(&config.url),
        })
    }

    /// Sends a batch: its encoded records framed as they are.
    pub async fn send(&self, batch: &crate::batch::Batch) -> Result<Accepted, ExportError> {
        let mut head = Vec::new();
        self.encoder.header(batch.bytes, &mut head);
        let body = RequestBody {
            head,
            chunks: batch.chunks.iter().map(|c| c.bytes.clone()).collect(),
        };
        let mut request = tonic::Request::new(body);
        request.set_timeout(self.timeout);
        *request.metadata_mut() = self.metadata.clone();
        if let Some(token) = &self.bearer {
            let token = token.value().map_err(|reason| ExportError::Retryable {
                reason,
                after: None,
            })?;
            let value = MetadataValue::try_from(format!("Bearer {token}")).map_err(|_| {
                ExportError::Permanent {
                    reason: "the bearer token holds characters gRPC metadata cannot carry".into(),
                }
            })?;
            request.metadata_mut().insert("authorization", value);
        }
        // A clone per call: cheap (the channel is shared) and lets several
        // calls be in flight.
        let mut client = self.client.clone();
        client.ready().await.map_err(|e| ExportError::Retryable {
            reason: format!("cannot connect to {}: {e}", self.endpoint),
            after: None,
        })?;
        let path = tonic::codegen::http::uri::PathAndQuery::from_static(EXPORT_PATH);
        match client.unary(request, path, RawCodec).await {
            Ok(response) => Ok(accepted_from(Some(response.into_inner()))),
            Err(status) => Err(status_error(&status)),
        }
    }
}

/// A lazily connecting channel to the collector: our rustls configuration
/// (roots, mTLS), TCP_NODELAY, the configured timeouts. Shared with the run's
/// span exporter (`trace`).
pub fn channel(config: &OtlpConfig) -> Result<Channel, String> {
    let endpoint = Endpoint::from_shared(config.url.clone())
        .map_err(|e| format!("bad gRPC endpoint {}: {e}", mask_url(&config.url)))?
        .connect_timeout(config.timeout.min(Duration::from_secs(10)))
        .timeout(config.timeout);
    // hyper-rustls sets ALPN itself (h2, from enable_http2) and insists on an empty list.
    let tls = tls::client_config(&config.tls, &[]).map_err(|e| e.to_string())?;
    // TCP_NODELAY: without it Nagle's algorithm holds back the tail of
    // each request until the peer's delayed ACK, a few ms per call.
    let mut tcp = hyper_util::client::legacy::connect::HttpConnector::new();
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http2()
        .wrap_connector(tcp);
    Ok(endpoint.connect_with_connector_lazy(connector))
}

fn status_error(status: &Status) -> ExportError {
    let retry_delay = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay);
    let mut reason = format!("gRPC {:?}", status.code());
    if !status.message().is_empty() {
        reason.push_str(&format!(
            ": {:?}",
            status.message().chars().take(300).collect::<String>()
        ));
    }
    // A connection failure surfaces as UNAVAILABLE (or UNKNOWN: "transport
    // error") with the transport error as the source; name it, whole chain.
    let mut chain = String::new();
    let mut source = std::error::Error::source(status);
    while let Some(s) = source {
        if !chain.is_empty() {
            chain.push_str(": ");
        }
        chain.push_str(&s.to_string());
        source = s.source();
    }
    if !chain.is_empty() {
        reason.push_str(&format!(" ({chain})"));
    }
    let said = format!("{} {chain}", status.message()).to_ascii_lowercase();
    if speaks_no_grpc(&said) {
        reason.push_str(NOT_GRPC_HINT);
    } else if closed_at_once(&said) {
        reason.push_str(CLOSED_HINT);
    }
    match classify_grpc(status.code(), retry_delay) {
        Disposition::Retry { after } => ExportError::Retryable { reason, after },
        _ => ExportError::Permanent { reason },
    }
}

/// What to check when the endpoint answered, but not as a gRPC server: the
/// usual causes are the OTLP/HTTP port (or another service) given for gRPC,
/// and `http://` to a server that speaks TLS (issue 13).
const NOT_GRPC_HINT: &str = "; the endpoint is not a gRPC server (HTTP/2): check the port \
     (OTLP/gRPC is usually 4317, OTLP/HTTP 4318) and that http:// or https:// matches \
     whether the server uses TLS";

/// When the server hung up on the HTTP/2 connection itself: a TLS server
/// that got plaintext typically does that, as can a server that is going
/// down, hence the softer wording.
const CLOSED_HINT: &str = "; the server closed the connection: if every call fails like this, \
     the endpoint is likely not a gRPC server (OTLP/gRPC is usually port 4317) or expects TLS \
     (https://)";

/// Whether a transport error says the peer's bytes were not HTTP/2: h2's
/// protocol errors (a frame it cannot parse, such as an HTTP/1.1 answer or
/// a TLS record read as a frame) and hyper's "not HTTP/2" errors. `said`
/// is lowercase.
fn speaks_no_grpc(said: &str) -> bool {
    [
        "h2 protocol error",
        "frame with invalid size",
        "invalid http version",
        "http2 error",
    ]
    .iter()
    .any(|s| said.contains(s))
}

/// Whether the HTTP/2 connection itself was closed or reset by the server.
fn closed_at_once(said: &str) -> bool {
    said.contains("connection error")
        && (said.contains("broken pipe") || said.contains("reset") || said.contains("eof"))
}

/// A request as the codec writes it: our header, then the chunks as they
/// are. tonic copies the message into its own buffer; handing it the chunks
/// (not a request framed into a Vec first) makes that the only copy.
struct RequestBody {
    head: Vec<u8>,
    chunks: Vec<bytes::Bytes>,
}

/// Sends pre-encoded protobuf bytes; decodes the response with prost.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = RequestBody;
    type Decode = ExportLogsServiceResponse;
    type Encoder = RawEncoder;
    type Decoder = ResponseDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        RawEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        ResponseDecoder
    }
}

struct RawEncoder;

impl Encoder for RawEncoder {
    type Item = RequestBody;
    type Error = Status;

    fn encode(&mut self, item: RequestBody, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.reserve(item.head.len() + item.chunks.iter().map(|c| c.len()).sum::<usize>());
        dst.put_slice(&item.head);
        for chunk in &item.chunks {
            dst.put_slice(chunk);
        }
        Ok(())
    }
}

struct ResponseDecoder;

impl Decoder for ResponseDecoder {
    type Item = ExportLogsServiceResponse;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        ExportLogsServiceResponse::decode(bytes)
            .map(Some)
            .map_err(|e| {
                Status::internal(format!(
                    "the server's answer is not an ExportLogsServiceResponse: {e}"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn statuses_become_retryable_or_permanent_with_their_message() {
        let e = status_error(&Status::unavailable("try later"));
        assert!(matches!(e, ExportError::Retryable { after: None, .. }));
        assert!(e.to_string().contains("try later"));
        let e = status_error(&Status::invalid_argument("bad record"));
        assert!(matches!(e, ExportError::Permanent { .. }));
        let e = status_error(&Status::resource_exhausted("slow down"));
        assert!(
            matches!(e, ExportError::Permanent { .. }),
            "without RetryInfo"
        );
        let with_info = Status::with_error_details(
            Code::ResourceExhausted,
            "slow down",
            tonic_types::ErrorDetails::with_retry_info(Some(Duration::from_secs(3))),
        );
        let e = status_error(&with_info);
        assert!(
            matches!(e, ExportError::Retryable { after: Some(d), .. } if d == Duration::from_secs(3)),
            "{e:?}"
        );
    }
}
