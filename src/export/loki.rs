//! Grafana Loki: `POST /loki/api/v1/push`, protobuf + snappy (default) or JSON.
//!
//! ```text
//!  &[Record] ──group by label set──► streams, entries in time order ──► PushRequest ──snappy──► POST
//!                                                                      └─ or {"streams":[...]} (JSON, gzip?)
//! ```
//!
//! Labels are few and bounded: `service_name` (the resource's `service.name`)
//! and what the user names with `--loki-label`, static values or the value of
//! an attribute. Never trace ids, pids or other unbounded values: Loki indexes
//! every label combination as a stream. Everything else travels as
//! structured metadata on each entry (Loki 2.9+): `level` (the severity text),
//! `severity_number`, `trace_id`, `span_id`, the record's attributes and the
//! other resource attributes, names with dots turned into underscores as
//! Loki's own OTLP endpoint does. Names never collide (issue 13): logwrap's
//! own names (the fields above, the stream labels, the resource attributes)
//! win, and a record attribute whose name is taken, by them or by an
//! earlier attribute (`a.b` and `a_b` both become `a_b`), keeps its value
//! under the first free name of `NAME_2`, `NAME_3`, …: a child's
//! `{"trace_id":"x"}` arrives as `trace_id_2`, never as the trace id
//! Grafana would link to a trace. When a server answers 400 because structured
//! metadata is disallowed (Loki 2.9 with `allow_structured_metadata: false`,
//! or older), logwrap warns once and resends the batch without it, and keeps
//! it off for the rest of the run.
//!
//! Entries of one stream go out in time order, with strictly increasing
//! timestamps across the run: Loki silently drops an entry whose timestamp and
//! line equal another's, and lines read at the same moment share a time.
//! A body that is not text (a byte array) is sent as lossy UTF-8, since a Loki
//! line is a string.
//!
//! Answers: 2xx is success; 429 and 5xx are retried; other 4xx (too old, too
//! long, bad labels, auth) are permanent, dropped with Loki's reason logged.
//!
//! The push.proto field numbers (grafana/loki `pkg/push/push.proto`):
//! PushRequest { streams = 1 }, StreamAdapter { labels = 1, entries = 2 },
//! EntryAdapter { timestamp = 1 (google.protobuf.Timestamp), line = 2,
//! structuredMetadata = 3 }, LabelPairAdapter { name = 1, value = 2 },
//! Timestamp { seconds = 1, nanos = 2 }.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};

use super::http::{self, Auth, Compression};
use super::tls::TlsOptions;
use super::{Accepted, ExportError, json};
use crate::encode::wire::{
    LEN, VARINT, field_len, put_bytes_field, put_len_field, put_varint, tag, varint_len,
};
use crate::record::{Record, Str, Value};

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
            .field("url", &super::secret::mask_url(&self.url))
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

/// Structured metadata names logwrap writes itself; reserved whether or
/// not a record has the field, so a child's attribute can never pass for
/// one of them (see the module docs).
const OWN_METADATA: &[&str] = &[
    "level",
    "severity_number",
    "log_iostream",
    "event_name",
    "trace_id",
    "span_id",
    "logwrap_split_id",
    "logwrap_split_index",
    "logwrap_split_last",
    "observed_timestamp",
];

/// `base`, or the first of `base_2`, `base_3`, … that is not `taken`.
fn free_name(base: String, taken: impl Fn(&str) -> bool) -> String {
    if !taken(&base) {
        return base;
    }
    (2u32..)
        .map(|i| format!("{base}_{i}"))
        .find(|n| !taken(n))
        .expect("some suffix is free")
}

pub struct LokiExporter {
    client: reqwest::Client,
    config: LokiConfig,
    service_name: String,
    /// Resource attributes sent as structured metadata (all but service.name),
    /// names already made unique against `reserved`.
    resource_metadata: Vec<(String, String)>,
    /// Names a record attribute may not take: logwrap's own metadata, the
    /// stream labels and the resource's metadata names.
    reserved: Vec<String>,
    resource: Vec<(Str, Value)>,
    /// Send structured metadata; turned off for good by a server that refuses it.
    structured_metadata: AtomicBool,
    /// Last timestamp sent per stream, to keep them strictly increasing.
    last_timestamp: Mutex<HashMap<String, u64>>,
}

