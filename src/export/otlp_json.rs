//! Encodes `ExportLogsServiceRequest` as OTLP/JSON, directly.
//!
//! The OTLP/JSON rules (opentelemetry-proto `docs/specification.md`, "JSON
//! Protobuf Encoding") differ from plain proto3 JSON in ways shippers get
//! wrong: trace and span ids are hex strings (not base64), enums are integers
//! (`"severityNumber": 9`), field names are lowerCamelCase, and 64-bit
//! integers (`timeUnixNano`, `intValue`) are decimal strings. Bytes values are
//! base64. The tests decode our output with `opentelemetry-proto`'s serde
//! types, which implement those rules, so a deviation fails there.
//!
//! Same shape as [`super::otlp_proto::RequestEncoder`]: the resource and scope
//! are rendered once. Records come either as [`Record`]s (`encode`) or, on
//! the export path, as the chunks the readers encoded (`frame`), which are
//! transcoded from their protobuf fields straight into JSON: no record is
//! rebuilt, nothing is allocated per field.

use std::io::Write as _;

use base64::Engine;

use super::json::{write_decimal, write_hex, write_str};
use super::otlp_proto::{SPLIT_ID, SPLIT_INDEX, SPLIT_LAST};
use crate::encode::DecodeError;
use crate::encode::log_record::record_ranges;
use crate::encode::wire::{FieldReader, FieldValue};
use crate::record::{Record, Str, Value};

/// Encodes batches of records for one resource and scope as OTLP/JSON.
pub struct JsonRequestEncoder {
    /// `"resource":{...},"scopeLogs":[{"scope":{...},"logRecords":[`
    head: Vec<u8>,
}

impl JsonRequestEncoder {
    pub fn new(resource: &[(Str, Value)], scope_name: &str, scope_version: &str) -> Self {
        let mut head = Vec::new();
        head.extend_from_slice(b"{\"resourceLogs\":[{\"resource\":{\"attributes\":");
        write_key_values(&mut head, resource.iter().map(|(k, v)| (k.as_str(), v)));
        head.extend_from_slice(b"},\"scopeLogs\":[{\"scope\":{\"name\":");
        write_str(&mut head, scope_name);
        head.extend_from_slice(b",\"version\":");
        write_str(&mut head, scope_version);
        head.extend_from_slice(b"},\"logRecords\":[");
        JsonRequestEncoder { head }
    }

    /// Appends one request holding the chunks' records (our own protobuf
    /// `log_records` fields) to `out`.
    pub fn frame<'a>(
        &self,
        chunks: impl Iterator<Item = &'a [u8]>,
        out: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        out.extend_from_slice(&self.head);
        let mut first = true;
        for chunk in chunks {
            for range in record_ranges(chunk) {
                if !std::mem::take(&mut first) {
                    out.push(b',');
                }
                transcode_record(out, chunk, range?)?;
            }
        }
        out.extend_from_slice(b"]}]}]}");
        Ok(())
    }

    /// Appends one request holding `records` to `out`.
    pub fn encode(&self, records: &[Record], out: &mut Vec<u8>) {
        out.extend_from_slice(&self.head);
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_record(out, r);
        }
        out.extend_from_slice(b"]}]}]}");
    }
}

