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

mod config;
mod push;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};

use super::http;
use super::{Accepted, ExportError};
use crate::record::{Record, Str, Value};
pub use config::{
    LabelValue, LokiConfig, LokiEncoding, LokiLabel, MAX_LOKI_LABELS, label_name, push_url,
};
use push::{OWN_METADATA, Streams, encode, free_name, metadata_name, stringify};

/// Records per push at most, unless the user sets a count
/// (`--batch-max-records`, `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`); other
/// destinations send 1024. The 3 MiB byte cap closes a push first when
/// lines average over about 350 bytes.
///
/// Pushes go one at a time, in order, so each push's round trip bounds the
/// rate: `cargo bench --bench pipeline -- --protocol loki --latency MS`,
/// with the receiver answering 1 and 3 ms late, measured 215k and 146k
/// lines/s at 1024 records, 347k and 292k at 4096. Promtail and Alloy send
/// up to 1 MiB of lines per push (`batch_size`) for the same reason. The
/// price shows on loopback, where nothing waits: four alternating rounds
/// (`--runs 3`) gave 588-657k lines/s at 1024 and 524-626k at 4096, at the
/// same CPU per line (1.04-1.18 and 1.01-1.22 s per million), and peak RSS
/// rose from 29 to 34 MiB (a push's buffers are the size of its batch).
pub const DEFAULT_BATCH_RECORDS: usize = 4096;

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
    /// The buffers a push is built in, kept from one push to the next while
    /// records keep coming (see [`Spare`]).
    spare: Mutex<Spare>,
}

/// A push ready to send: its body, its headers, and whether its entries
/// carry structured metadata. Kept by a delivery for its retries.
pub struct Push {
    body: bytes::Bytes,
    content_type: &'static str,
    encoding: Option<&'static str>,
    with_metadata: bool,
}