/// One entry: its time, and where its line and metadata lie in the batch.
struct Entry {
    timestamp: u64,
    line: Range<usize>,
    /// Indexes into [`Streams::pairs`]; the resource's pairs follow them.
    pairs: Range<usize>,
}

/// Label pairs of a stream, sorted by name.
type Labels = Vec<(String, String)>;

/// One stream of a batch: its selector text, labels and entries.
struct Stream {
    selector: String,
    labels: Labels,
    entries: Vec<Entry>,
}

/// A batch grouped into streams. Every line, metadata name and value is
/// written once into `arena`, and entries point into it: building a push
/// allocates per batch, not per record or per field.
struct Streams {
    arena: Vec<u8>,
    /// Structured metadata pairs: (name, value) ranges in `arena`.
    pairs: Vec<(Range<usize>, Range<usize>)>,
    /// The resource's pairs (in `pairs`), sent with every entry.
    resource: Range<usize>,
    streams: Vec<Stream>,
}

impl Streams {
    fn text(&self, range: &Range<usize>) -> &[u8] {
        &self.arena[range.clone()]
    }

    /// An entry's metadata: its own pairs, then the resource's.
    fn metadata(&self, e: &Entry) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.pairs[e.pairs.clone()]
            .iter()
            .chain(&self.pairs[self.resource.clone()])
            .map(|(n, v)| (self.text(n), self.text(v)))
    }
}

/// Appends bytes to the arena; returns where they lie.
fn put(arena: &mut Vec<u8>, bytes: &[u8]) -> Range<usize> {
    let start = arena.len();
    arena.extend_from_slice(bytes);
    start..arena.len()
}

/// Appends a number in decimal (no formatting machinery per field).
fn put_decimal(arena: &mut Vec<u8>, mut n: u64) -> Range<usize> {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    put(arena, &digits[i..])
}

/// Appends a value as metadata text: strings as they are, the rest as JSON
/// (numbers and booleans as JSON writes them, bytes as base64).
fn put_value(arena: &mut Vec<u8>, v: &Value) -> Range<usize> {
    let start = arena.len();
    match v {
        Value::Str(s) => arena.extend_from_slice(s.as_bytes()),
        Value::Int(i) if *i >= 0 => {
            put_decimal(arena, *i as u64);
        }
        Value::Empty => {}
        Value::Bytes(b) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(b);
            arena.extend_from_slice(encoded.as_bytes());
        }
        other => arena.extend_from_slice(stringify(other).as_bytes()),
    }
    start..arena.len()
}

impl LokiExporter {
    pub fn new(config: LokiConfig, resource: &[(Str, Value)]) -> Result<Self, String> {
        let client = http::client(&config.tls, config.timeout.min(Duration::from_secs(10)))?;
        let service_name = resource
            .iter()
            .find(|(k, _)| k.as_str() == "service.name")
            .map(|(_, v)| stringify(v))
            .unwrap_or_else(|| "unknown_service".into());
        let mut reserved: Vec<String> = OWN_METADATA.iter().map(|n| n.to_string()).collect();
        reserved.push("service_name".to_string());
        reserved.extend(config.labels.iter().map(|l| l.name.clone()));
        let mut resource_metadata: Vec<(String, String)> = Vec::new();
        for (k, v) in resource
            .iter()
            .filter(|(k, _)| k.as_str() != "service.name")
        {
            let name = free_name(metadata_name(k.as_str()), |n| {
                reserved.iter().any(|r| r == n)
            });
            reserved.push(name.clone());
            resource_metadata.push((name, stringify(v)));
        }
        Ok(LokiExporter {
            client,
            reserved,
            structured_metadata: AtomicBool::new(config.structured_metadata),
            config,
            service_name,
            resource_metadata,
            resource: resource.to_vec(),
            last_timestamp: Mutex::new(HashMap::new()),
        })
    }

    pub async fn export(&self, records: &[Record]) -> Result<Accepted, ExportError> {
        let streams = self.group(records);
        match self.push(&streams).await {
            Err(ExportError::Permanent { reason })
                if self.structured_metadata.load(Ordering::Relaxed)
                    && disallows_metadata(&reason) =>
            {
                tracing::warn!(
                    destination = "loki",
                    level_label = self.config.level_label,
                    "Loki does not accept structured metadata (before 2.9, or allow_structured_metadata: false); \
                     sending lines as they were written from now on (| json and | logfmt recover their fields)"
                );
                self.structured_metadata.store(false, Ordering::Relaxed);
                // Lines and labels change without metadata: group again.
                self.push(&self.group(records)).await
            }
            other => other,
        }
    }