fn write_record(out: &mut Vec<u8>, r: &Record) {
    out.push(b'{');
    if r.time_unix_nano != 0 {
        let _ = write!(out, "\"timeUnixNano\":\"{}\",", r.time_unix_nano);
    }
    let _ = write!(out, "\"observedTimeUnixNano\":\"{}\"", r.observed_unix_nano);
    if r.severity.number.0 != 0 {
        let _ = write!(out, ",\"severityNumber\":{}", r.severity.number.0);
    }
    if !r.severity.text.is_empty() {
        out.extend_from_slice(b",\"severityText\":");
        write_str(out, r.severity.text.as_str());
    }
    out.extend_from_slice(b",\"body\":");
    write_any_value(out, &r.body);
    out.extend_from_slice(b",\"attributes\":");
    let iostream = r.stream.iostream().map(|s| Value::Str(Str::from_static(s)));
    let split = r.split.map(|s| {
        [
            (SPLIT_ID, Value::Int(s.id as i64)),
            (SPLIT_INDEX, Value::Int(s.index as i64)),
            (SPLIT_LAST, Value::Bool(s.last)),
        ]
    });
    let fixed = iostream.iter().map(|v| ("log.iostream", v));
    let split_attrs = split.iter().flat_map(|a| a.iter().map(|(k, v)| (*k, v)));
    let rest = r.attributes.iter().map(|(k, v)| (k.as_str(), v));
    write_key_values(out, fixed.chain(split_attrs).chain(rest));
    if r.flags != 0 {
        let _ = write!(out, ",\"flags\":{}", r.flags);
    }
    if r.trace_id != [0; 16] {
        out.extend_from_slice(b",\"traceId\":");
        write_hex(out, &r.trace_id);
    }
    if r.span_id != [0; 8] {
        out.extend_from_slice(b",\"spanId\":");
        write_hex(out, &r.span_id);
    }
    if !r.event_name.is_empty() {
        out.extend_from_slice(b",\"eventName\":");
        write_str(out, r.event_name.as_str());
    }
    out.push(b'}');
}

/// Writes a protobuf string as a JSON string (lossy if it is not UTF-8,
/// which our own encoder never writes).
fn write_wire_str(out: &mut Vec<u8>, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => write_str(out, s),
        Err(_) => write_str(out, &String::from_utf8_lossy(bytes)),
    }
}

/// One `LogRecord` (wire) as its OTLP/JSON object, fields in the order
/// [`write_record`] writes them.
fn transcode_record(
    out: &mut Vec<u8>,
    buf: &[u8],
    range: std::ops::Range<usize>,
) -> Result<(), DecodeError> {
    let (mut time, mut observed, mut number, mut flags) = (0u64, 0u64, 0u64, 0u32);
    let (mut text, mut body, mut trace, mut span, mut event) = (None, None, None, None, None);
    // The attributes are consecutive fields: where the run starts and ends.
    let mut attributes: Option<std::ops::Range<usize>> = None;
    let mut reader = FieldReader::new(buf, range.clone());
    let mut field_start = range.start;
    while let Some(field) = reader.next() {
        let (number_, value) = field?;
        match (number_, value) {
            (1, FieldValue::Fixed64(t)) => time = t,
            (2, FieldValue::Varint(n)) => number = n,
            (3, FieldValue::Len(r)) => text = Some(r),
            (5, FieldValue::Len(r)) => body = Some(r),
            (6, FieldValue::Len(r)) => {
                attributes = Some(attributes.map_or(field_start..r.end, |a| a.start..r.end));
            }
            (8, FieldValue::Fixed32(f)) => flags = f,
            (9, FieldValue::Len(r)) => trace = Some(r),
            (10, FieldValue::Len(r)) => span = Some(r),
            (11, FieldValue::Fixed64(t)) => observed = t,
            (12, FieldValue::Len(r)) => event = Some(r),
            _ => {}
        }
        field_start = reader.position();
    }
    out.push(b'{');
    if time != 0 {
        out.extend_from_slice(b"\"timeUnixNano\":\"");
        write_decimal(out, time);
        out.extend_from_slice(b"\",");
    }
    out.extend_from_slice(b"\"observedTimeUnixNano\":\"");
    write_decimal(out, observed);
    out.push(b'"');
    if number != 0 {
        out.extend_from_slice(b",\"severityNumber\":");
        write_decimal(out, number);
    }
    if let Some(r) = text.filter(|r| !r.is_empty()) {
        out.extend_from_slice(b",\"severityText\":");
        write_wire_str(out, &buf[r]);
    }
    out.extend_from_slice(b",\"body\":");
    match body {
        Some(r) => transcode_any_value(out, buf, r, 0)?,
        None => out.extend_from_slice(b"{}"),
    }
    out.extend_from_slice(b",\"attributes\":[");
    if let Some(run) = attributes {
        let mut first = true;
        for field in FieldReader::new(buf, run) {
            if let (6, FieldValue::Len(kv)) = field? {
                if !std::mem::take(&mut first) {
                    out.push(b',');
                }
                transcode_key_value(out, buf, kv, 0)?;
            }
        }
    }
    out.push(b']');
    if flags != 0 {
        out.extend_from_slice(b",\"flags\":");
        write_decimal(out, u64::from(flags));
    }
    if let Some(r) = trace.filter(|r| r.len() == 16) {
        out.extend_from_slice(b",\"traceId\":");
        write_hex(out, &buf[r]);
    }
    if let Some(r) = span.filter(|r| r.len() == 8) {
        out.extend_from_slice(b",\"spanId\":");
        write_hex(out, &buf[r]);
    }
    if let Some(r) = event.filter(|r| !r.is_empty()) {
        out.extend_from_slice(b",\"eventName\":");
        write_wire_str(out, &buf[r]);
    }
    out.push(b'}');
    Ok(())
}