/// A push's working buffers (grouped entries, the encoded request, its
/// snappy form), each the size of the batch: over a MiB at the default
/// 4096 records. Allocated afresh for every push they cost page faults, and
/// snappy's own output buffer is zeroed first, 13% of the export thread in
/// the Loki benchmark. Kept between pushes instead, and dropped when the
/// destination goes idle ([`LokiExporter::release_spare`]), so an idle
/// logwrap does not hold them.
#[derive(Default)]
struct Spare {
    grouped: Vec<u8>,
    request: Vec<u8>,
    /// Its length only grows (snappy writes into initialised bytes), so
    /// reuse does not zero it again.
    packed: Vec<u8>,
    snappy: Option<snap::raw::Encoder>,
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
            spare: Mutex::new(Spare::default()),
        })
    }

    /// Drops the buffers kept between pushes (the destination is idle).
    pub fn release_spare(&self) {
        *self.spare() = Spare::default();
    }

    fn spare(&self) -> std::sync::MutexGuard<'_, Spare> {
        self.spare.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An empty buffer for a push's grouped entries, with room for `capacity`.
    fn grouped_buffer(&self, capacity: usize) -> Vec<u8> {
        let mut buffer = std::mem::take(&mut self.spare().grouped);
        buffer.clear();
        buffer.reserve(capacity);
        buffer
    }

    /// Sends a batch: its records read from the chunks' fields in place.
    /// A retry sends the push in `kept` again, the same entries with the
    /// same timestamps (grouping again would move them past the first
    /// try's), unless structured metadata was turned off since it was built.
    pub async fn send(
        &self,
        batch: &crate::batch::Batch,
        kept: &mut Option<Push>,
    ) -> Result<Accepted, ExportError> {
        let group = |with_metadata| {
            let chunks: Vec<bytes::Bytes> = batch.chunks.iter().map(|c| c.bytes.clone()).collect();
            self.group_chunks(&chunks, with_metadata)
        };
        let push = match kept.take() {
            Some(push)
                if push.with_metadata == self.structured_metadata.load(Ordering::Relaxed) =>
            {
                push
            }
            _ => self.prepare(group)?,
        };
        let push = kept.insert(push);
        match self.push(push).await {
            Err(ExportError::Permanent { reason })
                if push.with_metadata && disallows_metadata(&reason) =>
            {
                if self.structured_metadata.swap(false, Ordering::Relaxed) {
                    tracing::warn!(
                        destination = "loki",
                        level_label = self.config.level_label,
                        "Loki does not accept structured metadata (before 2.9, or allow_structured_metadata: false); \
                         sending lines as they were written from now on (| json and | logfmt recover their fields)"
                    );
                }
                // Lines and labels change without metadata: group again.
                let push = kept.insert(self.prepare(group)?);
                self.push(push).await
            }
            other => other,
        }
    }

    /// Sends records (`logwrap check`, the dropped notice).
    pub async fn export(&self, records: &[Record]) -> Result<Accepted, ExportError> {
        let batch = crate::batch::Batch::of(crate::encode::chunk_with_original(records));
        self.send(&batch, &mut None).await
    }

    /// Groups a batch's records and encodes the push, with structured
    /// metadata if it is on now.
    fn prepare(
        &self,
        group: impl Fn(bool) -> Result<Streams, crate::encode::DecodeError>,
    ) -> Result<Push, ExportError> {
        let with_metadata = self.structured_metadata.load(Ordering::Relaxed);
        let streams = group(with_metadata).map_err(|e| ExportError::Permanent {
            reason: format!("the batch's encoded records cannot be read back: {e}"),
        })?;
        let (body, content_type, encoding) = match streams.encoding {
            LokiEncoding::Protobuf => (
                self.snappy_request(&streams)?,
                "application/x-protobuf",
                None,
            ),
            LokiEncoding::Json => (
                bytes::Bytes::from(
                    self.config
                        .compression
                        .compress(encode(&streams, Vec::new())),
                ),
                "application/json",
                self.config.compression.content_encoding(),
            ),
        };
        // The grouped entries are in the body now: their buffer can serve
        // the next push.
        self.spare().grouped = streams.bytes;
        Ok(Push {
            body,
            content_type,
            encoding,
            with_metadata,
        })
    }

    async fn push(&self, push: &Push) -> Result<Accepted, ExportError> {
        let mut request = self
            .client
            .post(&self.config.url)
            .header(CONTENT_TYPE, push.content_type)
            .timeout(self.config.timeout)
            .body(push.body.clone());
        if let Some(encoding) = push.encoding {
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

    /// The protobuf push request, snappy-compressed, built in the spare
    /// buffers; the body is a copy of the compressed bytes (a few per cent
    /// of the request), so the buffers stay here for the next push.
    fn snappy_request(&self, streams: &Streams) -> Result<bytes::Bytes, ExportError> {
        let mut spare = self.spare();
        let spare = &mut *spare;
        spare.request = encode(streams, std::mem::take(&mut spare.request));
        let need = snap::raw::max_compress_len(spare.request.len());
        if spare.packed.len() < need {
            spare.packed.resize(need, 0);
        }
        let n = spare
            .snappy
            .get_or_insert_with(snap::raw::Encoder::new)
            .compress(&spare.request, &mut spare.packed)
            .map_err(|e| ExportError::Permanent {
                reason: format!("snappy compression failed: {e}"),
            })?;
        Ok(bytes::Bytes::copy_from_slice(&spare.packed[..n]))
    }
}

fn disallows_metadata(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("structured metadata")
        && (r.contains("disallowed") || r.contains("not allowed") || r.contains("disabled"))
}

#[cfg(test)]
mod tests {
    use super::push::selector;
    use super::*;
    use crate::export::http::{Auth, Compression};
    use crate::export::tls::TlsOptions;
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

    /// A record of many attributes (a JSON line of 60,000 keys) gets its
    /// metadata names in time that grows with their number, not its square
    /// (a linear search per name: about 1.8 billion comparisons here, 32 s
    /// in a test build). The bound only catches the quadratic case. Names
    /// that collide on both sides of the switch from a search to a set
    /// (the 31st to 34th names) still get the next free suffix.
    #[test]
    fn many_attributes_get_unique_names_in_linear_time() {
        const KEYS: usize = 60_000;
        let e = exporter(vec![]);

        // Collisions the 31st to 34th names meet, on either side of the
        // switch to the set: `k.0` and `k_0`, `k.1` and `k_1`.
        let mut few = record(1, "x", "INFO");
        for i in 0..30 {
            few.attributes
                .push((Str::from(format!("k.{i}")), Value::Int(i)));
        }
        for (k, v) in [("k_0", -1), ("k_0_2", -2), ("k_1", -3), ("k_1_2", -4)] {
            few.attributes.push((Str::from(k), Value::Int(v)));
        }
        let names: Vec<(String, String)> = e
            .metadata_of(&few)
            .into_iter()
            .filter(|(n, _)| n.starts_with("k_0") || n.starts_with("k_1"))
            .collect();
        let has = |n: &str, v: &str| names.contains(&(n.to_string(), v.to_string()));
        // k_1 is also the prefix of k_10..k_19; those keep their values.
        assert!(
            has("k_0", "0") && has("k_1", "1") && has("k_10", "10"),
            "{names:?}"
        );
        // `k_0_2` of its own meets the `k_0_2` just given: `k_0_2_2`.
        assert!(has("k_0_2", "-1") && has("k_0_2_2", "-2"), "{names:?}");
        assert!(has("k_1_2", "-3") && has("k_1_2_2", "-4"), "{names:?}");

        // 60,000 names.
        let mut r = record(1, "x", "INFO");
        for i in 0..KEYS {
            r.attributes
                .push((Str::from(format!("k.{i}")), Value::Int(i as i64)));
        }
        // `k.7` and `k_7` both become `k_7`; `level` is logwrap's own.
        r.attributes.push((Str::from("k_7"), Value::Int(-7)));
        r.attributes
            .push((Str::from("level"), Value::Str(Str::from("mine"))));
        let started = std::time::Instant::now();
        let m = e.metadata_of(&r);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
        let get = |k: &str| m.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("k_0"), Some("0"));
        assert_eq!(get("k_59999"), Some("59999"));
        assert_eq!(get("k_7"), Some("7"));
        assert_eq!(get("k_7_2"), Some("-7"));
        assert_eq!(get("level"), Some("INFO"));
        assert_eq!(get("level_2"), Some("mine"));
        let names: std::collections::HashSet<&str> = m.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), m.len(), "every name once");
    }

    #[test]
    fn disallowed_metadata_answers_are_recognised() {
        let loki_29 = "HTTP 400: \"stream '{service_name=\\\"x\\\"}' includes structured metadata, but this feature is disallowed. Please see `limits_config.structured_metadata`\"";
        assert!(disallows_metadata(loki_29));
        assert!(!disallows_metadata("HTTP 400: \"entry too far behind\""));
    }
}

