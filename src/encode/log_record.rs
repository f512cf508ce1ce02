//! One record ↔ one OTLP `LogRecord`, in the protobuf wire format.
//!
//! ```text
//!  Record ──append()──► `ScopeLogs.log_records` field (tag, length, LogRecord) ──read()──► Record
//! ```
//!
//! Writing: two passes per record (size, then bytes), straight from the
//! record's shared text, no allocation. The field numbers are those of
//! `opentelemetry/proto/{logs,common}/v1/*.proto`; the tests decode our output
//! with the prost types of the `opentelemetry-proto` crate, so the two cannot
//! drift apart silently. Fields are written in field-number order, as prost
//! does, so our bytes equal prost's.
//!
//! Reading is for our own records only (what a reader thread encoded, what a
//! disk frame holds): exporters of other formats (OTLP/JSON, Loki, NDJSON,
//! console) turn them back into [`Record`]s whose text is a slice of the
//! chunk, checked once for UTF-8. Attributes named `log.iostream` and
//! `logwrap.split.*` become the record's stream and split again.
//!
//! Pure and synchronous.

use bytes::Bytes;

use super::wire::{
    DecodeError, FieldReader, FieldValue, I32, I64, LEN, VARINT, field_len, put_bytes_field,
    put_len_field, put_varint, tag, varint_len,
};
use crate::record::{Record, SeverityNumber, Split, Str, Stream, Value};

/// The field of `ScopeLogs` that holds each record: a chunk is a run of these.
pub const LOG_RECORD_FIELD: u8 = tag(2, LEN);
const LOG_RECORD_FIELD_NUMBER: u32 = 2;

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
// KeyValue, ArrayValue, KeyValueList
const KV_KEY: u8 = tag(1, LEN);
const KV_VALUE: u8 = tag(2, LEN);
const LIST_VALUES: u8 = tag(1, LEN);

pub const SPLIT_ID: &str = "logwrap.split.id";
pub const SPLIT_INDEX: &str = "logwrap.split.index";
pub const SPLIT_LAST: &str = "logwrap.split.last";
pub const IOSTREAM: &str = "log.iostream";
/// The semantic convention for "the complete original log record"; carried
/// only by encoders made [`RecordEncoder::with_original`].
pub const ORIGINAL: &str = "log.record.original";

/// Encoded size of an `AnyValue` message body.
// Inlined for the scalars every record has (the encoder asks for each
// value's size while sizing the record and again while writing it); lists
// and maps, rare in log lines, go through `nested_value_len`.
#[inline]
fn any_value_len(v: &Value) -> usize {
    match v {
        Value::Str(s) => field_len(s.len()),
        Value::Bytes(b) => field_len(b.len()),
        Value::Bool(_) => 2,
        Value::Int(i) => 1 + varint_len(*i as u64),
        Value::Double(_) => 9,
        Value::Array(_) | Value::Map(_) => nested_value_len(v),
        Value::Empty => 0,
    }
}

#[inline(never)]
fn nested_value_len(v: &Value) -> usize {
    match v {
        Value::Array(items) => field_len(array_len(items)),
        Value::Map(entries) => field_len(kvlist_len(entries)),
        _ => any_value_len(v),
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
#[inline]
fn key_value_len(key: &[u8], v: &Value) -> usize {
    field_len(key.len()) + field_len(any_value_len(v))
}

#[inline]
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
        Value::Array(_) | Value::Map(_) => put_nested_value(out, v),
        Value::Empty => {}
    }
}

#[inline(never)]
fn put_nested_value(out: &mut Vec<u8>, v: &Value) {
    match v {
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
        _ => put_any_value(out, v),
    }
}

/// Writes a `KeyValue` as field `tag` of the enclosing message.
pub fn put_key_value(out: &mut Vec<u8>, tag: u8, key: &[u8], v: &Value) {
    let value_len = any_value_len(v);
    put_len_field(out, tag, field_len(key.len()) + field_len(value_len));
    put_bytes_field(out, KV_KEY, key);
    put_len_field(out, KV_VALUE, value_len);
    put_any_value(out, v);
}

fn split_attributes(split: &Split) -> [(&'static str, Value); 3] {
    [
        (SPLIT_ID, Value::Int(split.id as i64)),
        (SPLIT_INDEX, Value::Int(split.index as i64)),
        (SPLIT_LAST, Value::Bool(split.last)),
    ]
}

/// Writes records as `ScopeLogs.log_records` fields.
pub struct RecordEncoder {
    /// Pre-encoded `log.iostream` attributes: every record read from a pipe
    /// has one.
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Write a structured record's original line as `log.record.original`.
    original: bool,
}

impl Default for RecordEncoder {
    fn default() -> Self {
        let encode = |value: &'static str| {
            let mut out = Vec::new();
            put_key_value(
                &mut out,
                LR_ATTRIBUTES,
                IOSTREAM.as_bytes(),
                &Value::Str(Str::from_static(value)),
            );
            out
        };
        RecordEncoder {
            stdout: encode("stdout"),
            stderr: encode("stderr"),
            original: false,
        }
    }
}