/// Nesting deeper than this is refused (our encoder never writes it).
const MAX_DEPTH: usize = 128;

fn transcode_key_value(
    out: &mut Vec<u8>,
    buf: &[u8],
    range: std::ops::Range<usize>,
    depth: usize,
) -> Result<(), DecodeError> {
    let (mut key, mut value) = (None, None);
    for field in FieldReader::new(buf, range) {
        match field? {
            (1, FieldValue::Len(r)) => key = Some(r),
            (2, FieldValue::Len(r)) => value = Some(r),
            _ => {}
        }
    }
    out.extend_from_slice(b"{\"key\":");
    write_wire_str(out, key.map_or(&[][..], |r| &buf[r]));
    out.extend_from_slice(b",\"value\":");
    match value {
        Some(r) => transcode_any_value(out, buf, r, depth)?,
        None => out.extend_from_slice(b"{}"),
    }
    out.push(b'}');
    Ok(())
}

fn transcode_any_value(
    out: &mut Vec<u8>,
    buf: &[u8],
    range: std::ops::Range<usize>,
    depth: usize,
) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError("values nest too deep"));
    }
    let mut value = None;
    for field in FieldReader::new(buf, range) {
        value = Some(field?);
    }
    match value {
        Some((1, FieldValue::Len(r))) => {
            out.extend_from_slice(b"{\"stringValue\":");
            write_wire_str(out, &buf[r]);
            out.push(b'}');
        }
        Some((2, FieldValue::Varint(b))) => out.extend_from_slice(if b != 0 {
            b"{\"boolValue\":true}"
        } else {
            b"{\"boolValue\":false}"
        }),
        Some((3, FieldValue::Varint(i))) => {
            out.extend_from_slice(b"{\"intValue\":\"");
            let i = i as i64;
            if i < 0 {
                out.push(b'-');
            }
            write_decimal(out, i.unsigned_abs());
            out.extend_from_slice(b"\"}");
        }
        Some((4, FieldValue::Fixed64(d))) => {
            write_any_value(out, &Value::Double(f64::from_bits(d)))
        }
        Some((5, FieldValue::Len(list))) => {
            out.extend_from_slice(b"{\"arrayValue\":{\"values\":[");
            let mut first = true;
            for item in FieldReader::new(buf, list) {
                if let (1, FieldValue::Len(v)) = item? {
                    if !std::mem::take(&mut first) {
                        out.push(b',');
                    }
                    transcode_any_value(out, buf, v, depth + 1)?;
                }
            }
            out.extend_from_slice(b"]}}");
        }
        Some((6, FieldValue::Len(list))) => {
            out.extend_from_slice(b"{\"kvlistValue\":{\"values\":[");
            let mut first = true;
            for entry in FieldReader::new(buf, list) {
                if let (1, FieldValue::Len(kv)) = entry? {
                    if !std::mem::take(&mut first) {
                        out.push(b',');
                    }
                    transcode_key_value(out, buf, kv, depth + 1)?;
                }
            }
            out.extend_from_slice(b"]}}");
        }
        Some((7, FieldValue::Len(r))) => {
            out.extend_from_slice(b"{\"bytesValue\":\"");
            out.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(&buf[r])
                    .as_bytes(),
            );
            out.extend_from_slice(b"\"}");
        }
        _ => out.extend_from_slice(b"{}"),
    }
    Ok(())
}

