//! Disk buffer frames ↔ records.
//!
//! A frame is an OTLP `ExportLogsServiceRequest` (written by the same encoder
//! the OTLP exporter uses), so the resource of the run that wrote it travels
//! with its records. Reading one back decodes it with `opentelemetry-proto`'s
//! prost types and rebuilds our records: `log.iostream` and the
//! `logwrap.split.*` attributes become the record's stream and split again.

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;

use crate::export::otlp_proto::{RequestEncoder, SPLIT_ID, SPLIT_INDEX, SPLIT_LAST};
use crate::record::{Record, Severity, SeverityNumber, Split, Str, Stream, Value};

/// Encodes records as a frame payload.
pub fn encode(encoder: &RequestEncoder, records: &[Record]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * 200);
    encoder.encode(records, &mut out);
    out
}

/// A frame's resource and records.
pub struct Decoded {
    pub resource: Vec<(Str, Value)>,
    pub records: Vec<Record>,
}

/// Decodes a frame payload.
pub fn decode(payload: &[u8]) -> Result<Decoded, prost::DecodeError> {
    let request = ExportLogsServiceRequest::decode(payload)?;
    let mut resource = Vec::new();
    let mut records = Vec::new();
    for rl in request.resource_logs {
        if resource.is_empty()
            && let Some(r) = rl.resource
        {
            resource = r.attributes.into_iter().map(key_value).collect();
        }
        for sl in rl.scope_logs {
            records.extend(sl.log_records.into_iter().map(|lr| {
                let mut stream = Stream::Lifecycle;
                let mut split = (None, None, None);
                let mut attributes = Vec::new();
                for (k, v) in lr.attributes.into_iter().map(key_value) {
                    match (k.as_str(), &v) {
                        ("log.iostream", Value::Str(s)) if s.as_str() == "stdout" => {
                            stream = Stream::Stdout
                        }
                        ("log.iostream", Value::Str(s)) if s.as_str() == "stderr" => {
                            stream = Stream::Stderr
                        }
                        (SPLIT_ID, Value::Int(i)) => split.0 = Some(*i as u64),
                        (SPLIT_INDEX, Value::Int(i)) => split.1 = Some(*i as u32),
                        (SPLIT_LAST, Value::Bool(b)) => split.2 = Some(*b),
                        _ => attributes.push((k, v)),
                    }
                }
                let body = lr.body.map(any_value).unwrap_or(Value::Empty);
                let mut r = Record::new(stream, lr.observed_time_unix_nano, body);
                r.time_unix_nano = lr.time_unix_nano;
                r.severity = Severity {
                    number: SeverityNumber(lr.severity_number.clamp(0, 24) as u8),
                    text: Str::from(lr.severity_text),
                };
                if let (Some(id), Some(index), Some(last)) = split {
                    r.split = Some(Split { id, index, last });
                }
                r.attributes = attributes;
                r.trace_id = lr.trace_id.try_into().unwrap_or([0; 16]);
                r.span_id = lr.span_id.try_into().unwrap_or([0; 8]);
                r.flags = lr.flags;
                r.event_name = Str::from(lr.event_name);
                r
            }));
        }
    }
    Ok(Decoded { resource, records })
}

fn key_value(kv: KeyValue) -> (Str, Value) {
    (
        Str::from(kv.key),
        kv.value.map(any_value).unwrap_or(Value::Empty),
    )
}

fn any_value(v: AnyValue) -> Value {
    match v.value {
        Some(any_value::Value::StringValue(s)) => Value::Str(Str::from(s)),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(b),
        Some(any_value::Value::IntValue(i)) => Value::Int(i),
        Some(any_value::Value::DoubleValue(d)) => Value::Double(d),
        Some(any_value::Value::BytesValue(b)) => Value::Bytes(Bytes::from(b)),
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.into_iter().map(any_value).collect())
        }
        Some(any_value::Value::KvlistValue(l)) => {
            Value::Map(l.values.into_iter().map(key_value).collect())
        }
        _ => Value::Empty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_the_round_trip() {
        let resource = vec![(Str::from("service.name"), Value::Str(Str::from("svc")))];
        let encoder = RequestEncoder::new(&resource, "logwrap", "1");
        let mut r = Record::new(Stream::Stderr, 42, Value::Str(Str::from("boom")));
        r.time_unix_nano = 41;
        r.severity = Severity {
            number: SeverityNumber::ERROR,
            text: Str::from("ERROR"),
        };
        r.split = Some(Split {
            id: 1,
            index: 2,
            last: true,
        });
        r.attributes.push((
            Str::from("k"),
            Value::Map(vec![(Str::from("n"), Value::Int(-1))]),
        ));
        r.trace_id = [7; 16];
        r.span_id = [8; 8];
        r.flags = 1;
        let mut lifecycle = Record::new(
            Stream::Lifecycle,
            1,
            Value::Bytes(Bytes::from_static(b"\xff")),
        );
        lifecycle.event_name = Str::from("logwrap.process.exit");
        let decoded = decode(&encode(&encoder, &[r.clone(), lifecycle.clone()])).unwrap();
        assert_eq!(decoded.resource, resource);
        assert_eq!(decoded.records, vec![r, lifecycle]);
    }
}