    async fn push(&self, streams: &Streams) -> Result<Accepted, ExportError> {
        let with_metadata = self.structured_metadata.load(Ordering::Relaxed);
        let (body, content_type, encoding) = match self.config.encoding {
            LokiEncoding::Protobuf => {
                let raw = encode_protobuf(streams, with_metadata);
                let packed = snap::raw::Encoder::new().compress_vec(&raw).map_err(|e| {
                    ExportError::Permanent {
                        reason: format!("snappy compression failed: {e}"),
                    }
                })?;
                (packed, "application/x-protobuf", None)
            }
            LokiEncoding::Json => {
                let raw = encode_json(streams, with_metadata);
                (
                    self.config.compression.compress(raw),
                    "application/json",
                    self.config.compression.content_encoding(),
                )
            }
        };
        let mut request = self
            .client
            .post(&self.config.url)
            .header(CONTENT_TYPE, content_type)
            .timeout(self.config.timeout)
            .body(body);
        if let Some(encoding) = encoding {
            request = request.header(CONTENT_ENCODING, encoding);
        }
        if let Some(tenant) = &self.config.tenant {
            let value = HeaderValue::from_str(tenant).map_err(|_| ExportError::Permanent {
                reason: "the tenant id holds characters a header cannot carry".into(),
            })?;
            request = request.header("X-Scope-OrgID", value);
        }
        http::send(request, &self.config.auth)
            .await?
            .generic_outcome()
    }

    /// Groups records by label set, entries of each stream in time order
    /// with strictly increasing timestamps.
    fn group(&self, records: &[Record]) -> Streams {
        let with_metadata = self.structured_metadata.load(Ordering::Relaxed);
        let mut b = Streams {
            arena: Vec::with_capacity(records.len() * 160),
            pairs: Vec::with_capacity(records.len() * 8),
            resource: 0..0,
            streams: Vec::new(),
        };
        if with_metadata {
            let start = b.pairs.len();
            for (n, v) in &self.resource_metadata {
                let n = put(&mut b.arena, n.as_bytes());
                let v = put(&mut b.arena, v.as_bytes());
                b.pairs.push((n, v));
            }
            b.resource = start..b.pairs.len();
        }
        // Labels that do not depend on the record: one stream for all.
        let dynamic = self
            .config
            .labels
            .iter()
            .any(|l| matches!(l.value, LabelValue::Attribute(_)))
            || (self.config.level_label && !with_metadata);
        let mut key = String::new();
        for r in records {
            let stream = if dynamic || b.streams.is_empty() {
                let labels = self.labels_of(r, with_metadata);
                key.clear();
                selector_into(&mut key, &labels);
                match b.streams.iter().position(|s| s.selector == key) {
                    Some(i) => i,
                    None => {
                        b.streams.push(Stream {
                            selector: key.clone(),
                            labels,
                            entries: Vec::new(),
                        });
                        b.streams.len() - 1
                    }
                }
            } else {
                0
            };
            let line = if !with_metadata && !r.original.is_empty() {
                // The fields travel in the line, as the program wrote it.
                put(&mut b.arena, r.original.as_bytes())
            } else {
                put_line(&mut b.arena, &r.body)
            };
            let first = b.pairs.len();
            if with_metadata {
                self.put_metadata(r, &mut b.arena, &mut b.pairs);
            }
            let entry = Entry {
                timestamp: if r.time_unix_nano != 0 {
                    r.time_unix_nano
                } else {
                    r.observed_unix_nano
                },
                line,
                pairs: first..b.pairs.len(),
            };
            b.streams[stream].entries.push(entry);
        }
        let mut last_timestamp = self
            .last_timestamp
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for stream in &mut b.streams {
            stream.entries.sort_by_key(|e| e.timestamp);
            let last = match last_timestamp.get_mut(&stream.selector) {
                Some(last) => last,
                None => last_timestamp.entry(stream.selector.clone()).or_insert(0),
            };
            for e in stream.entries.iter_mut() {
                if e.timestamp <= *last {
                    e.timestamp = *last + 1;
                }
                *last = e.timestamp;
            }
        }
        b
    }