/// Loki's push.proto types of the tests, for decoding independently of
/// our encoder.
#[cfg(test)]
#[path = "../../../tests/support/loki_proto.rs"]
#[allow(dead_code)] // fields only read by the decoder
mod loki_proto;

#[cfg(test)]
mod formats {
    use super::loki_proto;
    use super::push::selector;
    use super::*;
    use crate::export::http::{Auth, Compression};
    use crate::export::tls::TlsOptions;
    use crate::record::{Severity, SeverityNumber, Split, Stream};

    fn exporter(
        labels: Vec<LokiLabel>,
        sm: bool,
        level_label: bool,
        encoding: LokiEncoding,
    ) -> LokiExporter {
        let resource = vec![
            (Str::from("service.name"), Value::Str(Str::from("checkout"))),
            (Str::from("host.name"), Value::Str(Str::from("node-1"))),
            (Str::from("process.pid"), Value::Int(4242)),
            (Str::from("level"), Value::Str(Str::from("res-level"))),
            (Str::from("a.b"), Value::Bool(true)),
        ];
        LokiExporter::new(
            LokiConfig {
                url: "http://127.0.0.1:1/loki/api/v1/push".into(),
                encoding,
                compression: Compression::None,
                tenant: None,
                auth: Auth::default(),
                labels,
                structured_metadata: sm,
                level_label,
                timeout: Duration::from_secs(1),
                tls: TlsOptions::default(),
            },
            &resource,
        )
        .unwrap()
    }

