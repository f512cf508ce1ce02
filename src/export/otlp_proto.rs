//! Encodes `ExportLogsServiceRequest` in the protobuf wire format, directly.
//!
//! ```text
//!  &[Record] + pre-encoded Resource and Scope ──encode()──► Vec<u8> (one request)
//! ```
//!
//! Why not build `opentelemetry-proto`'s prost structs and call `encode`? Those
//! structs own a `String` for every body, key and value and a `Vec` for every
//! attribute list, so each record would cost several allocations and copies
//! before prost walks it twice (length, then bytes). Our records already hold
//! their text in shared buffers; writing the wire format from them directly
//! costs one pass to size and one to write, and no allocation per record. The
//! field numbers are those of `opentelemetry/proto/{collector/logs,logs,common,
//! resource}/v1/*.proto`; the tests decode our output with the prost types of
//! the `opentelemetry-proto` crate, so the two cannot drift apart silently.
//!
//! Pure and synchronous: no I/O, no clock.

use super::wire::{field_len, put_bytes_field, put_len_field, put_varint, varint_len};
use crate::record::{Record, Split, Str, Value};

use super::wire::{I32, I64, LEN, VARINT, tag};

// ExportLogsServiceRequest / ResourceLogs / ScopeLogs
const REQUEST_RESOURCE_LOGS: u8 = tag(1, LEN);
const RESOURCE_LOGS_RESOURCE: u8 = tag(1, LEN);
const RESOURCE_LOGS_SCOPE_LOGS: u8 = tag(2, LEN);
const SCOPE_LOGS_SCOPE: u8 = tag(1, LEN);
const SCOPE_LOGS_LOG_RECORDS: u8 = tag(2, LEN);
// LogRecord
const LR_TIME: u8 = tag(1, I64);
const LR_SEVERITY_NUMBER: u8 = tag(2, VARINT);
const LR_SEVERITY_TEXT: u8 = tag(3, LEN);
const LR_BODY: u8 = tag(5, LEN);
const LR_ATTRIBUTES: u8 = tag(6, LEN);
const LR_FLAGS: u8 = tag(8, I32);
const LR_TRACE_ID: u8 = tag(9, LEN);
const LR_SPAN_ID: u8 = tag(10, LEN);
const LR_OBSERVED_TIME: u8 = tag(11, I64);
const LR_EVENT_NAME: u8 = tag(12, LEN);
// AnyValue
const AV_STRING: u8 = tag(1, LEN);
const AV_BOOL: u8 = tag(2, VARINT);
const AV_INT: u8 = tag(3, VARINT);
const AV_DOUBLE: u8 = tag(4, I64);
const AV_ARRAY: u8 = tag(5, LEN);
const AV_KVLIST: u8 = tag(6, LEN);
const AV_BYTES: u8 = tag(7, LEN);
// KeyValue, ArrayValue, KeyValueList, Resource, InstrumentationScope
const KV_KEY: u8 = tag(1, LEN);
const KV_VALUE: u8 = tag(2, LEN);
const LIST_VALUES: u8 = tag(1, LEN);
const RESOURCE_ATTRIBUTES: u8 = tag(1, LEN);
const SCOPE_NAME: u8 = tag(1, LEN);
const SCOPE_VERSION: u8 = tag(2, LEN);

/// Encoded size of an `AnyValue` message body.
fn any_value_len(v: &Value) -> usize {
    match v {
        Value::Str(s) => field_len(s.len()),
        Value::Bytes(b) => field_len(b.len()),
        Value::Bool(_) => 2,
        Value::Int(i) => 1 + varint_len(*i as u64),
        Value::Double(_) => 9,
        Value::Array(items) => field_len(array_len(items)),
        Value::Map(entries) => field_len(kvlist_len(entries)),
        Value::Empty => 0,
    }
}

fn array_len(items: &[Value]) -> usize {
    items.iter().map(|v| field_len(any_value_len(v))).sum()
}

fn kvlist_len(entries: &[(Str, Value)]) -> usize {
    entries
        .iter()
        .map(|(k, v)| field_len(key_value_len(k.as_bytes(), v)))
        .sum()
}

/// Encoded size of a `KeyValue` message body.
fn key_value_len(key: &[u8], v: &Value) -> usize {
    field_len(key.len()) + field_len(any_value_len(v))
}

