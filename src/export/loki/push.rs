//! A batch → a Loki push: records grouped into streams by their labels, each
//! entry's line and structured metadata written once, already in the push's
//! format (push.proto or Loki's JSON), then the push assembled from those
//! bytes in each stream's time order.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use base64::Engine;

use bytes::Bytes;

use super::LokiExporter;
use super::config::{LabelValue, LokiEncoding};
use crate::encode::DecodeError;
use crate::encode::log_record::{read_any_value, read_record, record_ranges};
use crate::encode::wire::{FieldReader, FieldValue};
use crate::encode::wire::{
    LEN, VARINT, field_len, put_bytes_field, put_len_field, put_varint, tag, varint_len,
};
use crate::export::json::{self, Decimal, hex_into};
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

/// One entry: its time, and where its encoded line and metadata lie in
/// [`Streams::bytes`].
pub(super) struct Entry {
    pub(super) timestamp: u64,
    pub(super) bytes: Range<usize>,
}

/// Label pairs of a stream, sorted by name.
pub(super) type Labels = Vec<(String, String)>;

/// One stream of a batch: its selector text, labels and entries.
pub(super) struct Stream {
    pub(super) selector: String,
    pub(super) labels: Labels,
    pub(super) entries: Vec<Entry>,
}

/// A batch grouped into streams. Each entry's line and metadata are
/// written once, in the push's format, into `bytes` (everything of an
/// entry but its timestamp, which is only final once its stream is
/// sorted): building a push copies each line once before the request and
/// allocates per batch, not per record or per field.
pub(super) struct Streams {
    pub(super) encoding: LokiEncoding,
    /// Protobuf: each entry's `line` and `structuredMetadata` fields.
    /// JSON: `"line"` and, when there is metadata, `,{"name":"value",…}`.
    pub(super) bytes: Vec<u8>,
    pub(super) streams: Vec<Stream>,
}

impl Streams {
    /// An entry's metadata as sent (its own, then the resource's), read back
    /// from its protobuf bytes.
    #[cfg(test)]
    pub(super) fn metadata(&self, e: &Entry) -> Vec<(Vec<u8>, Vec<u8>)> {
        assert_eq!(self.encoding, LokiEncoding::Protobuf);
        let field = |range: Range<usize>, number: u32| {
            FieldReader::new(&self.bytes, range)
                .map(|f| f.expect("our own encoding"))
                .find_map(|f| match f {
                    (n, FieldValue::Len(r)) if n == number => Some(self.bytes[r].to_vec()),
                    _ => None,
                })
                .unwrap_or_default()
        };
        FieldReader::new(&self.bytes, e.bytes.clone())
            .map(|f| f.expect("our own encoding"))
            .filter_map(|f| match f {
                (3, FieldValue::Len(pair)) => Some((field(pair.clone(), 1), field(pair, 2))),
                _ => None,
            })
            .collect()
    }
}

/// Writes one entry's line and metadata into the batch's bytes, in the
/// push's format.
struct EntryWriter<'a> {
    out: &'a mut Vec<u8>,
    encoding: LokiEncoding,
    /// Metadata pairs written so far (JSON: the first opens the object).
    pairs: usize,
}

impl EntryWriter<'_> {
    fn line(&mut self, line: &[u8]) {
        match self.encoding {
            LokiEncoding::Protobuf => put_bytes_field(self.out, ENTRY_LINE, line),
            LokiEncoding::Json => json::write_str(self.out, &String::from_utf8_lossy(line)),
        }
    }

    fn pair(&mut self, name: &[u8], value: &[u8]) {
        match self.encoding {
            LokiEncoding::Protobuf => put_pair(self.out, name, value),
            LokiEncoding::Json => {
                self.out
                    .extend_from_slice(if self.pairs == 0 { b",{" } else { b"," });
                json::write_str(self.out, &String::from_utf8_lossy(name));
                self.out.push(b':');
                json::write_str(self.out, &String::from_utf8_lossy(value));
            }
        }
        self.pairs += 1;
    }

    /// Ends the entry with the resource's pairs, encoded in advance.
    fn finish(self, resource: &EncodedResource) {
        match self.encoding {
            LokiEncoding::Protobuf => self.out.extend_from_slice(&resource.bytes),
            LokiEncoding::Json => {
                if resource.pairs > 0 {
                    self.out
                        .extend_from_slice(if self.pairs == 0 { b",{" } else { b"," });
                    self.out.extend_from_slice(&resource.bytes);
                }
                if self.pairs + resource.pairs > 0 {
                    self.out.push(b'}');
                }
            }
        }
    }
}

