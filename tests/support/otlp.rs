//! An OTLP/HTTP receiver: the HTTP receiver plus decoding of every accepted
//! request with the official `opentelemetry-proto` types, protobuf or JSON
//! by Content-Type.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;

use super::http::{Answer, Captured, HttpReceiver};

/// A request as the receiver decoded it.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: hyper::HeaderMap,
    pub request: ExportLogsServiceRequest,
    /// Size of the body on the wire.
    pub wire_bytes: usize,
}

/// An OTLP/HTTP receiver on 127.0.0.1 with a random port; answers 200
/// unless scripted otherwise.
pub struct OtlpReceiver {
    pub http: HttpReceiver,
}

impl OtlpReceiver {
    pub async fn start() -> Self {
        OtlpReceiver {
            http: HttpReceiver::start(Answer::status(200)).await,
        }
    }

    /// On this port: a collector that comes up late, or comes back.
    pub async fn start_on(port: u16) -> Self {
        OtlpReceiver {
            http: HttpReceiver::start_on(port, Answer::status(200)).await,
        }
    }

    pub async fn start_tls(tls: rustls::ServerConfig) -> Self {
        OtlpReceiver {
            http: HttpReceiver::start_tls(Answer::status(200), tls).await,
        }
    }

    /// The base URL, for `--otlp-endpoint` / `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        self.http.url()
    }

    /// Answers the next requests with these, in order, then with 200.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.http.script(answers);
    }

    /// Requests answered so far, accepted or not.
    pub fn requests_seen(&self) -> usize {
        self.http.requests_seen()
    }

    /// The accepted requests, decoded.
    pub fn requests(&self) -> Vec<Received> {
        self.http
            .accepted()
            .iter()
            .filter(|c| c.path == "/v1/logs")
            .map(decode)
            .collect()
    }

    /// Spans received at /v1/traces (`--trace`), decoded.
    pub fn spans(&self) -> Vec<opentelemetry_proto::tonic::trace::v1::Span> {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        self.http
            .accepted()
            .iter()
            .filter(|c| c.path == "/v1/traces")
            .flat_map(|c| {
                let request = ExportTraceServiceRequest::decode(&c.body[..])
                    .expect("ExportTraceServiceRequest");
                request
                    .resource_spans
                    .into_iter()
                    .flat_map(|rs| rs.scope_spans)
                    .flat_map(|ss| ss.spans)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The line records received so far, in arrival order (lifecycle
    /// events, which have an event name, are in [`Self::events`]).
    pub fn records(&self) -> Vec<LogRecord> {
        self.all_records()
            .into_iter()
            .filter(|r| r.event_name.is_empty())
            .collect()
    }

    /// The lifecycle events received so far.
    pub fn events(&self) -> Vec<LogRecord> {
        self.all_records()
            .into_iter()
            .filter(|r| !r.event_name.is_empty())
            .collect()
    }

    /// Every record received so far, events included.
    pub fn all_records(&self) -> Vec<LogRecord> {
        self.requests()
            .iter()
            .flat_map(|r| records_of(&r.request))
            .collect()
    }

    /// Waits until at least `n` records arrived.
    pub async fn wait_for_records(&self, n: usize) -> Vec<LogRecord> {
        self.http
            .wait_until(&format!("{n} records"), |accepted| {
                accepted
                    .iter()
                    .filter(|c| c.path == "/v1/logs")
                    .flat_map(|c| records_of(&decode(c).request))
                    .filter(|r| r.event_name.is_empty())
                    .count()
                    >= n
            })
            .await;
        self.records()
    }
}

/// Decodes one OTLP/HTTP request; panics (fails the test) on anything the
/// spec does not allow.
pub fn decode(c: &Captured) -> Received {
    assert_eq!(c.path, "/v1/logs", "OTLP/HTTP logs path");
    let content_type = c
        .headers
        .get("content-type")
        .map(|v| v.to_str().unwrap())
        .unwrap_or("");
    let request = match content_type {
        "application/x-protobuf" => ExportLogsServiceRequest::decode(&c.body[..])
            .expect("protobuf ExportLogsServiceRequest"),
        "application/json" => {
            serde_json::from_slice(&c.body).expect("OTLP/JSON ExportLogsServiceRequest")
        }
        other => panic!("unexpected content-type {other:?}"),
    };
    Received {
        headers: c.headers.clone(),
        request,
        wire_bytes: c.wire_bytes,
    }
}

pub fn records_of(request: &ExportLogsServiceRequest) -> Vec<LogRecord> {
    request
        .resource_logs
        .iter()
        .flat_map(|rl| rl.scope_logs.iter())
        .flat_map(|sl| sl.log_records.iter().cloned())
        .collect()
}

// ---- Reading records ---------------------------------------------------------

pub fn value(v: &Option<AnyValue>) -> Option<&any_value::Value> {
    v.as_ref()?.value.as_ref()
}

pub fn body_text(r: &LogRecord) -> String {
    match value(&r.body) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        other => panic!("expected a string body, got {other:?}"),
    }
}

pub fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| value(&kv.value))
}

pub fn attr_str(attrs: &[KeyValue], key: &str) -> Option<String> {
    match attr(attrs, key)? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        other => panic!("{key} is not a string: {other:?}"),
    }
}

pub fn iostream(r: &LogRecord) -> String {
    attr_str(&r.attributes, "log.iostream").expect("every record has log.iostream")
}

/// Records of one stream, in order.
pub fn stream(records: &[LogRecord], name: &str) -> Vec<LogRecord> {
    records
        .iter()
        .filter(|r| iostream(r) == name)
        .cloned()
        .collect()
}

/// `line <i> of the app\n` for each `i`: lines whose arrivals can be counted.
pub fn numbered_lines(range: std::ops::Range<u32>) -> String {
    range.map(|i| format!("line {i} of the app\n")).collect()
}

/// How many times each `line <i>` arrived.
pub fn line_arrivals(receiver: &OtlpReceiver) -> std::collections::BTreeMap<u32, usize> {
    let mut seen = std::collections::BTreeMap::new();
    for r in receiver.records() {
        if let Some(n) = body_text(&r)
            .strip_prefix("line ")
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
        {
            *seen.entry(n).or_insert(0) += 1;
        }
    }
    seen
}