    fn labels_of(&self, r: &Record, with_metadata: bool) -> Labels {
        let mut labels = vec![("service_name".to_string(), self.service_name.clone())];
        // Without structured metadata the severity has nowhere else to go.
        // Six values at most (the OTel severity ranges), so it multiplies
        // the streams by six at worst: the low cardinality Loki's label
        // guidance asks for. A user's own `level` label wins.
        if self.config.level_label && !with_metadata && r.severity.number.0 != 0 {
            labels.push(("level".to_string(), level_of(r.severity.number).to_string()));
        }
        for label in &self.config.labels {
            let value = match &label.value {
                LabelValue::Static(v) => Some(v.clone()),
                LabelValue::Attribute(name) if name == "severity" => (!r.severity.text.is_empty())
                    .then(|| r.severity.text.as_str().to_ascii_lowercase()),
                LabelValue::Attribute(name) if name == "log.iostream" => {
                    r.stream.iostream().map(str::to_string)
                }
                LabelValue::Attribute(name) => r
                    .attributes
                    .iter()
                    .chain(self.resource.iter())
                    .find(|(k, _)| k.as_str() == name)
                    .map(|(_, v)| stringify(v)),
            };
            if let Some(value) = value {
                labels.retain(|(n, _)| *n != label.name);
                labels.push((label.name.clone(), value));
            }
        }
        labels.sort();
        labels
    }

    /// Writes a record's own structured metadata (not the resource's) into
    /// the arena and its pairs.
    fn put_metadata(
        &self,
        r: &Record,
        arena: &mut Vec<u8>,
        pairs: &mut Vec<(Range<usize>, Range<usize>)>,
    ) {
        let mut pair = |arena: &mut Vec<u8>, name: &str, value: Range<usize>| {
            let name = put(arena, name.as_bytes());
            pairs.push((name, value));
        };
        if !r.severity.text.is_empty() {
            let v = put(arena, r.severity.text.as_bytes());
            pair(arena, "level", v);
        }
        if r.severity.number.0 != 0 {
            let v = put_decimal(arena, u64::from(r.severity.number.0));
            pair(arena, "severity_number", v);
        }
        if let Some(iostream) = r.stream.iostream() {
            let v = put(arena, iostream.as_bytes());
            pair(arena, "log_iostream", v);
        }
        if !r.event_name.is_empty() {
            let v = put(arena, r.event_name.as_bytes());
            pair(arena, "event_name", v);
        }
        if r.trace_id != [0; 16] {
            let v = put(arena, hex(&r.trace_id).as_bytes());
            pair(arena, "trace_id", v);
        }
        if r.span_id != [0; 8] {
            let v = put(arena, hex(&r.span_id).as_bytes());
            pair(arena, "span_id", v);
        }
        if let Some(s) = &r.split {
            let v = put_decimal(arena, s.id);
            pair(arena, "logwrap_split_id", v);
            let v = put_decimal(arena, u64::from(s.index));
            pair(arena, "logwrap_split_index", v);
            let v = put(arena, if s.last { b"true" } else { b"false" });
            pair(arena, "logwrap_split_last", v);
        }
        if r.time_unix_nano != 0 {
            let v = put_decimal(arena, r.observed_unix_nano);
            pair(arena, "observed_timestamp", v);
        }
        // The record's attributes, then (when encoded) the resource's, in
        // that order on the wire: the order changes how well snappy
        // compresses a push (measured at 3% of the bytes).
        let own = pairs.len();
        for (k, v) in &r.attributes {
            let start = arena.len();
            arena.extend(
                k.as_bytes()
                    .iter()
                    .map(|&c| if c == b'.' { b'_' } else { c }),
            );
            let candidate = start..arena.len();
            let taken = |arena: &[u8], pairs: &[(Range<usize>, Range<usize>)], n: &[u8]| {
                self.reserved.iter().any(|r| r.as_bytes() == n)
                    || pairs[own..].iter().any(|(x, _)| &arena[x.clone()] == n)
            };
            let name = if taken(arena, pairs, &arena[candidate.clone()]) {
                let base = String::from_utf8_lossy(&arena[candidate.clone()]).into_owned();
                arena.truncate(start);
                let free = free_name(base, |n| taken(arena, pairs, n.as_bytes()));
                put(arena, free.as_bytes())
            } else {
                candidate
            };
            let value = put_value(arena, v);
            pairs.push((name, value));
        }
    }

