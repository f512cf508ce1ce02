//! What the HTTP destinations (OTLP/HTTP, Loki, NDJSON) share: the client,
//! body compression, authentication headers, reading and quoting answers.
//!
//! Redirects are never followed (issue 13). A 3xx is a permanent error,
//! logged with its `Location` (secrets masked). Following one would carry
//! the body, the custom headers (`--otlp-header api-key=…`, `X-Scope-OrgID`)
//! and a `Referer` with the original URL to whatever origin the server
//! names, https → http included, and count the records as sent wherever
//! they landed. The OTLP exporters of the OpenTelemetry SDKs do not follow
//! them either; a collector behind a redirect is configured with its final
//! URL.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, HeaderValue};

use super::ExportError;
use super::secret::{Secret, mask_url};
use super::tls::{self, TlsOptions};

/// Timeout of Loki and plain-HTTP requests (the OTLP default, for symmetry).
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Request body compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The `Content-Encoding` header value.
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
        }
    }

    /// Compresses a request body. Fast levels: logs compress 5-10x even
    /// there, and CPU is what a sidecar is short of.
    pub fn compress(self, body: Vec<u8>) -> Vec<u8> {
        self.compressed(&[&body]).unwrap_or(body)
    }

    /// A request body of `parts` in order. Uncompressed, the parts go to
    /// the socket as they are: a batch's encoded chunks are not joined into
    /// a buffer the size of the request first. (In perf that copy was a
    /// tenth to a sixth of logwrap's CPU samples; without it the kernel's copy of the
    /// same bytes grew by about as much, so the gain is the buffer, not CPU.)
    /// Compressed, they are fed to the encoder one after the other.
    pub fn body_of(self, mut parts: Vec<Bytes>) -> reqwest::Body {
        let slices: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
        if let Some(compressed) = self.compressed(&slices) {
            return compressed.into();
        }
        match parts.len() {
            0 => reqwest::Body::from(Bytes::new()),
            1 => parts.pop().expect("one part").into(),
            _ => reqwest::Body::wrap(Parts::new(parts)),
        }
    }

    /// `None` when uncompressed.
    fn compressed(self, parts: &[&[u8]]) -> Option<Vec<u8>> {
        const WRITE: &str = "writing to a Vec cannot fail";
        let len: usize = parts.iter().map(|p| p.len()).sum();
        match self {
            Compression::None => None,
            Compression::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(len / 4),
                    flate2::Compression::fast(),
                );
                for part in parts {
                    enc.write_all(part).expect(WRITE);
                }
                Some(enc.finish().expect(WRITE))
            }
            Compression::Zstd => {
                let mut enc = zstd::stream::write::Encoder::new(Vec::with_capacity(len / 4), 1)
                    .expect("zstd's level 1 exists");
                // The size up front lets zstd write it in the frame header
                // and size its window, as the one-shot API did.
                enc.set_pledged_src_size(Some(len as u64)).expect(WRITE);
                for part in parts {
                    enc.write_all(part).expect(WRITE);
                }
                Some(enc.finish().expect(WRITE))
            }
        }
    }
}

/// A body sent as a list of byte strings, one body frame each, with its
/// exact length known (so HTTP/1.1 sends a `Content-Length`, not chunks).
/// Hyper writes the frames with vectored writes where the socket takes
/// them, so the bytes are copied only into the kernel.
pub struct Parts {
    parts: std::collections::VecDeque<Bytes>,
    remaining: u64,
}

impl Parts {
    pub fn new(parts: Vec<Bytes>) -> Self {
        let remaining = parts.iter().map(|p| p.len() as u64).sum();
        Parts {
            parts: parts.into(),
            remaining,
        }
    }
}

impl http_body::Body for Parts {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let part = self.parts.pop_front();
        if let Some(part) = &part {
            self.remaining -= part.len() as u64;
        }
        std::task::Poll::Ready(part.map(|p| Ok(http_body::Frame::data(p))))
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

/// An HTTP client with logwrap's TLS rules (see `tls`).
pub fn client(
    tls_options: &TlsOptions,
    connect_timeout: Duration,
) -> Result<reqwest::Client, String> {
    let tls = tls::client_config(tls_options, &[b"h2", b"http/1.1"]).map_err(|e| e.to_string())?;
    reqwest::Client::builder()
        .user_agent(concat!("logwrap/", env!("CARGO_PKG_VERSION")))
        .tls_backend_preconfigured(tls)
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        // See the module docs: a redirect is an error, never followed.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Credentials a destination sends with every request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Auth {
    /// `Authorization: Bearer <token>`.
    pub bearer: Option<Secret>,
    /// `Authorization: Basic` with this user and password.
    pub basic: Option<(String, Secret)>,
}

impl Auth {
    /// Adds the authorization header, reading file secrets anew if they changed.
    pub fn apply(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, ExportError> {
        let unreadable = |reason: String| ExportError::Retryable {
            reason,
            after: None,
        };
        if let Some(token) = &self.bearer {
            let token = token.value().map_err(unreadable)?;
            let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                ExportError::Permanent {
                    reason: "the bearer token holds characters a header cannot carry".into(),
                }
            })?;
            value.set_sensitive(true);
            return Ok(request.header(AUTHORIZATION, value));
        }
        if let Some((user, password)) = &self.basic {
            let password = password.value().map_err(unreadable)?;
            return Ok(request.basic_auth(user, Some(password)));
        }
        Ok(request)
    }
}