fn write_key_values<'a>(out: &mut Vec<u8>, kvs: impl Iterator<Item = (&'a str, &'a Value)>) {
    out.push(b'[');
    for (i, (k, v)) in kvs.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"key\":");
        write_str(out, k);
        out.extend_from_slice(b",\"value\":");
        write_any_value(out, v);
        out.push(b'}');
    }
    out.push(b']');
}

fn write_any_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => {
            out.extend_from_slice(b"{\"stringValue\":");
            write_str(out, s.as_str());
            out.push(b'}');
        }
        Value::Bool(b) => out.extend_from_slice(if *b {
            b"{\"boolValue\":true}"
        } else {
            b"{\"boolValue\":false}"
        }),
        Value::Int(i) => {
            let _ = write!(out, "{{\"intValue\":\"{i}\"}}");
        }
        Value::Double(d) => {
            out.extend_from_slice(b"{\"doubleValue\":");
            if d.is_finite() {
                serde_json::to_writer(&mut *out, d).expect("writing to a Vec cannot fail");
            } else if d.is_nan() {
                out.extend_from_slice(b"\"NaN\"");
            } else if *d > 0.0 {
                out.extend_from_slice(b"\"Infinity\"");
            } else {
                out.extend_from_slice(b"\"-Infinity\"");
            }
            out.push(b'}');
        }
        Value::Bytes(b) => {
            out.extend_from_slice(b"{\"bytesValue\":\"");
            out.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(b)
                    .as_bytes(),
            );
            out.extend_from_slice(b"\"}");
        }
        Value::Array(items) => {
            out.extend_from_slice(b"{\"arrayValue\":{\"values\":[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_any_value(out, item);
            }
            out.extend_from_slice(b"]}}");
        }
        Value::Map(entries) => {
            out.extend_from_slice(b"{\"kvlistValue\":{\"values\":");
            write_key_values(out, entries.iter().map(|(k, v)| (k.as_str(), v)));
            out.extend_from_slice(b"}}");
        }
        Value::Empty => out.extend_from_slice(b"{}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Severity, SeverityNumber, Split, Stream};
    use bytes::Bytes;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value;

    fn attr<'a>(
        attrs: &'a [opentelemetry_proto::tonic::common::v1::KeyValue],
        key: &str,
    ) -> Option<&'a any_value::Value> {
        attrs
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref()?.value.as_ref())
    }

    #[test]
    fn chunks_transcode_to_the_same_json_as_records() {
        let enc = JsonRequestEncoder::new(&[], "logwrap", "1");
        let mut full = Record::new(
            Stream::Stderr,
            7,
            Value::Map(vec![
                (Str::from("n"), Value::Int(-3)),
                (Str::from("d"), Value::Double(0.5)),
                (Str::from("nan"), Value::Double(f64::NAN)),
                (
                    Str::from("a"),
                    Value::Array(vec![
                        Value::Bool(true),
                        Value::Bytes(Bytes::from_static(b"\xff")),
                    ]),
                ),
                (Str::from("e"), Value::Empty),
            ]),
        );
        full.time_unix_nano = 6;
        full.severity = Severity {
            number: SeverityNumber::WARN,
            text: Str::from("warn \"x\""),
        };
        full.split = Some(Split {
            id: 1,
            index: 0,
            last: false,
        });
        full.attributes
            .push((Str::from("k"), Value::Str(Str::from("v\n"))));
        full.trace_id = [1; 16];
        full.span_id = [2; 8];
        full.flags = 1;
        full.event_name = Str::from("ev");
        let records = vec![
            full,
            Record::new(Stream::Lifecycle, 1, Value::Empty),
            Record::new(Stream::Stdout, 2, Value::Str(Str::from("plain"))),
        ];
        let mut from_records = Vec::new();
        enc.encode(&records, &mut from_records);
        let chunks = [
            crate::encode::chunk_of(&records[..1]),
            crate::encode::chunk_of(&records[1..]),
        ];
        let mut from_chunks = Vec::new();
        enc.frame(chunks.iter().map(|c| &c.bytes[..]), &mut from_chunks)
            .unwrap();
        assert_eq!(
            String::from_utf8(from_chunks).unwrap(),
            String::from_utf8(from_records).unwrap()
        );
    }

    #[test]
    fn decodes_with_the_official_serde_types() {
        let resource = vec![
            (Str::from("service.name"), Value::Str(Str::from("svc"))),
            (Str::from("process.pid"), Value::Int(42)),
        ];
        let enc = JsonRequestEncoder::new(&resource, "logwrap", "1.2.3");
        let mut r = Record::new(
            Stream::Stderr,
            1_795_618_800_000_000_001,
            Value::Str(Str::from("héllo \"q\"\n")),
        );
        r.time_unix_nano = 1_795_618_799_000_000_000;
        r.severity = Severity {
            number: SeverityNumber::WARN,
            text: Str::from("warn"),
        };
        r.trace_id = [0xab; 16];
        r.span_id = [0x01; 8];
        r.flags = 1;
        r.event_name = Str::from("process.exit");
        r.split = Some(Split {
            id: 2,
            index: 0,
            last: false,
        });
        r.attributes = vec![
            (Str::from("big"), Value::Int(i64::MAX)),
            (Str::from("neg"), Value::Int(-3)),
            (Str::from("pi"), Value::Double(3.5)),
            (
                Str::from("raw"),
                Value::Bytes(Bytes::from_static(b"\xff\x00")),
            ),
            (
                Str::from("list"),
                Value::Array(vec![Value::Bool(true), Value::Empty]),
            ),
            (
                Str::from("map"),
                Value::Map(vec![(Str::from("k"), Value::Str(Str::from("v")))]),
            ),
        ];
        let mut out = Vec::new();
        enc.encode(&[r.clone(), r], &mut out);

        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("\"severityNumber\":13"), "enums as integers");
        assert!(
            text.contains(&format!("\"traceId\":\"{}\"", "ab".repeat(16))),
            "hex ids"
        );
        assert!(
            text.contains("\"timeUnixNano\":\"1795618799000000000\""),
            "64-bit ints as strings"
        );
        assert!(!text.contains("time_unix_nano"), "lowerCamelCase only");

        let req: ExportLogsServiceRequest = serde_json::from_slice(&out).expect("valid OTLP/JSON");
        let rl = &req.resource_logs[0];
        let res = &rl.resource.as_ref().unwrap().attributes;
        assert_eq!(
            attr(res, "process.pid"),
            Some(&any_value::Value::IntValue(42))
        );
        let sl = &rl.scope_logs[0];
        assert_eq!(sl.scope.as_ref().unwrap().version, "1.2.3");
        assert_eq!(sl.log_records.len(), 2);
        let lr = &sl.log_records[1];
        assert_eq!(lr.time_unix_nano, 1_795_618_799_000_000_000);
        assert_eq!(lr.observed_time_unix_nano, 1_795_618_800_000_000_001);
        assert_eq!(
            (lr.severity_number, lr.severity_text.as_str()),
            (13, "warn")
        );
        assert_eq!(lr.trace_id, vec![0xab; 16]);
        assert_eq!(lr.span_id, vec![0x01; 8]);
        assert_eq!(lr.flags, 1);
        assert_eq!(lr.event_name, "process.exit");
        assert_eq!(
            lr.body.as_ref().unwrap().value,
            Some(any_value::Value::StringValue("héllo \"q\"\n".into()))
        );
        assert_eq!(
            attr(&lr.attributes, "log.iostream"),
            Some(&any_value::Value::StringValue("stderr".into()))
        );
        assert_eq!(
            attr(&lr.attributes, SPLIT_ID),
            Some(&any_value::Value::IntValue(2))
        );
        assert_eq!(
            attr(&lr.attributes, "big"),
            Some(&any_value::Value::IntValue(i64::MAX))
        );
        assert_eq!(
            attr(&lr.attributes, "neg"),
            Some(&any_value::Value::IntValue(-3))
        );
        assert_eq!(
            attr(&lr.attributes, "pi"),
            Some(&any_value::Value::DoubleValue(3.5))
        );
        assert_eq!(
            attr(&lr.attributes, "raw"),
            Some(&any_value::Value::BytesValue(vec![0xff, 0]))
        );
        let Some(any_value::Value::KvlistValue(map)) = attr(&lr.attributes, "map") else {
            panic!()
        };
        assert_eq!(
            attr(&map.values, "k"),
            Some(&any_value::Value::StringValue("v".into()))
        );
    }
}
