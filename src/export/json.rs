//! A record as one flat JSON object, for the console (and any line-oriented
//! destination).
//!
//! ```text
//!  {"observed_time":"2026-11-25T15:00:00.123456789Z","severity_text":"INFO","severity_number":9,
//!   "body":"hello","attributes":{"log.iostream":"stdout"}}
//! ```
//!
//! Values follow the OTel spec's "AnyValue representation for non-OTLP
//! protocols": strings as strings, byte arrays base64-encoded, maps as
//! objects, arrays as arrays, an empty value as null. Trace and span ids are
//! lowercase hex, as in OTLP/JSON. Times are RFC 3339 in UTC with nanoseconds.
//!
//! A body that is a byte array (a line that is not UTF-8) is marked with
//! `"body_encoding":"base64"` beside it: otherwise it could not be told from
//! a line of text that happens to look like base64 (issue 13). The mark is a
//! top-level key, and top-level keys are logwrap's alone (the child's fields
//! are under `"attributes"`), so no line can forge or hide it; every record
//! keeps its `"body"`.

// Numbers and times are written with `write!` straight into the buffer
// (io::Write for Vec never fails): no String per record.
use std::io::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;

use crate::export::otlp_proto::{SPLIT_ID, SPLIT_INDEX, SPLIT_LAST};
use crate::record::{Record, Str, Value};

/// Appends `record` as one JSON object (no newline) to `out`.
pub fn write_record(out: &mut Vec<u8>, record: &Record) {
    out.push(b'{');
    if record.time_unix_nano != 0 {
        out.extend_from_slice(b"\"time\":");
        write_time(out, record.time_unix_nano);
        out.push(b',');
    }
    out.extend_from_slice(b"\"observed_time\":");
    write_time(out, record.observed_unix_nano);
    if !record.severity.text.is_empty() {
        out.extend_from_slice(b",\"severity_text\":");
        write_str(out, record.severity.text.as_str());
    }
    if record.severity.number.0 != 0 {
        out.extend_from_slice(b",\"severity_number\":");
        let _ = write!(out, "{}", record.severity.number.0);
    }
    if !record.event_name.is_empty() {
        out.extend_from_slice(b",\"event_name\":");
        write_str(out, record.event_name.as_str());
    }
    out.extend_from_slice(b",\"body\":");
    write_value(out, &record.body);
    if matches!(record.body, Value::Bytes(_)) {
        out.extend_from_slice(b",\"body_encoding\":\"base64\"");
    }
    out.extend_from_slice(b",\"attributes\":{");
    // Commas go before every attribute but the first.
    let start = out.len();
    let comma = |out: &mut Vec<u8>| {
        if out.len() > start {
            out.push(b',');
        }
    };
    if let Some(iostream) = record.stream.iostream() {
        out.extend_from_slice(b"\"log.iostream\":");
        write_str(out, iostream);
    }
    if let Some(split) = &record.split {
        comma(out);
        let _ = write!(
            out,
            "\"{SPLIT_ID}\":{},\"{SPLIT_INDEX}\":{},\"{SPLIT_LAST}\":{}",
            split.id, split.index, split.last
        );
    }
    for (k, v) in &record.attributes {
        comma(out);
        write_str(out, k.as_str());
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
    if record.trace_id != [0; 16] {
        out.extend_from_slice(b",\"trace_id\":");
        write_hex(out, &record.trace_id);
    }
    if record.span_id != [0; 8] {
        out.extend_from_slice(b",\"span_id\":");
        write_hex(out, &record.span_id);
    }
    if record.flags != 0 {
        let _ = write!(out, ",\"flags\":{}", record.flags);
    }
    out.push(b'}');
}

/// Appends a resource as a JSON object.
pub fn write_attributes(out: &mut Vec<u8>, attributes: &[(Str, Value)]) {
    out.push(b'{');
    for (i, (k, v)) in attributes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k.as_str());
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
}

fn write_time(out: &mut Vec<u8>, unix_nano: u64) {
    let t = UNIX_EPOCH + Duration::from_nanos(unix_nano);
    out.push(b'"');
    let _ = write!(out, "{}", humantime::format_rfc3339_nanos(t));
    out.push(b'"');
}

pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaping is correct for every code point, control
    // characters and NUL included.
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