    fn records(seed: u64) -> Vec<Record> {
        let mut out = Vec::new();
        let bodies = [
            Value::Str(Str::from("plain line")),
            Value::Str(Str::from("quote \" back \\ nl \n tab \t é ü 😀 \u{1}")),
            Value::Bytes(bytes::Bytes::from_static(b"\xff\xfebytes")),
            Value::Int(-5),
            Value::Int(77),
            Value::Double(1.5),
            Value::Bool(true),
            Value::Empty,
            Value::Array(vec![Value::Int(1), Value::Str(Str::from("x"))]),
            Value::Map(vec![(Str::from("k"), Value::Str(Str::from("v")))]),
            Value::Str(Str::from("")),
        ];
        let attrs: Vec<(Str, Value)> = vec![
            (Str::from("http.status"), Value::Int(200)),
            (Str::from("neg"), Value::Int(-3)),
            (Str::from("ok"), Value::Bool(false)),
            (Str::from("ratio"), Value::Double(0.25)),
            (
                Str::from("bin"),
                Value::Bytes(bytes::Bytes::from_static(b"\x00\x01\xff")),
            ),
            (Str::from("list"), Value::Array(vec![Value::Int(1)])),
            (
                Str::from("map"),
                Value::Map(vec![(Str::from("a"), Value::Int(2))]),
            ),
            (Str::from("empty"), Value::Empty),
            (Str::from("level"), Value::Str(Str::from("child-level"))),
            (Str::from("host.name"), Value::Str(Str::from("child-host"))),
            (Str::from("a.b"), Value::Str(Str::from("dot"))),
            (Str::from("a_b"), Value::Str(Str::from("under"))),
            (Str::from("a_b_2"), Value::Str(Str::from("lit"))),
            (Str::from("env"), Value::Str(Str::from("child-env"))),
            (Str::from("msg"), Value::Str(Str::from("ünï \"q\""))),
            (Str::from("trace_id"), Value::Str(Str::from("fake"))),
        ];
        let sev = ["", "INFO", "WARN", "error", "Debug"];
        let nums = [0, 9, 13, 17, 5, 1, 21];
        for i in 0..120u64 {
            let k = (i * 7 + seed) as usize;
            let mut r = Record::new(
                [
                    Stream::Stdout,
                    Stream::Stderr,
                    Stream::Lifecycle,
                    Stream::File,
                ][k % 4],
                1_700_000_000_000_000_000 + (k as u64 % 5) * 1000 + (i % 3),
                bodies[k % bodies.len()].clone(),
            );
            if k.is_multiple_of(3) {
                r.time_unix_nano = 1_700_000_000_000_000_000 - (k as u64 % 4) * 1_000_000_000;
            }
            if k.is_multiple_of(11) {
                r.time_unix_nano = 1_000_000_000 * (k as u64 % 2); // secs-only / zero
                r.observed_unix_nano = 500 + (k as u64 % 2);
            }
            r.severity = Severity {
                number: SeverityNumber(nums[k % nums.len()]),
                text: Str::from(sev[k % sev.len()].to_string()),
            };
            for j in 0..(k % 6) {
                r.attributes.push(attrs[(k + j * 5) % attrs.len()].clone());
            }
            r.attributes.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
            r.attributes.dedup_by(|a, b| a.0.as_str() == b.0.as_str());
            if k % 5 == 1 {
                r.split = Some(Split {
                    id: k as u64,
                    index: (k % 3) as u32,
                    last: k.is_multiple_of(2),
                });
            }
            if k % 4 == 2 {
                r.trace_id = [k as u8; 16];
                r.span_id = [k as u8 + 1; 8];
            }
            if k % 13 == 3 {
                r.trace_id = [0; 16];
                r.span_id = [0; 8];
            }
            if k % 9 == 4 {
                r.event_name = Str::from("process.exit");
            }
            if k % 2 == 1 {
                r.original = Str::from(format!("{{\"orig\":{k}}}"));
            }
            out.push(r);
        }
        out
    }

    /// (selector, timestamp, line, metadata sorted by name) of every entry.
    type Decoded = Vec<(String, u64, String, Vec<(String, String)>)>;

    /// A push.proto body, decoded with the types written from Loki's
    /// push.proto (tests/support), not with our wire reader.
    fn decode_protobuf(body: &[u8]) -> Decoded {
        use prost::Message;
        let push = loki_proto::PushRequest::decode(body).unwrap();
        let mut out = Vec::new();
        for stream in push.streams {
            for entry in stream.entries {
                let ts = entry.timestamp.expect("every entry has a time");
                let mut meta: Vec<(String, String)> = entry
                    .structured_metadata
                    .into_iter()
                    .map(|p| (p.name, p.value))
                    .collect();
                meta.sort();
                out.push((
                    stream.labels.clone(),
                    ts.seconds as u64 * 1_000_000_000 + ts.nanos as u64,
                    entry.line,
                    meta,
                ));
            }
        }
        out
    }

