//! Loki destination settings: where, how encoded, which labels; and the
//! names Loki accepts.

use std::time::Duration;

use crate::export::http::{Auth, Compression};
use crate::export::tls::TlsOptions;

/// Loki's default `max_label_names_per_series` (15 in Loki 3).
pub const MAX_LOKI_LABELS: usize = 15;

/// How pushes are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LokiEncoding {
    /// push.proto, snappy-compressed (what Promtail and Alloy send).
    #[default]
    Protobuf,
    /// The JSON push format, optionally gzip-compressed.
    Json,
}

/// Where a label's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelValue {
    Static(String),
    /// An attribute of the record or resource; `severity` is the severity
    /// text. Records without it get no such label.
    Attribute(String),
}

/// One `--loki-label`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LokiLabel {
    pub name: String,
    pub value: LabelValue,
}

/// Loki destination settings.
#[derive(Clone, PartialEq)]
pub struct LokiConfig {
    /// The push URL (`<base>/loki/api/v1/push`).
    pub url: String,
    pub encoding: LokiEncoding,
    /// Compression of JSON bodies (protobuf is always snappy).
    pub compression: Compression,
    /// `X-Scope-OrgID`.
    pub tenant: Option<String>,
    pub auth: Auth,
    pub labels: Vec<LokiLabel>,
    /// Send structured metadata. Default on.
    pub structured_metadata: bool,
    /// Without structured metadata, send the severity as a `level` label
    /// (trace, debug, info, warn, error or fatal). Default on.
    pub level_label: bool,
    pub timeout: Duration,
    pub tls: TlsOptions,
}

/// The URL masked (a token may ride in its query string or userinfo).
impl std::fmt::Debug for LokiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LokiConfig")
            .field("url", &crate::export::secret::mask_url(&self.url))
            .field("encoding", &self.encoding)
            .field("compression", &self.compression)
            .field("tenant", &self.tenant)
            .field("auth", &self.auth)
            .field("labels", &self.labels)
            .field("structured_metadata", &self.structured_metadata)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

/// The push URL for a Loki base URL (`http://loki:3100` → `.../loki/api/v1/push`);
/// a URL already ending in the push path is used as is.
pub fn push_url(base: &str) -> Result<String, String> {
    let mut url = reqwest::Url::parse(base.trim())
        .map_err(|e| format!("is not a URL ({e}); use e.g. http://loki:3100"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "has scheme {:?}; use http:// or https://",
            url.scheme()
        ));
    }
    if !url.path().ends_with("/loki/api/v1/push") {
        let path = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{path}/loki/api/v1/push"));
    }
    Ok(url.to_string())
}

/// A Loki label name: `[a-zA-Z_][a-zA-Z0-9_]*`, other characters as `_`.
pub fn label_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}
