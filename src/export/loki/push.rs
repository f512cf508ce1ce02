//! A batch → a Loki push: records grouped into streams by their labels, each
//! entry's line and structured metadata written once into an arena, then
//! encoded as push.proto (or Loki's JSON).

use std::ops::Range;
use std::sync::atomic::Ordering;

use base64::Engine;

use bytes::Bytes;

use super::LokiExporter;
use super::config::LabelValue;
use crate::encode::DecodeError;
use crate::encode::log_record::{read_any_value, read_record, record_ranges};
use crate::encode::wire::{FieldReader, FieldValue};
use crate::encode::wire::{
    LEN, VARINT, field_len, put_bytes_field, put_len_field, put_varint, tag, varint_len,
};
use crate::export::json;
use crate::record::{Record, Value};

/// Structured metadata names logwrap writes itself; reserved whether or
/// not a record has the field, so a child's attribute can never pass for
/// one of them (see the module docs).
pub(super) const OWN_METADATA: &[&str] = &[
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
pub(super) fn free_name(base: String, taken: impl Fn(&str) -> bool) -> String {
    if !taken(&base) {
        return base;
    }
    (2u32..)
        .map(|i| format!("{base}_{i}"))
        .find(|n| !taken(n))
        .expect("some suffix is free")
}

/// One entry: its time, and where its line and metadata lie in the batch.
pub(super) struct Entry {
    pub(super) timestamp: u64,
    pub(super) line: Range<usize>,
    /// Indexes into [`Streams::pairs`]; the resource's pairs follow them.
    pub(super) pairs: Range<usize>,
}

/// Label pairs of a stream, sorted by name.
pub(super) type Labels = Vec<(String, String)>;

/// One stream of a batch: its selector text, labels and entries.
pub(super) struct Stream {
    pub(super) selector: String,
    pub(super) labels: Labels,
    pub(super) entries: Vec<Entry>,
}

/// A batch grouped into streams. Every line, metadata name and value is
/// written once into `arena`, and entries point into it: building a push
/// allocates per batch, not per record or per field.
pub(super) struct Streams {
    pub(super) arena: Vec<u8>,
    /// Structured metadata pairs: (name, value) ranges in `arena`.
    pub(super) pairs: Vec<(Range<usize>, Range<usize>)>,
    /// The resource's pairs (in `pairs`), sent with every entry.
    pub(super) resource: Range<usize>,
    pub(super) streams: Vec<Stream>,
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

/// Appends a number in decimal; where it lies in the arena.
fn put_decimal(arena: &mut Vec<u8>, n: u64) -> Range<usize> {
    let start = arena.len();
    crate::export::json::write_decimal(arena, n);
    start..arena.len()
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
    /// Groups records by label set, entries of each stream in time order
    /// with strictly increasing timestamps.
    /// Groups records by label set, entries of each stream in time order
    /// with strictly increasing timestamps (for callers that hold records:
    /// `logwrap check`, the dropped notice, tests).
    pub(super) fn group(&self, records: &[Record]) -> Streams {
        let mut chunk = crate::encode::ChunkBuilder::with_original();
        for r in records {
            chunk.append(r);
        }
        let chunk = chunk.take().unwrap_or_default();
        self.group_chunks(std::slice::from_ref(&chunk.bytes))
            .expect("records just encoded read back")
    }

    /// Groups the records of chunks (our own protobuf `LogRecord`s), reading
    /// their fields in place: no record is rebuilt, unless a label needs
    /// one of its attributes.
    pub(super) fn group_chunks(&self, chunks: &[Bytes]) -> Result<Streams, DecodeError> {
        let with_metadata = self.structured_metadata.load(Ordering::Relaxed);
        let records: usize = chunks.iter().map(|c| c.len() / 128).sum();
        let mut b = Streams {
            arena: Vec::with_capacity(chunks.iter().map(|c| c.len() * 2).sum()),
            pairs: Vec::with_capacity(records * 8),
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
        for chunk in chunks {
            for range in record_ranges(chunk) {
                let range = range?;
                let w = WireRecord::read(chunk, range.clone())?;
                let stream = if dynamic || b.streams.is_empty() {
                    let labels = if dynamic {
                        self.labels_of(&read_record(chunk, range)?, with_metadata)
                    } else {
                        self.labels_of(
                            &Record::new(crate::record::Stream::Lifecycle, 0, Value::Empty),
                            true,
                        )
                    };
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
                let line = match (&w.original, with_metadata) {
                    // The fields travel in the line, as the program wrote it.
                    (Some(original), false) => put(&mut b.arena, &chunk[original.clone()]),
                    _ => put_wire_line(&mut b.arena, chunk, w.body.clone())?,
                };
                let first = b.pairs.len();
                if with_metadata {
                    self.put_wire_metadata(chunk, &w, &mut b.arena, &mut b.pairs)?;
                }
                let entry = Entry {
                    timestamp: if w.time != 0 { w.time } else { w.observed },
                    line,
                    pairs: first..b.pairs.len(),
                };
                b.streams[stream].entries.push(entry);
            }
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
        Ok(b)
    }

    /// Writes a record's own structured metadata (not the resource's) into
    /// the arena and its pairs, from its wire fields.
    fn put_wire_metadata(
        &self,
        chunk: &Bytes,
        w: &WireRecord,
        arena: &mut Vec<u8>,
        pairs: &mut Vec<(Range<usize>, Range<usize>)>,
    ) -> Result<(), DecodeError> {
        let mut pair = |arena: &mut Vec<u8>, name: &str, value: Range<usize>| {
            let name = put(arena, name.as_bytes());
            pairs.push((name, value));
        };
        if let Some(text) = w.text.clone().filter(|t| !t.is_empty()) {
            let v = put(arena, &chunk[text]);
            pair(arena, "level", v);
        }
        if w.number != 0 {
            let v = put_decimal(arena, w.number);
            pair(arena, "severity_number", v);
        }
        if let Some(iostream) = w.iostream.clone() {
            let v = put(arena, &chunk[iostream]);
            pair(arena, "log_iostream", v);
        }
        if let Some(event) = w.event.clone().filter(|e| !e.is_empty()) {
            let v = put(arena, &chunk[event]);
            pair(arena, "event_name", v);
        }
        if let Some(id) = w
            .trace
            .clone()
            .filter(|r| r.len() == 16 && chunk[r.clone()] != [0; 16])
        {
            let v = put(arena, hex(&chunk[id]).as_bytes());
            pair(arena, "trace_id", v);
        }
        if let Some(id) = w
            .span
            .clone()
            .filter(|r| r.len() == 8 && chunk[r.clone()] != [0; 8])
        {
            let v = put(arena, hex(&chunk[id]).as_bytes());
            pair(arena, "span_id", v);
        }
        if let (Some(id), Some(index), Some(last)) = w.split {
            let v = put_decimal(arena, id);
            pair(arena, "logwrap_split_id", v);
            let v = put_decimal(arena, index);
            pair(arena, "logwrap_split_index", v);
            let v = put(arena, if last { b"true" } else { b"false" });
            pair(arena, "logwrap_split_last", v);
        }
        if w.time != 0 {
            let v = put_decimal(arena, w.observed);
            pair(arena, "observed_timestamp", v);
        }
        // The record's attributes, then (when encoded) the resource's, in
        // that order on the wire: the order changes how well snappy
        // compresses a push (measured at 3% of the bytes).
        let own = pairs.len();
        let Some(run) = w.attributes.clone() else {
            return Ok(());
        };
        for field in FieldReader::new(chunk, run) {
            let (6, FieldValue::Len(kv)) = field? else {
                continue;
            };
            let (key, value) = key_value_ranges(chunk, kv)?;
            let k = &chunk[key];
            if is_carried(k) {
                continue;
            }
            let start = arena.len();
            arena.extend(k.iter().map(|&c| if c == b'.' { b'_' } else { c }));
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
            let value = put_wire_value(arena, chunk, value)?;
            pairs.push((name, value));
        }
        Ok(())
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

    /// A record's structured metadata as it is sent (its own, then the
    /// resource's), as text.
    #[cfg(test)]
    pub(super) fn metadata_of(&self, r: &Record) -> Vec<(String, String)> {
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

/// Structured metadata names follow Loki's OTLP mapping: dots become underscores.
pub(super) fn metadata_name(key: &str) -> String {
    key.replace('.', "_")
}

/// `{a="x",b="y"}` with Prometheus string escaping.
#[cfg(test)]
pub(super) fn selector(labels: &[(String, String)]) -> String {
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
pub(super) fn stringify(v: &Value) -> String {
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

/// The fields of one `LogRecord` a push needs, as ranges in its chunk.
pub(super) struct WireRecord {
    time: u64,
    observed: u64,
    number: u64,
    text: Option<Range<usize>>,
    body: Option<Range<usize>>,
    /// The run of attribute fields.
    attributes: Option<Range<usize>>,
    trace: Option<Range<usize>>,
    span: Option<Range<usize>>,
    event: Option<Range<usize>>,
    /// The string values of the attributes logwrap carries as fields of
    /// their own: `log.iostream`, `log.record.original`, `logwrap.split.*`.
    iostream: Option<Range<usize>>,
    original: Option<Range<usize>>,
    split: (Option<u64>, Option<u64>, Option<bool>),
}

impl WireRecord {
    fn read(chunk: &[u8], range: Range<usize>) -> Result<Self, DecodeError> {
        let mut w = WireRecord {
            time: 0,
            observed: 0,
            number: 0,
            text: None,
            body: None,
            attributes: None,
            trace: None,
            span: None,
            event: None,
            iostream: None,
            original: None,
            split: (None, None, None),
        };
        let mut reader = FieldReader::new(chunk, range.clone());
        let mut field_start = range.start;
        while let Some(field) = reader.next() {
            match field? {
                (1, FieldValue::Fixed64(t)) => w.time = t,
                (2, FieldValue::Varint(n)) => w.number = n,
                (3, FieldValue::Len(r)) => w.text = Some(r),
                (5, FieldValue::Len(r)) => w.body = Some(r),
                (6, FieldValue::Len(kv)) => {
                    let (key, value) = key_value_ranges(chunk, kv.clone())?;
                    let string = || any_string(chunk, value.clone());
                    match &chunk[key] {
                        b"log.iostream" => w.iostream = string()?,
                        b"log.record.original" => w.original = string()?,
                        b"logwrap.split.id" => w.split.0 = any_int(chunk, value.clone())?,
                        b"logwrap.split.index" => w.split.1 = any_int(chunk, value.clone())?,
                        b"logwrap.split.last" => {
                            w.split.2 = any_int(chunk, value.clone())?.map(|b| b != 0)
                        }
                        _ => {}
                    }
                    w.attributes = Some(
                        w.attributes
                            .clone()
                            .map_or(field_start..kv.end, |a| a.start..kv.end),
                    );
                }
                (9, FieldValue::Len(r)) => w.trace = Some(r),
                (10, FieldValue::Len(r)) => w.span = Some(r),
                (11, FieldValue::Fixed64(t)) => w.observed = t,
                (12, FieldValue::Len(r)) => w.event = Some(r),
                _ => {}
            }
            field_start = reader.position();
        }
        Ok(w)
    }
}

/// The attributes logwrap carries as fields of their own (not metadata).
fn is_carried(key: &[u8]) -> bool {
    matches!(
        key,
        b"log.iostream"
            | b"log.record.original"
            | b"logwrap.split.id"
            | b"logwrap.split.index"
            | b"logwrap.split.last"
    )
}

/// A `KeyValue`'s key and value payload ranges.
fn key_value_ranges(
    chunk: &[u8],
    range: Range<usize>,
) -> Result<(Range<usize>, Range<usize>), DecodeError> {
    let (mut key, mut value) = (0..0, 0..0);
    for field in FieldReader::new(chunk, range) {
        match field? {
            (1, FieldValue::Len(r)) => key = r,
            (2, FieldValue::Len(r)) => value = r,
            _ => {}
        }
    }
    Ok((key, value))
}

/// The string an `AnyValue` holds, if it is one.
fn any_string(chunk: &[u8], range: Range<usize>) -> Result<Option<Range<usize>>, DecodeError> {
    let mut found = None;
    for field in FieldReader::new(chunk, range) {
        if let (1, FieldValue::Len(r)) = field? {
            found = Some(r);
        }
    }
    Ok(found)
}

/// The integer (or bool) an `AnyValue` holds, if it is one.
fn any_int(chunk: &[u8], range: Range<usize>) -> Result<Option<u64>, DecodeError> {
    let mut found = None;
    for field in FieldReader::new(chunk, range) {
        if let (2 | 3, FieldValue::Varint(v)) = field? {
            found = Some(v);
        }
    }
    Ok(found)
}

/// A body as a Loki line (text: bytes that are not UTF-8 as lossy UTF-8).
fn put_wire_line(
    arena: &mut Vec<u8>,
    chunk: &Bytes,
    body: Option<Range<usize>>,
) -> Result<Range<usize>, DecodeError> {
    let Some(body) = body else {
        return Ok(put(arena, b""));
    };
    let mut field = None;
    for f in FieldReader::new(chunk, body.clone()) {
        field = Some(f?);
    }
    Ok(match field {
        None => put(arena, b""),
        Some((1, FieldValue::Len(r))) => put_utf8(arena, &chunk[r]),
        Some((7, FieldValue::Len(r))) => put(arena, String::from_utf8_lossy(&chunk[r]).as_bytes()),
        Some(_) => put_line(arena, &read_any_value(chunk, body)?),
    })
}

/// A metadata value from its `AnyValue`: strings as they are, the rest as
/// [`put_value`] writes them.
fn put_wire_value(
    arena: &mut Vec<u8>,
    chunk: &Bytes,
    value: Range<usize>,
) -> Result<Range<usize>, DecodeError> {
    let mut field = None;
    for f in FieldReader::new(chunk, value.clone()) {
        field = Some(f?);
    }
    Ok(match field {
        None => put(arena, b""),
        Some((1, FieldValue::Len(r))) => put_utf8(arena, &chunk[r]),
        Some((3, FieldValue::Varint(i))) if (i as i64) >= 0 => put_decimal(arena, i),
        Some((2, FieldValue::Varint(b))) => put(arena, if b != 0 { b"true" } else { b"false" }),
        Some(_) => put_value(arena, &read_any_value(chunk, value)?),
    })
}

/// Text that must be UTF-8 (Loki's lines and metadata are strings): as it
/// is when it is, lossy otherwise (our encoder never writes anything else).
fn put_utf8(arena: &mut Vec<u8>, bytes: &[u8]) -> Range<usize> {
    match std::str::from_utf8(bytes) {
        Ok(_) => put(arena, bytes),
        Err(_) => put(arena, String::from_utf8_lossy(bytes).as_bytes()),
    }
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

pub(super) fn encode_protobuf(b: &Streams, with_metadata: bool) -> Vec<u8> {
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
pub(super) fn encode_json(b: &Streams, with_metadata: bool) -> Vec<u8> {
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