/// What a server answered: enough to classify it and to quote it.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    /// Where a 3xx pointed (never followed; quoted masked in the error).
    pub location: Option<String>,
    pub content_type: String,
    /// At most 64 KiB of the body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The error for an answer that is not a success: retryable (after the
    /// server's delay, if it gave one) or permanent, quoting `explanation`.
    pub fn error(&self, disposition: super::retry::Disposition, explanation: &str) -> ExportError {
        let reason = if (300..400).contains(&self.status) {
            format!(
                "HTTP {} redirect to {}; logwrap does not follow redirects (they would carry the \
                 records, headers and credentials to another address): configure the final URL",
                self.status,
                self.location
                    .as_deref()
                    .map_or_else(|| "(no Location header)".to_string(), mask_url),
            )
        } else {
            format!("HTTP {}{}", self.status, quote(explanation))
        };
        match disposition {
            super::retry::Disposition::Retry { after } => ExportError::Retryable { reason, after },
            _ => ExportError::Permanent { reason },
        }
    }

    /// The outcome by the rules for HTTP APIs other than OTLP (Loki, plain
    /// HTTP): 2xx success, 408/429/5xx retried, other 4xx permanent.
    pub fn generic_outcome(&self) -> Result<super::Accepted, ExportError> {
        use super::retry::{Disposition, classify_http_generic};
        match classify_http_generic(
            self.status,
            self.retry_after.as_deref(),
            std::time::SystemTime::now(),
        ) {
            Disposition::Success => Ok(super::Accepted::default()),
            failed => Err(self.error(failed, &String::from_utf8_lossy(&self.body))),
        }
    }
}

/// Sends a request with the destination's credentials and reads the answer;
/// a transport failure (refused, DNS, TLS, timeout) is a retryable error.
pub async fn send(request: reqwest::RequestBuilder, auth: &Auth) -> Result<Answer, ExportError> {
    let response = auth.apply(request)?.send().await.map_err(transport_error)?;
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header(reqwest::header::RETRY_AFTER);
    let location = header(reqwest::header::LOCATION);
    let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
    Ok(Answer {
        status: response.status().as_u16(),
        retry_after,
        location,
        content_type,
        body: read_limited(response).await,
    })
}

/// How much of an answer body is read and quoted.
const MAX_ANSWER_BODY: usize = 64 * 1024;
const MAX_QUOTED: usize = 300;

/// Reads at most 64 KiB of an answer: a misbehaving server cannot make
/// logwrap hold an unbounded body.
pub async fn read_limited(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ANSWER_BODY {
            body.truncate(MAX_ANSWER_BODY);
            break;
        }
    }
    body
}

/// A transport failure (refused, DNS, TLS, timeout): always worth a retry.
pub fn transport_error(e: reqwest::Error) -> ExportError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // The error chain says why (refused, DNS, TLS). reqwest's own text
    // quotes the URL whole, query string and userinfo included, so it is
    // dropped and the URL put back masked.
    let url = e.url().map(|u| mask_url(u.as_str()));
    let e = e.without_url();
    let mut reason = match url {
        Some(url) => format!("{kind}: {url}: {e}"),
        None => format!("{kind}: {e}"),
    };
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

/// `: "<text>"` for an answer body, cut to a few hundred characters, or nothing.
pub fn quote(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let cut: String = text.chars().take(MAX_QUOTED).collect();
    let more = if cut.len() < text.len() { "…" } else { "" };
    format!(": {cut:?}{more}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_round_trips() {
        let data = b"hello hello hello".repeat(100);
        let gz = Compression::Gzip.compress(data.clone());
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out).unwrap();
        assert_eq!(out, data);
        let zs = Compression::Zstd.compress(data.clone());
        assert_eq!(zstd::bulk::decompress(&zs, 1 << 20).unwrap(), data);
        assert!(zs.len() < data.len() / 5);
        assert_eq!(Compression::None.compress(data.clone()), data);
    }

    #[tokio::test]
    async fn a_body_of_parts_is_their_concatenation_with_its_length_known() {
        use http_body::Body as _;
        use http_body_util::BodyExt;
        let parts: Vec<Bytes> = ["header|", "chunk one|", "", "chunk two"]
            .iter()
            .map(|p| Bytes::from(p.repeat(50)))
            .collect();
        let whole: Vec<u8> = parts.concat();
        for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let body = compression.body_of(parts.clone());
            let length = body.size_hint().exact();
            let sent = body.collect().await.unwrap().to_bytes();
            assert_eq!(length, Some(sent.len() as u64), "{compression:?}");
            let received = match compression {
                Compression::None => sent.to_vec(),
                Compression::Gzip => {
                    let mut out = Vec::new();
                    std::io::Read::read_to_end(
                        &mut flate2::read::GzDecoder::new(&sent[..]),
                        &mut out,
                    )
                    .unwrap();
                    out
                }
                Compression::Zstd => zstd::bulk::decompress(&sent, 1 << 20).unwrap(),
            };
            assert_eq!(received, whole, "{compression:?}");
        }
    }

    #[test]
    fn quotes_are_cut() {
        assert_eq!(quote("  "), "");
        assert_eq!(quote("bad field"), ": \"bad field\"");
        assert!(quote(&"x".repeat(1000)).ends_with('…'));
    }
}