/// The resource's metadata pairs, the same on every entry: encoded once per
/// batch (JSON: `"name":"value"` joined by commas).
struct EncodedResource {
    bytes: Vec<u8>,
    pairs: usize,
}

/// A metadata value from its `AnyValue`: strings as they are (lossy UTF-8
/// if they are not UTF-8), non-negative integers in decimal, booleans as
/// `true`/`false`, the rest as [`stringify`] writes them.
enum WireValue<'a> {
    Text(Cow<'a, [u8]>),
    Decimal(Decimal),
}

impl WireValue<'_> {
    fn as_bytes(&self) -> &[u8] {
        match self {
            WireValue::Text(t) => t,
            WireValue::Decimal(d) => d.as_bytes(),
        }
    }
}

fn wire_value<'a>(chunk: &'a Bytes, value: Range<usize>) -> Result<WireValue<'a>, DecodeError> {
    let mut field = None;
    for f in FieldReader::new(chunk, value.clone()) {
        field = Some(f?);
    }
    Ok(match field {
        None => WireValue::Text(Cow::Borrowed(b"")),
        Some((1, FieldValue::Len(r))) => WireValue::Text(utf8(&chunk[r])),
        Some((3, FieldValue::Varint(i))) if (i as i64) >= 0 => WireValue::Decimal(Decimal::new(i)),
        Some((2, FieldValue::Varint(b))) => {
            WireValue::Text(Cow::Borrowed(if b != 0 { b"true" } else { b"false" }))
        }
        Some(_) => WireValue::Text(Cow::Owned(
            stringify(&read_any_value(chunk, value)?).into_bytes(),
        )),
    })
}

/// Text that must be UTF-8 (Loki's lines and metadata are strings): as it
/// is when it is, lossy otherwise (our encoder never writes anything else).
fn utf8(bytes: &[u8]) -> Cow<'_, [u8]> {
    match std::str::from_utf8(bytes) {
        Ok(_) => Cow::Borrowed(bytes),
        Err(_) => Cow::Owned(String::from_utf8_lossy(bytes).into_owned().into_bytes()),
    }
}

/// Per-batch scratch space reused from record to record.
#[derive(Default)]
struct Scratch {
    /// The record's attributes that become metadata: (key, value) ranges.
    attributes: Vec<(Range<usize>, Range<usize>)>,
    /// Names given to the record's attributes so far, and where they lie.
    names: Vec<u8>,
    taken: Vec<Range<usize>>,
    /// The same names, once there are [`Scratch::INDEXED_FROM`] of them: a
    /// linear search per name made a record of n attributes cost n² (60,000
    /// attributes, a 1 MiB JSON line, took 32 s in a test build). Records
    /// of fewer attributes, nearly all, search in order and allocate nothing.
    index: HashSet<Vec<u8>>,
    /// The name being chosen.
    name: Vec<u8>,
}

impl Scratch {
    const INDEXED_FROM: usize = 32;
}

impl LokiExporter {
    /// Groups records by label set, entries of each stream in time order
    /// with strictly increasing timestamps, with structured metadata if it
    /// is on (tests).
    #[cfg(test)]
    pub(super) fn group(&self, records: &[Record]) -> Streams {
        let chunk = crate::encode::chunk_with_original(records);
        let with_metadata = self
            .structured_metadata
            .load(std::sync::atomic::Ordering::Relaxed);
        self.group_chunks(std::slice::from_ref(&chunk.bytes), with_metadata)
            .expect("records just encoded read back")
    }