fn put_any_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => put_bytes_field(out, AV_STRING, s.as_bytes()),
        Value::Bytes(b) => put_bytes_field(out, AV_BYTES, b),
        Value::Bool(b) => {
            out.push(AV_BOOL);
            out.push(*b as u8);
        }
        Value::Int(i) => {
            out.push(AV_INT);
            put_varint(out, *i as u64);
        }
        Value::Double(d) => {
            out.push(AV_DOUBLE);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Array(items) => {
            put_len_field(out, AV_ARRAY, array_len(items));
            for item in items {
                put_len_field(out, LIST_VALUES, any_value_len(item));
                put_any_value(out, item);
            }
        }
        Value::Map(entries) => {
            put_len_field(out, AV_KVLIST, kvlist_len(entries));
            for (k, v) in entries {
                put_key_value(out, LIST_VALUES, k.as_bytes(), v);
            }
        }
        Value::Empty => {}
    }
}

/// Writes a `KeyValue` as field `tag` of the enclosing message.
fn put_key_value(out: &mut Vec<u8>, tag: u8, key: &[u8], v: &Value) {
    put_len_field(out, tag, key_value_len(key, v));
    put_bytes_field(out, KV_KEY, key);
    put_len_field(out, KV_VALUE, any_value_len(v));
    put_any_value(out, v);
}

/// Pre-encoded `log.iostream` attributes, one per stream: every record has one.
struct FixedAttributes {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl FixedAttributes {
    fn new() -> Self {
        let encode = |value: &'static str| {
            let mut out = Vec::new();
            put_key_value(
                &mut out,
                LR_ATTRIBUTES,
                b"log.iostream",
                &Value::Str(Str::from_static(value)),
            );
            out
        };
        FixedAttributes {
            stdout: encode("stdout"),
            stderr: encode("stderr"),
        }
    }
}

pub const SPLIT_ID: &str = "logwrap.split.id";
pub const SPLIT_INDEX: &str = "logwrap.split.index";
pub const SPLIT_LAST: &str = "logwrap.split.last";

