//! Line-oriented JSON destinations: a plain HTTP endpoint and a file.
//!
//! Each record is one JSON object per line (the console's shape, see `json`)
//! with the resource added under `"resource"`, so a receiver that knows
//! nothing of OpenTelemetry still sees `service.name` and the host. That is
//! what Vector's `http_server` source (decoding `ndjson`), Fluent Bit's `http`
//! input and Elasticsearch-style bulk-less endpoints accept.
//!
//! HTTP: one POST per batch, `Content-Type: application/x-ndjson`, optional
//! gzip/zstd, extra headers and a bearer token; 2xx is success, 408/429/5xx
//! are retried, other 4xx dropped with the server's answer logged.
//!
//! File: appended per batch with `O_APPEND`; if the file is moved or deleted
//! (log rotation), the next batch reopens the path.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue};

use super::http::{self, Auth, Compression};
use super::tls::TlsOptions;
use super::{Accepted, ExportError, json};
use crate::record::{Record, Str, Value};

/// Plain HTTP destination settings.
#[derive(Clone, PartialEq)]
pub struct HttpConfig {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub compression: Compression,
    pub auth: Auth,
    pub timeout: Duration,
    pub tls: TlsOptions,
}

/// Header values may be secrets: only their names are shown.
impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("HttpConfig")
            .field("url", &super::secret::mask_url(&self.url))
            .field("headers", &header_names)
            .field("compression", &self.compression)
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Renders a batch: one object per line, each with the resource.
struct Lines {
    resource_json: Vec<u8>,
}

impl Lines {
    fn new(resource: &[(Str, Value)]) -> Self {
        let mut resource_json = Vec::new();
        json::write_attributes(&mut resource_json, resource);
        Lines { resource_json }
    }

    fn render(&self, records: &[Record], out: &mut Vec<u8>) {
        for r in records {
            json::write_record(out, r);
            // Splice `,"resource":{...}` in before the closing brace.
            out.pop();
            out.extend_from_slice(b",\"resource\":");
            out.extend_from_slice(&self.resource_json);
            out.extend_from_slice(b"}\n");
        }
    }
}

pub struct HttpExporter {
    client: reqwest::Client,
    config: HttpConfig,
    headers: HeaderMap,
    lines: Lines,
}

impl HttpExporter {
    pub fn new(config: HttpConfig, resource: &[(Str, Value)]) -> Result<Self, String> {
        let mut headers = super::otlp_http::header_map(&config.headers)?;
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        if let Some(encoding) = config.compression.content_encoding() {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        Ok(HttpExporter {
            client: http::client(&config.tls, config.timeout.min(Duration::from_secs(10)))?,
            headers,
            lines: Lines::new(resource),
            config,
        })
    }

    pub async fn export(&self, records: &[Record]) -> Result<Accepted, ExportError> {
        let mut body = Vec::with_capacity(records.len() * 300);
        self.lines.render(records, &mut body);
        let request = self
            .client
            .post(&self.config.url)
            .headers(self.headers.clone())
            .timeout(self.config.timeout)
            .body(self.config.compression.compress(body));
        http::send(request, &self.config.auth)
            .await?
            .generic_outcome()
    }
}

pub struct FileExporter {
    path: PathBuf,
    lines: Lines,
    /// The open file and its inode (to notice rotation).
    file: tokio::sync::Mutex<Option<(std::fs::File, u64)>>,
}

impl FileExporter {
    pub fn new(path: PathBuf, resource: &[(Str, Value)]) -> Self {
        FileExporter {
            path,
            lines: Lines::new(resource),
            file: tokio::sync::Mutex::new(None),
        }
    }

    /// Appends the records as one write; a write that fails part-way (a
    /// full disk) is cut back to where it started, so a retry never
    /// duplicates records or glues two onto one line.
    pub async fn export(&self, records: &[Record]) -> Result<Accepted, ExportError> {
        let mut buf = Vec::with_capacity(records.len() * 300);
        self.lines.render(records, &mut buf);
        let mut slot = self.file.lock().await;
        // One write per batch of a few hundred KiB: short enough to do here.
        let file = open(&self.path, &mut slot)?;
        let start = file.metadata().map(|m| m.len());
        let written = file.write_all(&buf);
        if let Err(e) = written {
            let cut = start.and_then(|len| file.set_len(len));
            *slot = None;
            let reason = match cut {
                Ok(()) => format!("cannot write to {}: {e}", self.path.display()),
                Err(cut) => format!(
                    "cannot write to {}: {e}; cutting the partial write back failed too ({cut}), so the file may hold a torn line",
                    self.path.display()
                ),
            };
            return Err(ExportError::Retryable {
                reason,
                after: None,
            });
        }
        Ok(Accepted::default())
    }
}

/// The open file, reopened when the path now names another file (rotated).
fn open<'f>(
    path: &PathBuf,
    slot: &'f mut Option<(std::fs::File, u64)>,
) -> Result<&'f mut std::fs::File, ExportError> {
    let current = std::fs::metadata(path).ok().map(|m| m.ino());
    let stale = match (&*slot, current) {
        (Some((_, ino)), Some(now)) => *ino != now,
        _ => true,
    };
    if stale {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| ExportError::Retryable {
                reason: format!("cannot open {}: {e}", path.display()),
                after: None,
            })?;
        let ino = file.metadata().map(|m| m.ino()).unwrap_or(0);
        *slot = Some((file, ino));
    }
    Ok(&mut slot.as_mut().expect("opened above").0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Stream;

    #[test]
    fn each_line_is_a_record_with_its_resource() {
        let lines = Lines::new(&[(Str::from("service.name"), Value::Str(Str::from("api")))]);
        let records = vec![
            Record::new(Stream::Stdout, 1, Value::Str(Str::from("one"))),
            Record::new(Stream::Stderr, 2, Value::Str(Str::from("two"))),
        ];
        let mut out = Vec::new();
        lines.render(&records, &mut out);
        let parsed: Vec<serde_json::Value> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1]["body"], "two");
        assert_eq!(parsed[1]["resource"]["service.name"], "api");
        assert_eq!(parsed[1]["attributes"]["log.iostream"], "stderr");
    }

    #[tokio::test]
    async fn the_file_exporter_appends_and_follows_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        let e = FileExporter::new(path.clone(), &[]);
        let r = |b: &str| Record::new(Stream::Stdout, 1, Value::Str(Str::from(b.to_string())));
        e.export(&[r("a")]).await.unwrap();
        std::fs::rename(&path, dir.path().join("out.ndjson.1")).unwrap();
        e.export(&[r("b")]).await.unwrap();
        let now = std::fs::read_to_string(&path).unwrap();
        assert!(now.contains("\"b\"") && !now.contains("\"a\""), "{now}");
        let rotated = std::fs::read_to_string(dir.path().join("out.ndjson.1")).unwrap();
        assert!(rotated.contains("\"a\""));
    }
}