    /// Groups the records of chunks (our own protobuf `LogRecord`s), reading
    /// their fields in place: no record is rebuilt, unless a label needs
    /// one of its attributes.
    pub(super) fn group_chunks(
        &self,
        chunks: &[Bytes],
        with_metadata: bool,
    ) -> Result<Streams, DecodeError> {
        let encoding = self.config.encoding;
        let resource = self.encoded_resource(encoding, with_metadata);
        let chunk_bytes: usize = chunks.iter().map(|c| c.len()).sum();
        let mut b = Streams {
            encoding,
            bytes: self.grouped_buffer(chunk_bytes + chunk_bytes / 2),
            streams: Vec::new(),
        };
        let mut scratch = Scratch::default();
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
                let w = WireRecord::read(chunk, range.clone(), &mut scratch.attributes)?;
                let stream = if dynamic || b.streams.is_empty() {
                    let labels = if dynamic {
                        self.labels_of(&read_record(chunk, range.clone())?, with_metadata)
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
                let start = b.bytes.len();
                b.bytes.reserve(range.len() + resource.bytes.len() + 64);
                let mut entry = EntryWriter {
                    out: &mut b.bytes,
                    encoding,
                    pairs: 0,
                };
                match (&w.original, with_metadata) {
                    // The fields travel in the line, as the program wrote it.
                    (Some(original), false) => entry.line(&chunk[original.clone()]),
                    _ => entry.line(&wire_line(chunk, w.body.clone())?),
                }
                if with_metadata {
                    self.write_wire_metadata(chunk, &w, &mut scratch, &mut entry)?;
                }
                // Without metadata, `resource` is empty (`encoded_resource`).
                entry.finish(&resource);
                let entry = Entry {
                    timestamp: if w.time != 0 { w.time } else { w.observed },
                    bytes: start..b.bytes.len(),
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

    /// The resource's metadata pairs in the push's format (none without
    /// structured metadata).
    fn encoded_resource(&self, encoding: LokiEncoding, with_metadata: bool) -> EncodedResource {
        let mut r = EncodedResource {
            bytes: Vec::new(),
            pairs: 0,
        };
        if !with_metadata {
            return r;
        }
        for (n, v) in &self.resource_metadata {
            match encoding {
                LokiEncoding::Protobuf => put_pair(&mut r.bytes, n.as_bytes(), v.as_bytes()),
                LokiEncoding::Json => {
                    if r.pairs > 0 {
                        r.bytes.push(b',');
                    }
                    json::write_str(&mut r.bytes, n);
                    r.bytes.push(b':');
                    json::write_str(&mut r.bytes, v);
                }
            }
            r.pairs += 1;
        }
        r
    }

    /// Writes a record's own structured metadata (not the resource's), from
    /// its wire fields.
    fn write_wire_metadata(
        &self,
        chunk: &Bytes,
        w: &WireRecord,
        scratch: &mut Scratch,
        entry: &mut EntryWriter,
    ) -> Result<(), DecodeError> {
        if let Some(text) = w.text.clone().filter(|t| !t.is_empty()) {
            entry.pair(b"level", &chunk[text]);
        }
        if w.number != 0 {
            entry.pair(b"severity_number", Decimal::new(w.number).as_bytes());
        }
        if let Some(iostream) = w.iostream.clone() {
            entry.pair(b"log_iostream", &chunk[iostream]);
        }
        if let Some(event) = w.event.clone().filter(|e| !e.is_empty()) {
            entry.pair(b"event_name", &chunk[event]);
        }
        let mut hex = [0u8; 32];
        if let Some(id) = w
            .trace
            .clone()
            .filter(|r| r.len() == 16 && chunk[r.clone()] != [0; 16])
        {
            entry.pair(b"trace_id", hex_into(&mut hex, &chunk[id]));
        }
        if let Some(id) = w
            .span
            .clone()
            .filter(|r| r.len() == 8 && chunk[r.clone()] != [0; 8])
        {
            entry.pair(b"span_id", hex_into(&mut hex, &chunk[id]));
        }
        if let (Some(id), Some(index), Some(last)) = w.split {
            entry.pair(b"logwrap_split_id", Decimal::new(id).as_bytes());
            entry.pair(b"logwrap_split_index", Decimal::new(index).as_bytes());
            entry.pair(b"logwrap_split_last", if last { b"true" } else { b"false" });
        }
        if w.time != 0 {
            entry.pair(b"observed_timestamp", Decimal::new(w.observed).as_bytes());
        }
        // The record's attributes, then (when encoded) the resource's, in
        // that order on the wire: the order changes how well snappy
        // compresses a push (measured at 3% of the bytes).
        let Scratch {
            attributes,
            names,
            taken,
            index,
            name,
        } = scratch;
        names.clear();
        taken.clear();
        index.clear();
        for (key, value) in attributes.iter() {
            name.clear();
            name.extend(
                chunk[key.clone()]
                    .iter()
                    .map(|&c| if c == b'.' { b'_' } else { c }),
            );
            let is_taken = |n: &[u8]| {
                self.reserved.iter().any(|r| r.as_bytes() == n)
                    || if taken.len() >= Scratch::INDEXED_FROM {
                        index.contains(n)
                    } else {
                        taken.iter().any(|t| &names[t.clone()] == n)
                    }
            };
            if is_taken(name) {
                let base = String::from_utf8_lossy(name).into_owned();
                let free = free_name(base, |n| is_taken(n.as_bytes()));
                name.clear();
                name.extend_from_slice(free.as_bytes());
            }
            let value = wire_value(chunk, value.clone())?;
            entry.pair(name, value.as_bytes());
            let start = names.len();
            names.extend_from_slice(name);
            taken.push(start..names.len());
            match taken.len().cmp(&Scratch::INDEXED_FROM) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => {
                    index.extend(taken.iter().map(|t| names[t.clone()].to_vec()));
                }
                std::cmp::Ordering::Greater => {
                    index.insert(name.clone());
                }
            }
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
            .into_iter()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(&n).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
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
fn line_text(body: &Value) -> Cow<'_, [u8]> {
    match body {
        Value::Str(s) => Cow::Borrowed(s.as_bytes()),
        Value::Bytes(b) => Cow::Owned(String::from_utf8_lossy(b).into_owned().into_bytes()),
        Value::Empty => Cow::Borrowed(b""),
        other => Cow::Owned(stringify(other).into_bytes()),
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

/// The fields of one `LogRecord` a push needs, as ranges in its chunk.
pub(super) struct WireRecord {
    time: u64,
    observed: u64,
    number: u64,
    text: Option<Range<usize>>,
    body: Option<Range<usize>>,
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
    /// Reads a record's fields in one pass; its other attributes (those
    /// that become metadata) go to `attributes` as (key, value) ranges, in
    /// order.
    fn read(
        chunk: &[u8],
        range: Range<usize>,
        attributes: &mut Vec<(Range<usize>, Range<usize>)>,
    ) -> Result<Self, DecodeError> {
        attributes.clear();
        let mut w = WireRecord {
            time: 0,
            observed: 0,
            number: 0,
            text: None,
            body: None,
            trace: None,
            span: None,
            event: None,
            iostream: None,
            original: None,
            split: (None, None, None),
        };
        for field in FieldReader::new(chunk, range) {
            match field? {
                (1, FieldValue::Fixed64(t)) => w.time = t,
                (2, FieldValue::Varint(n)) => w.number = n,
                (3, FieldValue::Len(r)) => w.text = Some(r),
                (5, FieldValue::Len(r)) => w.body = Some(r),
                (6, FieldValue::Len(kv)) => {
                    let (key, value) = key_value_ranges(chunk, kv)?;
                    let string = || any_string(chunk, value.clone());
                    match &chunk[key.clone()] {
                        b"log.iostream" => w.iostream = string()?,
                        b"log.record.original" => w.original = string()?,
                        b"logwrap.split.id" => w.split.0 = any_int(chunk, value.clone())?,
                        b"logwrap.split.index" => w.split.1 = any_int(chunk, value.clone())?,
                        b"logwrap.split.last" => {
                            w.split.2 = any_int(chunk, value.clone())?.map(|b| b != 0)
                        }
                        _ => attributes.push((key, value)),
                    }
                }
                (9, FieldValue::Len(r)) => w.trace = Some(r),
                (10, FieldValue::Len(r)) => w.span = Some(r),
                (11, FieldValue::Fixed64(t)) => w.observed = t,
                (12, FieldValue::Len(r)) => w.event = Some(r),
                _ => {}
            }
        }
        Ok(w)
    }
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
fn wire_line(chunk: &Bytes, body: Option<Range<usize>>) -> Result<Cow<'_, [u8]>, DecodeError> {
    let Some(body) = body else {
        return Ok(Cow::Borrowed(b""));
    };
    let mut field = None;
    for f in FieldReader::new(chunk, body.clone()) {
        field = Some(f?);
    }
    Ok(match field {
        None => Cow::Borrowed(b""),
        Some((1, FieldValue::Len(r))) => utf8(&chunk[r]),
        Some((7, FieldValue::Len(r))) => {
            Cow::Owned(String::from_utf8_lossy(&chunk[r]).into_owned().into_bytes())
        }
        Some(_) => Cow::Owned(line_text(&read_any_value(chunk, body)?).into_owned()),
    })
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

fn put_pair(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    put_len_field(
        out,
        ENTRY_METADATA,
        field_len(name.len()) + field_len(value.len()),
    );
    put_bytes_field(out, PAIR_NAME, name);
    put_bytes_field(out, PAIR_VALUE, value);
}

/// The push request in the format its entries were written in, written
/// into `out` (emptied first, its allocation reused).
pub(super) fn encode(b: &Streams, mut out: Vec<u8>) -> Vec<u8> {
    out.clear();
    match b.encoding {
        LokiEncoding::Protobuf => encode_protobuf(b, &mut out),
        LokiEncoding::Json => encode_json(b, &mut out),
    }
    out
}

/// An `EntryAdapter`'s length: its timestamp field and its written bytes.
fn entry_len(e: &Entry) -> usize {
    field_len(timestamp_len(e.timestamp)) + e.bytes.len()
}

fn encode_protobuf(b: &Streams, out: &mut Vec<u8>) {
    // Each stream's length first, so the request is allocated once.
    let streams_len: Vec<usize> = b
        .streams
        .iter()
        .map(|s| {
            field_len(s.selector.len())
                + s.entries
                    .iter()
                    .map(|e| field_len(entry_len(e)))
                    .sum::<usize>()
        })
        .collect();
    out.reserve(streams_len.iter().map(|&len| field_len(len)).sum());
    for (stream, &len) in b.streams.iter().zip(&streams_len) {
        put_len_field(out, PUSH_STREAMS, len);
        put_bytes_field(out, STREAM_LABELS, stream.selector.as_bytes());
        for e in &stream.entries {
            put_len_field(out, STREAM_ENTRIES, entry_len(e));
            put_len_field(out, ENTRY_TIMESTAMP, timestamp_len(e.timestamp));
            let (secs, nanos) = (e.timestamp / 1_000_000_000, e.timestamp % 1_000_000_000);
            if secs != 0 {
                out.push(TS_SECONDS);
                put_varint(out, secs);
            }
            if nanos != 0 {
                out.push(TS_NANOS);
                put_varint(out, nanos);
            }
            out.extend_from_slice(&b.bytes[e.bytes.clone()]);
        }
    }
}

// ---- JSON ----------------------------------------------------------------

/// Loki's JSON push: `{"streams":[{"stream":{labels},"values":[["ns","line",{metadata}]]}]}`.
fn encode_json(b: &Streams, out: &mut Vec<u8>) {
    let entries: usize = b.streams.iter().map(|s| s.entries.len()).sum();
    out.reserve(b.bytes.len() + entries * 24 + 64);
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
            json::write_str(out, k);
            out.push(b':');
            json::write_str(out, v);
        }
        out.extend_from_slice(b"},\"values\":[");
        for (j, e) in stream.entries.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"[\"");
            out.extend_from_slice(Decimal::new(e.timestamp).as_bytes());
            out.extend_from_slice(b"\",");
            out.extend_from_slice(&b.bytes[e.bytes.clone()]);
            out.push(b']');
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}");
}
