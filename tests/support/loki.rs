//! A Loki receiver: the HTTP receiver plus decoding of push requests.
//!
//! The protobuf types below are written from Loki's published push.proto
//! (grafana/loki `pkg/push/push.proto`) field for field: PushRequest,
//! StreamAdapter, EntryAdapter, LabelPairAdapter, and google.protobuf's
//! Timestamp. Bodies are snappy (raw block format) as Loki requires; JSON
//! pushes are checked against the shape in Loki's HTTP API docs.

use prost::Message;

use super::http::{Answer, Captured, HttpReceiver};

pub use super::loki_proto::*;

/// One entry, format-independent.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub labels: String,
    pub ts_nanos: i64,
    pub line: String,
    pub metadata: Vec<(String, String)>,
}

impl Entry {
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct LokiReceiver {
    pub http: HttpReceiver,
}

impl LokiReceiver {
    /// Answers 204 like Loki.
    pub async fn start() -> Self {
        LokiReceiver {
            http: HttpReceiver::start(Answer::status(204)).await,
        }
    }

    pub fn url(&self) -> String {
        self.http.url()
    }

    /// Entries of every accepted push, in arrival order.
    pub fn entries(&self) -> Vec<Entry> {
        self.all_entries()
            .into_iter()
            .filter(|e| e.meta("event_name").is_none())
            .collect()
    }

    /// Every entry, lifecycle events included.
    pub fn all_entries(&self) -> Vec<Entry> {
        self.http.accepted().iter().flat_map(decode).collect()
    }

    pub async fn wait_for_entries(&self, n: usize) -> Vec<Entry> {
        self.http
            .wait_until(&format!("{n} Loki entries"), |accepted| {
                accepted
                    .iter()
                    .flat_map(decode)
                    .filter(|e| e.meta("event_name").is_none())
                    .count()
                    >= n
            })
            .await;
        self.entries()
    }
}

/// Decodes a push (protobuf + snappy or JSON); fails the test on anything
/// Loki would refuse.
pub fn decode(c: &Captured) -> Vec<Entry> {
    assert_eq!(c.path, "/loki/api/v1/push");
    match c.headers.get("content-type").map(|v| v.to_str().unwrap()) {
        Some("application/x-protobuf") => {
            let raw = snap::raw::Decoder::new()
                .decompress_vec(&c.body)
                .expect("raw snappy");
            let push = PushRequest::decode(&raw[..]).expect("push.proto PushRequest");
            push.streams
                .iter()
                .flat_map(|s| {
                    s.entries.iter().map(|e| {
                        let ts = e.timestamp.clone().unwrap_or_default();
                        Entry {
                            labels: s.labels.clone(),
                            ts_nanos: ts.seconds * 1_000_000_000 + ts.nanos as i64,
                            line: e.line.clone(),
                            metadata: e
                                .structured_metadata
                                .iter()
                                .map(|p| (p.name.clone(), p.value.clone()))
                                .collect(),
                        }
                    })
                })
                .collect()
        }
        Some("application/json") => {
            let v: serde_json::Value = serde_json::from_slice(&c.body).expect("JSON push");
            let mut out = Vec::new();
            for s in v["streams"].as_array().expect("streams array") {
                let labels = s["stream"].as_object().expect("stream object");
                let mut pairs: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| {
                        format!("{k}=\"{}\"", v.as_str().expect("label values are strings"))
                    })
                    .collect();
                pairs.sort();
                for value in s["values"].as_array().expect("values array") {
                    let value = value.as_array().expect("each value is an array");
                    let ts: i64 = value[0]
                        .as_str()
                        .expect("timestamp is a string of ns")
                        .parse()
                        .unwrap();
                    let metadata = value
                        .get(2)
                        .map(|m| {
                            m.as_object()
                                .expect("structured metadata is an object")
                                .iter()
                                .map(|(k, v)| {
                                    (
                                        k.clone(),
                                        v.as_str()
                                            .expect("metadata values are strings")
                                            .to_string(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    out.push(Entry {
                        labels: format!("{{{}}}", pairs.join(",")),
                        ts_nanos: ts,
                        line: value[1].as_str().expect("line is a string").to_string(),
                        metadata,
                    });
                }
            }
            out
        }
        other => panic!("unexpected content-type {other:?}"),
    }
}