/// Appends a number in decimal, without the formatting machinery (it runs
/// for several fields of every record).
pub(crate) fn write_decimal(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(Decimal::new(n).as_bytes());
}

/// A number in decimal, on the stack: for writers that take a slice.
pub(crate) struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    pub(crate) fn new(mut n: u64) -> Self {
        let mut d = Decimal {
            digits: [0; 20],
            start: 20,
        };
        loop {
            d.start -= 1;
            d.digits[d.start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break d;
            }
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.digits[self.start..]
    }
}

/// Appends bytes as a JSON string of lowercase hex (trace and span ids).
pub(crate) fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let mut buf = [0; 32];
    for piece in bytes.chunks(16) {
        out.extend_from_slice(hex_into(&mut buf, piece));
    }
    out.push(b'"');
}

/// Up to 16 bytes as lowercase hex, on the stack.
pub(crate) fn hex_into<'a>(out: &'a mut [u8; 32], bytes: &[u8]) -> &'a [u8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().take(16).enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    &out[..2 * bytes.len().min(16)]
}

/// Appends one value as JSON.
pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => write_str(out, s.as_str()),
        Value::Bytes(b) => {
            out.push(b'"');
            out.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(b)
                    .as_bytes(),
            );
            out.push(b'"');
        }
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Double(d) if d.is_finite() => {
            serde_json::to_writer(&mut *out, d).expect("writing to a Vec cannot fail");
        }
        // The spec's non-OTLP rule for NaN and the infinities inside JSON.
        Value::Double(d) if d.is_nan() => out.extend_from_slice(b"\"NaN\""),
        Value::Double(d) if *d > 0.0 => out.extend_from_slice(b"\"Infinity\""),
        Value::Double(_) => out.extend_from_slice(b"\"-Infinity\""),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Map(entries) => write_attributes(out, entries),
        Value::Empty => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Severity, SeverityNumber, Split, Stream};
    use bytes::Bytes;

    fn json(r: &Record) -> serde_json::Value {
        let mut out = Vec::new();
        write_record(&mut out, r);
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn a_plain_record() {
        let mut r = Record::new(
            Stream::Stdout,
            1_764_082_800_000_000_001,
            Value::Str(Str::from("hi \"there\"\n\0")),
        );
        r.severity = Severity {
            number: SeverityNumber::INFO,
            text: Str::from("INFO"),
        };
        let v = json(&r);
        assert_eq!(v["observed_time"], "2025-11-25T15:00:00.000000001Z");
        assert_eq!(v["severity_text"], "INFO");
        assert_eq!(v["severity_number"], 9);
        assert_eq!(v["body"], "hi \"there\"\n\0");
        assert_eq!(v["attributes"]["log.iostream"], "stdout");
        assert!(v.get("time").is_none() && v.get("trace_id").is_none());
        assert!(v.get("body_encoding").is_none(), "text is not marked");
    }

    #[test]
    fn bytes_values_split_marks_and_ids() {
        let mut r = Record::new(
            Stream::Stderr,
            0,
            Value::Bytes(Bytes::from_static(b"\xff\xfe")),
        );
        r.split = Some(Split {
            id: 2,
            index: 0,
            last: false,
        });
        r.trace_id = [0x0a; 16];
        r.span_id = [0xff; 8];
        r.attributes.push((
            Str::from("m"),
            Value::Map(vec![
                (Str::from("n"), Value::Double(f64::NAN)),
                (Str::from("e"), Value::Empty),
                (
                    Str::from("a"),
                    Value::Array(vec![Value::Int(-1), Value::Bool(true)]),
                ),
            ]),
        ));
        let v = json(&r);
        assert_eq!(v["body"], "//4=");
        assert_eq!(v["body_encoding"], "base64");
        assert_eq!(v["attributes"]["logwrap.split.id"], 2);
        assert_eq!(v["attributes"]["logwrap.split.last"], false);
        assert_eq!(v["attributes"]["m"]["n"], "NaN");
        assert!(v["attributes"]["m"]["e"].is_null());
        assert_eq!(v["attributes"]["m"]["a"], serde_json::json!([-1, true]));
        assert_eq!(v["trace_id"], "0a".repeat(16));
        assert_eq!(v["span_id"], "ff".repeat(8));
    }
}