fn split_attributes(split: &Split) -> [(&'static str, Value); 3] {
    [
        (SPLIT_ID, Value::Int(split.id as i64)),
        (SPLIT_INDEX, Value::Int(split.index as i64)),
        (SPLIT_LAST, Value::Bool(split.last)),
    ]
}

/// Encodes batches of records for one resource and scope.
pub struct RequestEncoder {
    /// `Resource` message body.
    resource: Vec<u8>,
    /// `InstrumentationScope` message body.
    scope: Vec<u8>,
    fixed: FixedAttributes,
}

impl RequestEncoder {
    pub fn new(
        resource_attributes: &[(Str, Value)],
        scope_name: &str,
        scope_version: &str,
    ) -> Self {
        let mut resource = Vec::new();
        for (k, v) in resource_attributes {
            put_key_value(&mut resource, RESOURCE_ATTRIBUTES, k.as_bytes(), v);
        }
        let mut scope = Vec::new();
        put_bytes_field(&mut scope, SCOPE_NAME, scope_name.as_bytes());
        put_bytes_field(&mut scope, SCOPE_VERSION, scope_version.as_bytes());
        RequestEncoder {
            resource,
            scope,
            fixed: FixedAttributes::new(),
        }
    }

    /// Appends one `ExportLogsServiceRequest` holding `records` to `out`.
    pub fn encode(&self, records: &[Record], out: &mut Vec<u8>) {
        // One allocation per batch: each record's size, computed once.
        let sizes: Vec<usize> = records.iter().map(|r| self.record_len(r)).collect();
        let scope_logs_len =
            field_len(self.scope.len()) + sizes.iter().map(|&len| field_len(len)).sum::<usize>();
        let resource_logs_len = field_len(self.resource.len()) + field_len(scope_logs_len);
        out.reserve(field_len(resource_logs_len));

        put_len_field(out, REQUEST_RESOURCE_LOGS, resource_logs_len);
        put_bytes_field(out, RESOURCE_LOGS_RESOURCE, &self.resource);
        put_len_field(out, RESOURCE_LOGS_SCOPE_LOGS, scope_logs_len);
        put_bytes_field(out, SCOPE_LOGS_SCOPE, &self.scope);
        for (r, &len) in records.iter().zip(&sizes) {
            put_len_field(out, SCOPE_LOGS_LOG_RECORDS, len);
            self.put_record(out, r);
        }
    }

    fn fixed_attribute(&self, r: &Record) -> &[u8] {
        match r.stream {
            crate::record::Stream::Stdout => &self.fixed.stdout,
            crate::record::Stream::Stderr => &self.fixed.stderr,
            crate::record::Stream::Lifecycle | crate::record::Stream::File => &[],
        }
    }

    fn record_len(&self, r: &Record) -> usize {
        let mut len = 0;
        if r.time_unix_nano != 0 {
            len += 9;
        }
        if r.severity.number.0 != 0 {
            len += 1 + varint_len(r.severity.number.0 as u64);
        }
        if !r.severity.text.is_empty() {
            len += field_len(r.severity.text.len());
        }
        len += field_len(any_value_len(&r.body));
        len += self.fixed_attribute(r).len();
        if let Some(split) = &r.split {
            for (k, v) in &split_attributes(split) {
                len += field_len(key_value_len(k.as_bytes(), v));
            }
        }
        for (k, v) in &r.attributes {
            len += field_len(key_value_len(k.as_bytes(), v));
        }
        if r.flags != 0 {
            len += 5;
        }
        if r.trace_id != [0; 16] {
            len += field_len(16);
        }
        if r.span_id != [0; 8] {
            len += field_len(8);
        }
        len += 9; // observed time, always set
        if !r.event_name.is_empty() {
            len += field_len(r.event_name.len());
        }
        len
    }

    /// Writes the fields in field-number order, as prost does, so that byte
    /// comparisons against prost's output are possible in tests.
    fn put_record(&self, out: &mut Vec<u8>, r: &Record) {
        if r.time_unix_nano != 0 {
            out.push(LR_TIME);
            out.extend_from_slice(&r.time_unix_nano.to_le_bytes());
        }
        if r.severity.number.0 != 0 {
            out.push(LR_SEVERITY_NUMBER);
            put_varint(out, r.severity.number.0 as u64);
        }
        if !r.severity.text.is_empty() {
            put_bytes_field(out, LR_SEVERITY_TEXT, r.severity.text.as_bytes());
        }
        put_len_field(out, LR_BODY, any_value_len(&r.body));
        put_any_value(out, &r.body);
        out.extend_from_slice(self.fixed_attribute(r));
        if let Some(split) = &r.split {
            for (k, v) in &split_attributes(split) {
                put_key_value(out, LR_ATTRIBUTES, k.as_bytes(), v);
            }
        }
        for (k, v) in &r.attributes {
            put_key_value(out, LR_ATTRIBUTES, k.as_bytes(), v);
        }
        if r.flags != 0 {
            out.push(LR_FLAGS);
            out.extend_from_slice(&r.flags.to_le_bytes());
        }
        if r.trace_id != [0; 16] {
            put_bytes_field(out, LR_TRACE_ID, &r.trace_id);
        }
        if r.span_id != [0; 8] {
            put_bytes_field(out, LR_SPAN_ID, &r.span_id);
        }
        out.push(LR_OBSERVED_TIME);
        out.extend_from_slice(&r.observed_unix_nano.to_le_bytes());
        if !r.event_name.is_empty() {
            put_bytes_field(out, LR_EVENT_NAME, r.event_name.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Severity, SeverityNumber, Stream};
    use bytes::Bytes;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use prost::Message;

    fn decode(bytes: &[u8]) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest::decode(bytes).expect("valid protobuf")
    }

    fn string_value(v: &Option<AnyValue>) -> Option<&str> {
        match v.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s),
            _ => None,
        }
    }

    fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
        attrs
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref()?.value.as_ref())
    }

    #[test]
    fn varint_lengths() {
        for (v, n) in [
            (0u64, 1),
            (127, 1),
            (128, 2),
            (16383, 2),
            (16384, 3),
            (u64::MAX, 10),
        ] {
            assert_eq!(varint_len(v), n, "{v}");
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), n);
        }
    }

    #[test]
    fn a_plain_record_decodes_with_the_official_types() {
        let resource = vec![
            (Str::from("service.name"), Value::Str(Str::from("svc"))),
            (Str::from("process.pid"), Value::Int(4242)),
        ];
        let enc = RequestEncoder::new(&resource, "logwrap", "9.9.9");
        let mut r = Record::new(
            Stream::Stderr,
            1_700_000_000_123_456_789,
            Value::Str(Str::from("boom")),
        );
        r.severity = Severity {
            number: SeverityNumber::ERROR,
            text: Str::from("ERROR"),
        };
        let mut out = Vec::new();
        enc.encode(&[r], &mut out);

        let req = decode(&out);
        assert_eq!(req.resource_logs.len(), 1);
        let rl = &req.resource_logs[0];
        let res = rl.resource.as_ref().unwrap();
        assert_eq!(string_value(&res.attributes[0].value), Some("svc"));
        assert_eq!(
            attr(&res.attributes, "process.pid"),
            Some(&any_value::Value::IntValue(4242))
        );
        let sl = &rl.scope_logs[0];
        let scope = sl.scope.as_ref().unwrap();
        assert_eq!(
            (scope.name.as_str(), scope.version.as_str()),
            ("logwrap", "9.9.9")
        );
        let lr = &sl.log_records[0];
        assert_eq!(lr.observed_time_unix_nano, 1_700_000_000_123_456_789);
        assert_eq!(lr.time_unix_nano, 0);
        assert_eq!(lr.severity_number, 17);
        assert_eq!(lr.severity_text, "ERROR");
        assert_eq!(string_value(&lr.body), Some("boom"));
        assert_eq!(
            attr(&lr.attributes, "log.iostream"),
            Some(&any_value::Value::StringValue("stderr".into()))
        );
        assert!(lr.trace_id.is_empty() && lr.span_id.is_empty());
    }

    #[test]
    fn every_value_kind_and_field_round_trips() {
        let enc = RequestEncoder::new(&[], "s", "v");
        let nested = Value::Map(vec![
            (Str::from("neg"), Value::Int(-5)),
            (Str::from("pi"), Value::Double(3.25)),
            (Str::from("yes"), Value::Bool(true)),
            (Str::from("nothing"), Value::Empty),
            (
                Str::from("list"),
                Value::Array(vec![Value::Str(Str::from("")), Value::Int(i64::MIN)]),
            ),
        ]);
        let mut r = Record::new(
            Stream::Stdout,
            5,
            Value::Bytes(Bytes::from_static(b"\xff\x00")),
        );
        r.time_unix_nano = 4;
        r.attributes.push((Str::from("nested"), nested));
        r.split = Some(Split {
            id: 3,
            index: 1,
            last: true,
        });
        r.trace_id = [0xab; 16];
        r.span_id = [0xcd; 8];
        r.flags = 1;
        r.event_name = Str::from("process.exit");
        let mut out = Vec::new();
        enc.encode(&[r.clone(), r], &mut out);

        let req = decode(&out);
        let records = &req.resource_logs[0].scope_logs[0].log_records;
        assert_eq!(records.len(), 2);
        let lr = &records[1];
        assert_eq!(lr.time_unix_nano, 4);
        assert_eq!(lr.observed_time_unix_nano, 5);
        assert_eq!(lr.severity_number, 0);
        assert_eq!(lr.severity_text, "");
        assert_eq!(
            lr.body.as_ref().unwrap().value,
            Some(any_value::Value::BytesValue(vec![0xff, 0]))
        );
        assert_eq!(lr.trace_id, vec![0xab; 16]);
        assert_eq!(lr.span_id, vec![0xcd; 8]);
        assert_eq!(lr.flags, 1);
        assert_eq!(lr.event_name, "process.exit");
        assert_eq!(
            attr(&lr.attributes, SPLIT_ID),
            Some(&any_value::Value::IntValue(3))
        );
        assert_eq!(
            attr(&lr.attributes, SPLIT_INDEX),
            Some(&any_value::Value::IntValue(1))
        );
        assert_eq!(
            attr(&lr.attributes, SPLIT_LAST),
            Some(&any_value::Value::BoolValue(true))
        );
        let Some(any_value::Value::KvlistValue(kv)) = attr(&lr.attributes, "nested") else {
            panic!("nested map expected");
        };
        assert_eq!(
            attr(&kv.values, "neg"),
            Some(&any_value::Value::IntValue(-5))
        );
        assert_eq!(
            attr(&kv.values, "pi"),
            Some(&any_value::Value::DoubleValue(3.25))
        );
        assert_eq!(
            attr(&kv.values, "yes"),
            Some(&any_value::Value::BoolValue(true))
        );
        let empty = kv.values.iter().find(|e| e.key == "nothing").unwrap();
        assert_eq!(empty.value.as_ref().unwrap().value, None);
        let Some(any_value::Value::ArrayValue(list)) = attr(&kv.values, "list") else {
            panic!("array expected");
        };
        assert_eq!(
            list.values[0].value,
            Some(any_value::Value::StringValue(String::new()))
        );
        assert_eq!(
            list.values[1].value,
            Some(any_value::Value::IntValue(i64::MIN))
        );
    }

    #[test]
    fn output_is_byte_identical_to_prost() {
        // Same message through prost: our encoder writes fields in the same order.
        let enc = RequestEncoder::new(&[(Str::from("k"), Value::Str(Str::from("v")))], "s", "1");
        let mut r = Record::new(Stream::Stdout, 99, Value::Str(Str::from("hello")));
        r.severity = Severity {
            number: SeverityNumber::INFO,
            text: Str::from("INFO"),
        };
        r.attributes.push((Str::from("a"), Value::Int(300)));
        let mut ours = Vec::new();
        enc.encode(&[r], &mut ours);
        let theirs = decode(&ours).encode_to_vec();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn empty_batch_is_still_a_valid_request() {
        let enc = RequestEncoder::new(&[], "s", "v");
        let mut out = Vec::new();
        enc.encode(&[], &mut out);
        assert!(
            decode(&out).resource_logs[0].scope_logs[0]
                .log_records
                .is_empty()
        );
    }
}