impl RecordEncoder {
    /// An encoder that also writes each structured record's original line
    /// (for destinations that may need it: Loki without structured metadata).
    pub fn with_original() -> Self {
        RecordEncoder {
            original: true,
            ..RecordEncoder::default()
        }
    }

    /// Appends `r` as one `log_records` field: tag, length, `LogRecord`.
    pub fn append(&self, r: &Record, out: &mut Vec<u8>) {
        let len = self.record_len(r);
        out.reserve(field_len(len));
        put_len_field(out, LOG_RECORD_FIELD, len);
        self.put_record(out, r);
    }

    /// Bytes `append` adds for `r`.
    pub fn field_len(&self, r: &Record) -> usize {
        field_len(self.record_len(r))
    }

    fn fixed_attribute(&self, r: &Record) -> &[u8] {
        match r.stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
            Stream::Lifecycle | Stream::File => &[],
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
        if self.original && !r.original.is_empty() {
            len += field_len(field_len(ORIGINAL.len()) + field_len(field_len(r.original.len())));
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
        if self.original && !r.original.is_empty() {
            put_key_value(
                out,
                LR_ATTRIBUTES,
                ORIGINAL.as_bytes(),
                &Value::Str(r.original.clone()),
            );
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

/// The byte ranges of the `LogRecord`s in a run of `log_records` fields
/// (what a chunk holds), each with the end of its field.
pub fn record_ranges(
    bytes: &[u8],
) -> impl Iterator<Item = Result<std::ops::Range<usize>, DecodeError>> + '_ {
    FieldReader::new(bytes, 0..bytes.len()).map(|field| match field? {
        (LOG_RECORD_FIELD_NUMBER, FieldValue::Len(range)) => Ok(range),
        _ => Err(DecodeError(
            "a chunk holds something other than log records",
        )),
    })
}

/// Reads a run of `log_records` fields back into records, appending them to
/// `out`; text is sliced from `chunk`, not copied.
pub fn read(chunk: &Bytes, out: &mut Vec<Record>) -> Result<(), DecodeError> {
    for range in record_ranges(chunk) {
        out.push(read_record(chunk, range?)?);
    }
    Ok(())
}

fn text(chunk: &Bytes, range: std::ops::Range<usize>) -> Result<Str, DecodeError> {
    Str::from_utf8(chunk.slice(range)).map_err(|_| DecodeError("a string is not UTF-8"))
}

/// Reads one `LogRecord` (its payload's range in `chunk`) back into a record.
pub fn read_record(chunk: &Bytes, range: std::ops::Range<usize>) -> Result<Record, DecodeError> {
    let mut r = Record::new(Stream::Lifecycle, 0, Value::Empty);
    let mut split = (None, None, None);
    for field in FieldReader::new(chunk, range) {
        match field? {
            (1, FieldValue::Fixed64(t)) => r.time_unix_nano = t,
            (2, FieldValue::Varint(n)) => r.severity.number = SeverityNumber(n.min(24) as u8),
            (3, FieldValue::Len(s)) => r.severity.text = text(chunk, s)?,
            (5, FieldValue::Len(v)) => r.body = read_any_value(chunk, v)?,
            (6, FieldValue::Len(kv)) => {
                let (key, value) = read_key_value(chunk, kv)?;
                match (key.as_str(), &value) {
                    (IOSTREAM, Value::Str(s)) if s.as_str() == "stdout" => {
                        r.stream = Stream::Stdout
                    }
                    (IOSTREAM, Value::Str(s)) if s.as_str() == "stderr" => {
                        r.stream = Stream::Stderr
                    }
                    (SPLIT_ID, Value::Int(i)) => split.0 = Some(*i as u64),
                    (SPLIT_INDEX, Value::Int(i)) => split.1 = Some(*i as u32),
                    (SPLIT_LAST, Value::Bool(b)) => split.2 = Some(*b),
                    (ORIGINAL, Value::Str(s)) => r.original = s.clone(),
                    _ => r.attributes.push((key, value)),
                }
            }
            (8, FieldValue::Fixed32(f)) => r.flags = f,
            (9, FieldValue::Len(id)) => {
                r.trace_id = chunk[id].try_into().unwrap_or([0; 16]);
            }
            (10, FieldValue::Len(id)) => {
                r.span_id = chunk[id].try_into().unwrap_or([0; 8]);
            }
            (11, FieldValue::Fixed64(t)) => r.observed_unix_nano = t,
            (12, FieldValue::Len(name)) => r.event_name = text(chunk, name)?,
            // Fields we never write (dropped_attributes_count) are skipped.
            _ => {}
        }
    }
    if let (Some(id), Some(index), Some(last)) = split {
        r.split = Some(Split { id, index, last });
    }
    Ok(r)
}

/// Nested values deeper than this are refused: our own encoder never writes
/// them (JSON lines are parsed at most this deep), and a corrupt frame must
/// not recurse without bound.
const MAX_DEPTH: usize = 128;

/// Reads one `AnyValue` (its payload's range in `chunk`).
pub fn read_any_value(chunk: &Bytes, range: std::ops::Range<usize>) -> Result<Value, DecodeError> {
    read_any_value_at(chunk, range, 0)
}

fn read_any_value_at(
    chunk: &Bytes,
    range: std::ops::Range<usize>,
    depth: usize,
) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError("values nest too deep"));
    }
    let mut value = Value::Empty;
    for field in FieldReader::new(chunk, range) {
        value = match field? {
            (1, FieldValue::Len(s)) => Value::Str(text(chunk, s)?),
            (2, FieldValue::Varint(b)) => Value::Bool(b != 0),
            (3, FieldValue::Varint(i)) => Value::Int(i as i64),
            (4, FieldValue::Fixed64(d)) => Value::Double(f64::from_bits(d)),
            (5, FieldValue::Len(list)) => {
                let mut items = Vec::new();
                for item in FieldReader::new(chunk, list) {
                    if let (1, FieldValue::Len(v)) = item? {
                        items.push(read_any_value_at(chunk, v, depth + 1)?);
                    }
                }
                Value::Array(items)
            }
            (6, FieldValue::Len(list)) => {
                let mut entries = Vec::new();
                for entry in FieldReader::new(chunk, list) {
                    if let (1, FieldValue::Len(kv)) = entry? {
                        entries.push(read_key_value_at(chunk, kv, depth + 1)?);
                    }
                }
                Value::Map(entries)
            }
            (7, FieldValue::Len(b)) => Value::Bytes(chunk.slice(b)),
            _ => continue,
        };
    }
    Ok(value)
}