    /// A record's structured metadata as it is sent (its own, then the
    /// resource's), as text.
    #[cfg(test)]
    fn metadata_of(&self, r: &Record) -> Vec<(String, String)> {
        let streams = self.group(std::slice::from_ref(r));
        let entry = &streams.streams[0].entries[0];
        streams
            .metadata(entry)
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
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

/// Structured metadata names follow Loki's OTLP mapping: dots become underscores.
fn metadata_name(key: &str) -> String {
    key.replace('.', "_")
}

/// `{a="x",b="y"}` with Prometheus string escaping.
#[cfg(test)]
fn selector(labels: &[(String, String)]) -> String {
    let mut s = String::new();
    selector_into(&mut s, labels);
    s
}

/// Writes the selector of `labels` into `s`.
fn selector_into(s: &mut String, labels: &[(String, String)]) {
    s.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(k);
        s.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => s.push_str("\\\\"),
                '"' => s.push_str("\\\""),
                '\n' => s.push_str("\\n"),
                c => s.push(c),
            }
        }
        s.push('"');
    }
    s.push('}');
}

/// A body as a Loki line (text: bytes that are not UTF-8 as lossy UTF-8).
fn put_line(arena: &mut Vec<u8>, body: &Value) -> Range<usize> {
    match body {
        Value::Str(s) => put(arena, s.as_bytes()),
        Value::Bytes(b) => put(arena, String::from_utf8_lossy(b).as_bytes()),
        Value::Empty => put(arena, b""),
        other => put(arena, stringify(other).as_bytes()),
    }
}

/// The severity range's name, lowercase: the bounded label value.
fn level_of(number: crate::record::SeverityNumber) -> &'static str {
    match number.0 {
        1..=4 => "trace",
        5..=8 => "debug",
        9..=12 => "info",
        13..=16 => "warn",
        17..=20 => "error",
        _ => "fatal",
    }
}

