//! OTLP destination settings, shared by the HTTP (protobuf, JSON) and gRPC
//! exporters, with the spec's defaults. `config` composes them from flags
//! and the `OTEL_EXPORTER_OTLP_*` variables.

use std::fmt;
use std::time::Duration;

use super::http::Compression;
use super::secret::{Secret, mask_url};
use super::tls::TlsOptions;

/// The OTLP spec's default per-request timeout (10 s).
pub const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_OTLP_HTTP_ENDPOINT: &str = "http://localhost:4318";

pub const DEFAULT_OTLP_GRPC_ENDPOINT: &str = "http://localhost:4317";
/// How OTLP travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpProtocol {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

impl OtlpProtocol {
    /// The protocol an OTLP variable or flag names (`grpc`,
    /// `http/protobuf`, `http/json`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "grpc" => Some(OtlpProtocol::Grpc),
            "http/protobuf" => Some(OtlpProtocol::HttpProtobuf),
            "http/json" => Some(OtlpProtocol::HttpJson),
            _ => None,
        }
    }
}

/// OTLP settings.
#[derive(Clone, PartialEq)]
pub struct OtlpConfig {
    pub protocol: OtlpProtocol,
    /// HTTP: the full URL requests go to (ending in `/v1/logs` where the rules
    /// say so). gRPC: `scheme://host:port`.
    pub url: String,
    /// Extra headers (gRPC metadata); values may be secrets and are never logged.
    pub headers: Vec<(String, String)>,
    pub compression: Compression,
    pub timeout: Duration,
    pub tls: TlsOptions,
    pub bearer_token: Option<Secret>,
}

impl fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpConfig")
            .field("protocol", &self.protocol)
            .field("url", &mask_url(&self.url))
            .field("headers", &header_names)
            .field("compression", &self.compression)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls)
            .field("bearer_token", &self.bearer_token)
            .finish()
    }
}
