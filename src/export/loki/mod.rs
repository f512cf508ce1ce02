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

    /// Sends a batch: its records read from the chunks' fields in place.
    pub async fn send(&self, batch: &crate::batch::Batch) -> Result<Accepted, ExportError> {
        let chunks: Vec<bytes::Bytes> = batch.chunks.iter().map(|c| c.bytes.clone()).collect();
        self.send_grouped(|| self.group_chunks(&chunks)).await
    }

    /// Sends records (`logwrap check`, the dropped notice).
    pub async fn export(&self, records: &[Record]) -> Result<Accepted, ExportError> {
        self.send_grouped(|| Ok(self.group(records))).await
    }

    async fn send_grouped(
        &self,
        group: impl Fn() -> Result<Streams, crate::encode::DecodeError>,
    ) -> Result<Accepted, ExportError> {
        let unreadable = |e: crate::encode::DecodeError| ExportError::Permanent {
            reason: format!("the batch's encoded records cannot be read back: {e}"),
        };
        let streams = group().map_err(unreadable)?;
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
                self.push(&group().map_err(unreadable)?).await
            }
            other => other,
        }
    }

    async fn push(&self, streams: &Streams) -> Result<Accepted, ExportError> {
        // The entries were written in the push's format, with or without
        // metadata, when the batch was grouped.
        let raw = encode(streams);
        let (body, content_type, encoding) = match streams.encoding {
            LokiEncoding::Protobuf => {
                let packed = snap::raw::Encoder::new().compress_vec(&raw).map_err(|e| {
                    ExportError::Permanent {
                        reason: format!("snappy compression failed: {e}"),
                    }
                })?;
                (packed, "application/x-protobuf", None)
            }
            LokiEncoding::Json => (
                self.config.compression.compress(raw),
                "application/json",
                self.config.compression.content_encoding(),
            ),
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

    #[test]
    fn disallowed_metadata_answers_are_recognised() {
        let loki_29 = "HTTP 400: \"stream '{service_name=\\\"x\\\"}' includes structured metadata, but this feature is disallowed. Please see `limits_config.structured_metadata`\"";
        assert!(disallows_metadata(loki_29));
        assert!(!disallows_metadata("HTTP 400: \"entry too far behind\""));
    }
}