fn read_key_value(
    chunk: &Bytes,
    range: std::ops::Range<usize>,
) -> Result<(Str, Value), DecodeError> {
    read_key_value_at(chunk, range, 0)
}

fn read_key_value_at(
    chunk: &Bytes,
    range: std::ops::Range<usize>,
    depth: usize,
) -> Result<(Str, Value), DecodeError> {
    let mut key = Str::default();
    let mut value = Value::Empty;
    for field in FieldReader::new(chunk, range) {
        match field? {
            (1, FieldValue::Len(k)) => key = text(chunk, k)?,
            (2, FieldValue::Len(v)) => value = read_any_value_at(chunk, v, depth)?,
            _ => {}
        }
    }
    Ok((key, value))
}

/// Reads a list of `KeyValue` fields numbered `field` (a `Resource`'s
/// attributes are field 1).
pub fn read_key_values(
    chunk: &Bytes,
    range: std::ops::Range<usize>,
    field: u32,
) -> Result<Vec<(Str, Value)>, DecodeError> {
    let mut out = Vec::new();
    for f in FieldReader::new(chunk, range) {
        if let (number, FieldValue::Len(kv)) = f?
            && number == field
        {
            out.push(read_key_value(chunk, kv)?);
        }
    }
    Ok(out)
}