    fn decode_json(body: &[u8]) -> Decoded {
        let push: serde_json::Value = serde_json::from_slice(body).unwrap();
        let text = |v: &serde_json::Value| v.as_str().unwrap().to_string();
        let mut out = Vec::new();
        for stream in push["streams"].as_array().unwrap() {
            let labels: Vec<(String, String)> = stream["stream"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), text(v)))
                .collect();
            for value in stream["values"].as_array().unwrap() {
                let value = value.as_array().unwrap();
                assert!((2..=3).contains(&value.len()), "{value:?}");
                let mut meta: Vec<(String, String)> = value
                    .get(2)
                    .map(|m| {
                        let m = m.as_object().unwrap();
                        assert!(!m.is_empty(), "an empty metadata object is left out");
                        m.iter().map(|(k, v)| (k.clone(), text(v))).collect()
                    })
                    .unwrap_or_default();
                meta.sort();
                out.push((
                    selector(&labels),
                    text(&value[0]).parse().unwrap(),
                    text(&value[1]),
                    meta,
                ));
            }
        }
        out
    }

    /// The buffers kept from one push to the next carry nothing over: a
    /// small push built after a large one (and after a release) holds
    /// exactly its own entries, as a push built in fresh buffers does.
    #[test]
    fn a_push_built_in_kept_buffers_holds_only_its_own_entries() {
        let proto = exporter(vec![], true, true, LokiEncoding::Protobuf);
        let large: Vec<Record> = (0..40).flat_map(records).collect();
        let small = records(7);
        for (round, batch) in [&large, &small, &large, &small].into_iter().enumerate() {
            if round == 2 {
                proto.release_spare();
            }
            let streams = proto.group(batch);
            let fresh = decode_protobuf(&encode(&streams, Vec::new()));
            let body = proto.snappy_request(&streams).unwrap();
            let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
            let sent = decode_protobuf(&raw);
            assert_eq!(sent.len(), batch.len(), "round {round}");
            assert_eq!(sent, fresh, "round {round}");
            proto.spare().grouped = streams.bytes;
        }
        // An idle destination lets go of them.
        let held = |e: &LokiExporter| {
            let spare = e.spare();
            spare.grouped.capacity() + spare.request.capacity() + spare.packed.capacity()
        };
        assert!(held(&proto) > 0);
        let exporter = crate::export::Exporter::Loki(Box::new(proto));
        exporter.idle();
        let crate::export::Exporter::Loki(proto) = exporter else {
            unreachable!()
        };
        assert_eq!(held(&proto), 0);
    }

    /// Entries are written in the push's format as they are read: both
    /// formats carry the same streams, times, lines and metadata.
    #[test]
    fn protobuf_and_json_pushes_carry_the_same_entries() {
        let l = |n: &str, v: LabelValue| LokiLabel {
            name: n.into(),
            value: v,
        };
        let label_sets = [
            vec![],
            vec![l("level", LabelValue::Attribute("severity".into()))],
            vec![
                l("status", LabelValue::Attribute("http.status".into())),
                l("env", LabelValue::Static("q\"x\n".into())),
            ],
        ];
        for labels in label_sets {
            for sm in [true, false] {
                let proto = exporter(labels.clone(), sm, true, LokiEncoding::Protobuf);
                let json = exporter(labels.clone(), sm, true, LokiEncoding::Json);
                for seed in 0..3 {
                    let records = records(seed);
                    let p = decode_protobuf(&encode(&proto.group(&records), Vec::new()));
                    let j = decode_json(&encode(&json.group(&records), Vec::new()));
                    assert_eq!(p.len(), records.len());
                    assert_eq!(p, j, "labels {labels:?}, metadata {sm}, seed {seed}");
                    let with_meta = p.iter().filter(|e| !e.3.is_empty()).count();
                    assert_eq!(with_meta > 0, sm);
                }
            }
        }
    }
}