/// An attribute value as text: strings as they are, the rest as JSON.
fn stringify(v: &Value) -> String {
    match v {
        Value::Str(s) => s.as_str().to_string(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
        Value::Empty => String::new(),
        Value::Array(_) | Value::Map(_) => {
            let mut out = Vec::new();
            json::write_value(&mut out, v);
            String::from_utf8_lossy(&out).into_owned()
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn disallows_metadata(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("structured metadata")
        && (r.contains("disallowed") || r.contains("not allowed") || r.contains("disabled"))
}

// ---- protobuf ------------------------------------------------------------

const PUSH_STREAMS: u8 = tag(1, LEN);
const STREAM_LABELS: u8 = tag(1, LEN);
const STREAM_ENTRIES: u8 = tag(2, LEN);
const ENTRY_TIMESTAMP: u8 = tag(1, LEN);
const ENTRY_LINE: u8 = tag(2, LEN);
const ENTRY_METADATA: u8 = tag(3, LEN);
const PAIR_NAME: u8 = tag(1, LEN);
const PAIR_VALUE: u8 = tag(2, LEN);
const TS_SECONDS: u8 = tag(1, VARINT);
const TS_NANOS: u8 = tag(2, VARINT);

fn timestamp_len(ns: u64) -> usize {
    let (secs, nanos) = (ns / 1_000_000_000, ns % 1_000_000_000);
    (if secs != 0 { 1 + varint_len(secs) } else { 0 })
        + (if nanos != 0 { 1 + varint_len(nanos) } else { 0 })
}

fn pair_len(name: &[u8], value: &[u8]) -> usize {
    field_len(name.len()) + field_len(value.len())
}

fn put_pair(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    put_len_field(out, ENTRY_METADATA, pair_len(name, value));
    put_bytes_field(out, PAIR_NAME, name);
    put_bytes_field(out, PAIR_VALUE, value);
}

fn encode_protobuf(b: &Streams, with_metadata: bool) -> Vec<u8> {
    // The resource's pairs are the same on every entry: encoded once.
    let mut resource = Vec::new();
    if with_metadata {
        for (n, v) in &b.pairs[b.resource.clone()] {
            put_pair(&mut resource, b.text(n), b.text(v));
        }
    }
    // Each entry's length, computed once (it is needed for the stream's too).
    let entry_len = |e: &Entry| {
        let mut len = field_len(timestamp_len(e.timestamp)) + field_len(e.line.len());
        if with_metadata {
            len += resource.len();
            len += b.pairs[e.pairs.clone()]
                .iter()
                .map(|(n, v)| field_len(pair_len(b.text(n), b.text(v))))
                .sum::<usize>();
        }
        len
    };
    let mut lens = Vec::new();
    let mut out = Vec::with_capacity(b.arena.len() + b.pairs.len() * 4 + 64);
    for stream in &b.streams {
        lens.clear();
        lens.extend(stream.entries.iter().map(entry_len));
        let entries_len: usize = lens.iter().map(|&len| field_len(len)).sum();
        put_len_field(
            &mut out,
            PUSH_STREAMS,
            field_len(stream.selector.len()) + entries_len,
        );
        put_bytes_field(&mut out, STREAM_LABELS, stream.selector.as_bytes());
        for (e, &len) in stream.entries.iter().zip(&lens) {
            put_len_field(&mut out, STREAM_ENTRIES, len);
            put_len_field(&mut out, ENTRY_TIMESTAMP, timestamp_len(e.timestamp));
            let (secs, nanos) = (e.timestamp / 1_000_000_000, e.timestamp % 1_000_000_000);
            if secs != 0 {
                out.push(TS_SECONDS);
                put_varint(&mut out, secs);
            }
            if nanos != 0 {
                out.push(TS_NANOS);
                put_varint(&mut out, nanos);
            }
            put_bytes_field(&mut out, ENTRY_LINE, b.text(&e.line));
            if with_metadata {
                for (n, v) in &b.pairs[e.pairs.clone()] {
                    put_pair(&mut out, b.text(n), b.text(v));
                }
                out.extend_from_slice(&resource);
            }
        }
    }
    out
}

// ---- JSON ----------------------------------------------------------------

/// Loki's JSON push: `{"streams":[{"stream":{labels},"values":[["ns","line",{metadata}]]}]}`.
fn encode_json(b: &Streams, with_metadata: bool) -> Vec<u8> {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let mut out = Vec::with_capacity(b.arena.len() * 2 + 64);
    out.extend_from_slice(b"{\"streams\":[");
    for (i, stream) in b.streams.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"stream\":{");
        for (j, (k, v)) in stream.labels.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            json::write_str(&mut out, k);
            out.push(b':');
            json::write_str(&mut out, v);
        }
        out.extend_from_slice(b"},\"values\":[");
        for (j, e) in stream.entries.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"[\"");
            put_decimal(&mut out, e.timestamp);
            out.extend_from_slice(b"\",");
            json::write_str(&mut out, &text(b.text(&e.line)));
            if with_metadata && !(e.pairs.is_empty() && b.resource.is_empty()) {
                out.extend_from_slice(b",{");
                for (k, (n, v)) in b.metadata(e).enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    json::write_str(&mut out, &text(n));
                    out.push(b':');
                    json::write_str(&mut out, &text(v));
                }
                out.push(b'}');
            }
            out.push(b']');
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Severity, SeverityNumber, Stream};

    fn exporter(labels: Vec<LokiLabel>) -> LokiExporter {
        let resource = vec![
            (Str::from("service.name"), Value::Str(Str::from("checkout"))),
            (Str::from("host.name"), Value::Str(Str::from("node-1"))),
        ];
        LokiExporter::new(
            LokiConfig {
                url: "http://127.0.0.1:1/loki/api/v1/push".into(),
                encoding: LokiEncoding::Protobuf,
                compression: Compression::None,
                tenant: None,
                auth: Auth::default(),
                labels,
                structured_metadata: true,
                level_label: true,
                timeout: Duration::from_secs(1),
                tls: TlsOptions::default(),
            },
            &resource,
        )
        .unwrap()
    }

    fn record(observed: u64, body: &str, severity: &str) -> Record {
        let mut r = Record::new(
            Stream::Stdout,
            observed,
            Value::Str(Str::from(body.to_string())),
        );
        r.severity = Severity {
            number: SeverityNumber::INFO,
            text: Str::from(severity.to_string()),
        };
        r
    }

    #[test]
    fn metadata_names_never_collide_and_logwraps_own_win() {
        let e = exporter(vec![LokiLabel {
            name: "env".into(),
            value: LabelValue::Static("prod".into()),
        }]);
        let mut r = record(1, "x", "WARN");
        for (k, v) in [
            ("host.name", "child-host"),
            ("level", "child-level"),
            ("env", "child-env"),
            ("a.b", "dot"),
            ("a_b", "under"),
            ("a_b_2", "literal"),
        ] {
            r.attributes.push((
                Str::from(k.to_string()),
                Value::Str(Str::from(v.to_string())),
            ));
        }
        let m = e.metadata_of(&r);
        let get = |n: &str| {
            m.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{n} missing from {m:?}"))
        };
        assert_eq!(get("level"), "WARN");
        assert_eq!(get("level_2"), "child-level");
        assert_eq!(get("host_name"), "node-1", "the resource wins");
        assert_eq!(get("host_name_2"), "child-host");
        assert_eq!(get("env_2"), "child-env", "a label's name is taken");
        assert_eq!(
            (get("a_b"), get("a_b_2"), get("a_b_2_2")),
            ("dot", "under", "literal")
        );
        let mut names: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "{m:?}");
    }

    #[test]
    fn push_urls() {
        assert_eq!(
            push_url("http://loki:3100").unwrap(),
            "http://loki:3100/loki/api/v1/push"
        );
        assert_eq!(
            push_url("https://x/prefix/").unwrap(),
            "https://x/prefix/loki/api/v1/push"
        );
        assert_eq!(
            push_url("http://l/loki/api/v1/push").unwrap(),
            "http://l/loki/api/v1/push"
        );
        assert!(push_url("loki:3100").is_err());
    }

    #[test]
    fn label_names_and_selectors() {
        assert_eq!(label_name("k8s.namespace.name"), "k8s_namespace_name");
        assert_eq!(label_name("1x"), "_1x");
        let s = selector(&[("a".into(), "q\"uote\\n".into()), ("b".into(), "x".into())]);
        assert_eq!(s, r#"{a="q\"uote\\n",b="x"}"#);
    }

    #[test]
    fn streams_are_grouped_sorted_and_strictly_increasing() {
        let e = exporter(vec![LokiLabel {
            name: "level".into(),
            value: LabelValue::Attribute("severity".into()),
        }]);
        let records = vec![
            record(30, "c", "INFO"),
            record(10, "a", "INFO"),
            record(10, "a", "INFO"),
            record(20, "w", "WARN"),
        ];
        let streams = e.group(&records);
        assert_eq!(streams.streams.len(), 2);
        let stream = &streams.streams[0];
        assert_eq!(stream.selector, r#"{level="info",service_name="checkout"}"#);
        let times: Vec<u64> = stream.entries.iter().map(|e| e.timestamp).collect();
        assert_eq!(
            times,
            [10, 11, 30],
            "same time and line would be deduplicated by Loki"
        );
        // The next batch continues after the last timestamp sent.
        let streams = e.group(&[record(5, "late", "INFO")]);
        assert_eq!(streams.streams[0].entries[0].timestamp, 31);
    }

    #[test]
    fn metadata_holds_what_labels_do_not() {
        let e = exporter(vec![]);
        let mut r = record(1, "x", "INFO");
        r.trace_id = [1; 16];
        r.attributes
            .push((Str::from("http.status"), Value::Int(200)));
        let m = e.metadata_of(&r);
        let get = |k: &str| m.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("level"), Some("INFO"));
        assert_eq!(get("trace_id"), Some("01".repeat(16).as_str()));
        assert_eq!(get("http_status"), Some("200"));
        assert_eq!(get("host_name"), Some("node-1"));
        assert_eq!(get("service_name"), None, "a label, not metadata");
    }

    #[test]
    fn disallowed_metadata_answers_are_recognised() {
        let loki_29 = "HTTP 400: \"stream '{service_name=\\\"x\\\"}' includes structured metadata, but this feature is disallowed. Please see `limits_config.structured_metadata`\"";
        assert!(disallows_metadata(loki_29));
        assert!(!disallows_metadata("HTTP 400: \"entry too far behind\""));
    }
}