/// A map holding a value of every kind (tests of the encoders).
#[cfg(test)]
pub(crate) fn every_kind_of_value() -> Value {
    Value::Map(vec![
        (Str::from("neg"), Value::Int(-5)),
        (Str::from("pi"), Value::Double(3.25)),
        (Str::from("yes"), Value::Bool(true)),
        (Str::from("nothing"), Value::Empty),
        (
            Str::from("list"),
            Value::Array(vec![Value::Str(Str::from("")), Value::Int(i64::MIN)]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Severity;
    use opentelemetry_proto::tonic::common::v1::any_value;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ScopeLogs};
    use prost::Message;

    fn full_record() -> Record {
        let nested = every_kind_of_value();
        let mut r = Record::new(Stream::Stderr, 5, Value::Str(Str::from("boom")));
        r.time_unix_nano = 4;
        r.severity = Severity {
            number: SeverityNumber::ERROR,
            text: Str::from("ERROR"),
        };
        r.attributes.push((Str::from("nested"), nested));
        r.attributes.push((
            Str::from("raw"),
            Value::Bytes(Bytes::from_static(b"\xff\x00")),
        ));
        r.split = Some(Split {
            id: 3,
            index: 1,
            last: true,
        });
        r.trace_id = [0xab; 16];
        r.span_id = [0xcd; 8];
        r.flags = 1;
        r
    }

    #[test]
    fn a_chunk_decodes_with_the_official_types() {
        let enc = RecordEncoder::default();
        let mut chunk = Vec::new();
        let r = full_record();
        enc.append(&r, &mut chunk);
        assert_eq!(chunk.len(), enc.field_len(&r));
        let mut lifecycle = Record::new(Stream::Lifecycle, 9, Value::Empty);
        lifecycle.event_name = Str::from("logwrap.process.exit");
        enc.append(&lifecycle, &mut chunk);
        // A run of log_records fields is a ScopeLogs without a scope.
        let scope_logs = ScopeLogs::decode(&chunk[..]).expect("valid protobuf");
        let [lr, exit]: [LogRecord; 2] = scope_logs.log_records.try_into().unwrap();
        assert_eq!((lr.time_unix_nano, lr.observed_time_unix_nano), (4, 5));
        assert_eq!(
            (lr.severity_number, lr.severity_text.as_str()),
            (17, "ERROR")
        );
        assert_eq!(
            lr.body.unwrap().value,
            Some(any_value::Value::StringValue("boom".into()))
        );
        let keys: Vec<&str> = lr.attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(
            keys,
            [IOSTREAM, SPLIT_ID, SPLIT_INDEX, SPLIT_LAST, "nested", "raw"]
        );
        assert_eq!(lr.trace_id, vec![0xab; 16]);
        assert_eq!(lr.span_id, vec![0xcd; 8]);
        assert_eq!(lr.flags, 1);
        assert_eq!(exit.event_name, "logwrap.process.exit");
        // Field for field what prost writes.
        let mut theirs = Vec::new();
        for r in ScopeLogs::decode(&chunk[..]).unwrap().log_records {
            put_bytes_field(&mut theirs, LOG_RECORD_FIELD, &r.encode_to_vec());
        }
        assert_eq!(chunk, theirs);
    }

    #[test]
    fn records_read_back_equal_what_was_written() {
        let mut bytes = Vec::new();
        let mut lifecycle = Record::new(
            Stream::Lifecycle,
            1,
            Value::Bytes(Bytes::from_static(b"\xff")),
        );
        lifecycle.event_name = Str::from("logwrap.process.exit");
        let plain = Record::new(Stream::Stdout, 2, Value::Str(Str::from("hi")));
        let mut structured = Record::new(Stream::Stdout, 3, Value::Str(Str::from("bad")));
        structured.original = Str::from(r#"{"msg":"bad","user":"x"}"#);
        let written = [full_record(), lifecycle, plain, structured.clone()];
        let enc = RecordEncoder::with_original();
        for r in &written {
            enc.append(r, &mut bytes);
        }
        let chunk = Bytes::from(bytes);
        let mut read_back = Vec::new();
        read(&chunk, &mut read_back).unwrap();
        assert_eq!(read_back, written);
        // Without the flag, the original line is not written.
        let mut plain_bytes = Vec::new();
        RecordEncoder::default().append(&structured, &mut plain_bytes);
        let mut read_back = Vec::new();
        read(&Bytes::from(plain_bytes), &mut read_back).unwrap();
        assert!(read_back[0].original.is_empty());
    }

    #[test]
    fn damaged_chunks_are_errors_not_panics() {
        let enc = RecordEncoder::default();
        let mut bytes = Vec::new();
        enc.append(&full_record(), &mut bytes);
        for cut in 0..bytes.len() {
            let _ = read(&Bytes::copy_from_slice(&bytes[..cut]), &mut Vec::new());
        }
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x5a;
            let _ = read(&Bytes::from(damaged), &mut Vec::new());
        }
        // Deep nesting from a corrupt frame is refused, not recursed into.
        let mut deep = Value::Int(1);
        for _ in 0..MAX_DEPTH + 5 {
            deep = Value::Array(vec![deep]);
        }
        let mut bytes = Vec::new();
        enc.append(&Record::new(Stream::Stdout, 1, deep), &mut bytes);
        assert!(read(&Bytes::from(bytes), &mut Vec::new()).is_err());
    }
}
