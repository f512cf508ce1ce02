//! What a structured line's fields mean: the one mapping shared by JSON and
//! logfmt.
//!
//! | role | keys (first match wins; case-insensitive where marked *) |
//! |---|---|
//! | message (body) | `msg`, `message`*, `@m`, `@message` (hclog), `event` (structlog), `log` (Docker's JSON files), `short_message` (GELF), `MESSAGE` (journald), `@mt` |
//! | level | `level`*, `lvl`*, `severity`*, `levelname`*, `loglevel`* (.NET's `LogLevel`), `log_level`*, `log.level` (ECS), `@l`, `@level` (hclog), `severity_text`, `PRIORITY` (journald), `s` (MongoDB: `I`, `W`, `D1`..) |
//! | time | `ts`, `t` (Grafana; MongoDB's `{"$date": ...}`), `time`*, `timestamp`*, `@timestamp`, `@t`, `datetime`, `date_time` (ClickHouse), `asctime`, `timeMillis`, `__REALTIME_TIMESTAMP` (journald, µs) |
//! | trace | `trace_id`, `traceId`, `traceid`, `trace.id`; `span_id`, `spanId`, `spanid`, `span.id`; `trace_flags`, `traceFlags`, `trace.flags`; `traceparent` (W3C) |
//!
//! Levels may be words or numbers, as numbers or in strings (`30`, `"6"`:
//! syslog 0-7, pino/bunyan 10-60). A field is consumed only when its value
//! means what the key says: a level that is no known level word or number, a time that does not parse or lies
//! outside the believable window, a trace id that is not 32 hex digits, all
//! stay as ordinary attributes, so nothing is lost. Every other field becomes
//! an attribute, nested objects as key-value lists.

use std::collections::HashMap;

use bytes::Bytes;

use crate::parse::severity;
use crate::parse::timestamp::{self, TimeConfig};
use crate::record::{Record, Severity, Str, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Message key with its priority (lower wins).
    Message(u8),
    Level,
    /// MongoDB's one-letter `s`.
    LetterLevel,
    Time,
    TraceId,
    SpanId,
    TraceFlags,
    TraceParent,
    Other,
}

fn role(key: &str) -> Role {
    // Every field of every structured line asks: the length decides first,
    // so a key that means nothing costs a comparison or two.
    let exact = match key.len() {
        1 => match key {
            "s" => Role::LetterLevel,
            "t" => Role::Time,
            _ => Role::Other,
        },
        2 => match key {
            "ts" | "@t" => Role::Time,
            "@m" => Role::Message(2),
            "@l" => Role::Level,
            _ => Role::Other,
        },
        3 => match key {
            "msg" => Role::Message(0),
            "log" => Role::Message(4),
            "lvl" => Role::Level,
            "@mt" => Role::Message(7),
            _ => Role::Other,
        },
        4 => match key {
            "time" => Role::Time,
            _ => Role::Other,
        },
        5 => match key {
            "event" => Role::Message(3),
            "level" => Role::Level,
            _ => Role::Other,
        },
        6 => match key {
            "@level" => Role::Level,
            "spanId" | "spanid" => Role::SpanId,
            _ => Role::Other,
        },
        7 => match key {
            "MESSAGE" => Role::Message(6),
            "message" => Role::Message(1),
            "asctime" => Role::Time,
            "traceId" | "traceid" => Role::TraceId,
            "span_id" | "span.id" => Role::SpanId,
            _ => Role::Other,
        },
        8 => match key {
            "@message" => Role::Message(2),
            "datetime" => Role::Time,
            "PRIORITY" => Role::Level,
            "severity" | "loglevel" => Role::Level,
            "trace_id" | "trace.id" => Role::TraceId,
            _ => Role::Other,
        },
        9 => match key {
            "log.level" | "levelname" | "log_level" => Role::Level,
            "timestamp" => Role::Time,
            "date_time" => Role::Time,
            _ => Role::Other,
        },
        10 => match key {
            "@timestamp" | "timeMillis" => Role::Time,
            "traceFlags" => Role::TraceFlags,
            _ => Role::Other,
        },
        11 => match key {
            "trace_flags" | "trace.flags" => Role::TraceFlags,
            "traceparent" => Role::TraceParent,
            _ => Role::Other,
        },
        13 => match key {
            "short_message" => Role::Message(5),
            "severity_text" => Role::Level,
            _ => Role::Other,
        },
        20 if key == "__REALTIME_TIMESTAMP" => Role::Time,
        _ => Role::Other,
    };
    // The keys read in any case, written otherwise than in lower case (their
    // lower-case forms are above). They start with l, s, t or m: most
    // attribute keys stop here.
    if exact != Role::Other
        || key.len() > 9
        || key.len() < 3
        || !matches!(key.as_bytes()[0] | 0x20, b'l' | b's' | b't' | b'm')
    {
        return exact;
    }
    // The keys read in any case.
    let mut lower = [0u8; 9];
    for (d, s) in lower.iter_mut().zip(key.bytes()) {
        *d = s.to_ascii_lowercase();
    }
    match &lower[..key.len()] {
        b"level" | b"lvl" | b"severity" | b"levelname" | b"loglevel" | b"log_level" => Role::Level,
        b"time" | b"timestamp" => Role::Time,
        b"message" => Role::Message(1),
        _ => Role::Other,
    }
}

/// A key or string value as a parser found it: still a piece of the line, or
/// already a string of its own (decoded escapes, or a caller's [`Str`]).
///
/// Most fields of a line are consumed (message, level, time) or dropped, and
/// only attributes and the few kept values need a [`Str`]: slicing the
/// line's shared `Bytes` costs a reference-count increment and, later, a
/// decrement, so pieces stay `&str` until [`Fields`] knows it keeps them.
#[derive(Debug)]
pub enum Text<'a> {
    /// A piece of the line given to [`Fields::reusing`].
    Line(&'a str),
    Str(Str),
}

impl Text<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            Text::Line(s) => s,
            Text::Str(s) => s.as_str(),
        }
    }
}

/// A field's value as a parser found it: a string not yet taken from the
/// line, or any other value.
#[derive(Debug)]
pub enum FieldValue<'a> {
    Text(Text<'a>),
    Value(Value),
}

/// Collects the fields of one structured line.
pub struct Fields<'a> {
    time_config: &'a TimeConfig,
    observed: u64,
    /// The line whose pieces arrive as [`Text::Line`].
    line: &'a Bytes,
    /// The best message field so far: its priority, key and value.
    message: Option<(u8, Text<'a>, Text<'a>)>,
    severity: Option<Severity>,
    time: Option<i128>,
    trace_id: Option<[u8; 16]>,
    span_id: Option<[u8; 8]>,
    flags: Option<u32>,
    /// Serilog's compact JSON (CLEF): a line without `@l` is Information.
    clef: bool,
    pub attributes: Vec<(Str, Value)>,
    attribute_index: KeyIndex,
}

/// Where each key of a growing key-value list is, once the list is long.
/// Keys must stay unique (the last value wins), and a linear search per key
/// made a line of n distinct keys cost n²: a 256 KiB JSON line of 25,000
/// keys held the reader 0.57 s, a 1 MiB one 12 s. Short lists, nearly all of
/// them, keep the linear search and allocate nothing.
#[derive(Default)]
pub struct KeyIndex(Option<HashMap<Str, usize>>);

impl KeyIndex {
    /// Lists shorter than this are searched in order.
    const FROM: usize = 32;

    /// The position of `key` in `entries`, if it is there.
    pub fn position(&mut self, entries: &[(Str, Value)], key: &str) -> Option<usize> {
        if entries.len() < Self::FROM {
            return entries.iter().position(|(k, _)| k.as_str() == key);
        }
        let index = self.0.get_or_insert_with(|| {
            entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect()
        });
        // `Str` hashes as bytes, not as `str`, so the key is looked up as one.
        index.get(&Str::from(key.to_owned())).copied()
    }

    /// Notes the entry just pushed onto `entries`.
    pub fn pushed(&mut self, entries: &[(Str, Value)]) {
        if let (Some(index), Some((key, _))) = (&mut self.0, entries.last()) {
            index.insert(key.clone(), entries.len() - 1);
        }
    }
}

/// The line of fields that only ever receive [`Text::Str`].
static NO_LINE: Bytes = Bytes::new();

impl<'a> Fields<'a> {
    /// Fields fed whole [`Str`]s and [`Value`]s (no line to slice).
    pub fn new(time_config: &'a TimeConfig, observed: u64) -> Self {
        Fields::reusing(time_config, observed, &NO_LINE, Vec::new())
    }

    /// Collects the fields of `line` into `scratch` (emptied first), a list
    /// the caller keeps from line to line, so a line that turns out not to
    /// parse allocates nothing; [`Fields::finish`] hands the list to the
    /// record.
    pub fn reusing(
        time_config: &'a TimeConfig,
        observed: u64,
        line: &'a Bytes,
        mut scratch: Vec<(Str, Value)>,
    ) -> Self {
        scratch.clear();
        Fields {
            time_config,
            observed,
            line,
            message: None,
            severity: None,
            time: None,
            trace_id: None,
            span_id: None,
            flags: None,
            clef: false,
            attributes: scratch,
            attribute_index: KeyIndex::default(),
        }
    }

    /// True when `text` is the line these fields were made for (its very
    /// bytes, not a copy): only its pieces may be given as [`Text::Line`].
    pub fn reads(&self, text: &str) -> bool {
        std::ptr::eq(text.as_bytes(), &self.line[..])
    }

    /// `text` as a [`Str`] (a slice of the line when it is a piece of it).
    pub fn keep(&self, text: Text<'a>) -> Str {
        keep(self.line, text)
    }

    /// Forgets everything taken so far (the line turned out not to parse).
    pub fn clear(&mut self) {
        let scratch = std::mem::take(&mut self.attributes);
        *self = Fields::reusing(self.time_config, self.observed, self.line, scratch);
    }

    /// The scratch list back, for the next line.
    pub fn into_scratch(mut self) -> Vec<(Str, Value)> {
        self.attributes.clear();
        self.attributes
    }

    /// Takes one field; later duplicates of a key replace earlier ones.
    pub fn add(&mut self, key: Str, value: Value) {
        let value = match value {
            Value::Str(s) => FieldValue::Text(Text::Str(s)),
            other => FieldValue::Value(other),
        };
        self.add_field(Text::Str(key), value);
    }

    /// Takes one field of the line; later duplicates of a key replace
    /// earlier ones. Pieces of the line become [`Str`]s only if kept.
    #[inline(always)]
    pub fn add_field(&mut self, key: Text<'a>, value: FieldValue<'a>) {
        // The checks look at the value in place and keep (slice) only what
        // they consume: a field that stays an attribute is moved once.
        let consumed = match role(key.as_str()) {
            Role::Message(priority) => {
                // Serilog's compact JSON names its message `@m` or `@mt`.
                if matches!(priority, 2 | 7) && key.as_str() != "@message" {
                    self.clef = true;
                }
                match value {
                    FieldValue::Text(text) => {
                        if let Err((key, text)) = self.take_message(priority, key, text) {
                            self.attribute_field(key, FieldValue::Text(text));
                        }
                        return;
                    }
                    other => {
                        self.attribute_field(key, other);
                        return;
                    }
                }
            }
            Role::Level if self.severity.is_none() => self.take_level(&value),
            Role::LetterLevel if self.severity.is_none() => self.take_letter_level(&value),
            Role::Time if self.time.is_none() => self.take_time(&value),
            Role::TraceId if self.trace_id.is_none() => {
                self.trace_id = hex_field::<16>(&value);
                self.trace_id.is_some()
            }
            Role::SpanId if self.span_id.is_none() => {
                self.span_id = hex_field::<8>(&value);
                self.span_id.is_some()
            }
            Role::TraceFlags if self.flags.is_none() => {
                self.flags = flags_field(&value);
                self.flags.is_some()
            }
            Role::TraceParent if self.trace_id.is_none() => self.take_traceparent(&value),
            _ => false,
        };
        if !consumed {
            self.attribute_field(key, value);
        }
    }

    /// Adds an attribute, keeping keys unique (the last value wins).
    pub fn attribute(&mut self, key: Str, value: Value) {
        self.attribute_field(Text::Str(key), FieldValue::Value(value));
    }

    fn attribute_field(&mut self, key: Text<'a>, value: FieldValue<'a>) {
        let k = key.as_str();
        // `log.iostream` is logwrap's own; a field of that name cannot replace it.
        if k == "log.iostream" {
            return;
        }
        let value = match value {
            FieldValue::Text(t) => Value::Str(keep(self.line, t)),
            FieldValue::Value(v) => v,
        };
        match self.attribute_index.position(&self.attributes, k) {
            Some(i) => self.attributes[i].1 = value,
            None => {
                let key = keep(self.line, key);
                self.attributes.reserve(1);
                let len = self.attributes.len();
                // SAFETY: `reserve` made room for one more entry at `len`;
                // both halves are written before the length covers them.
                // Written in place rather than pushed as a tuple: the tuple
                // was assembled on the stack with 8-byte stores and copied
                // with 16-byte loads, a store-forwarding stall that perf
                // put at half of this function's samples.
                unsafe {
                    let slot = self.attributes.as_mut_ptr().add(len);
                    std::ptr::addr_of_mut!((*slot).0).write(key);
                    std::ptr::addr_of_mut!((*slot).1).write(value);
                    self.attributes.set_len(len + 1);
                }
                self.attribute_index.pushed(&self.attributes);
            }
        }
    }

    fn take_message(
        &mut self,
        priority: u8,
        key: Text<'a>,
        value: Text<'a>,
    ) -> Result<(), (Text<'a>, Text<'a>)> {
        match self.message.take() {
            Some((held, held_key, old)) if held <= priority => {
                self.message = Some((held, held_key, old));
                Err((key, value))
            }
            Some((_, held_key, old)) => {
                // The better key arrived later: the earlier one becomes an attribute.
                self.message = Some((priority, key, value));
                self.attribute_field(held_key, FieldValue::Text(old));
                Ok(())
            }
            None => {
                self.message = Some((priority, key, value));
                Ok(())
            }
        }
    }

    fn take_level(&mut self, value: &FieldValue<'a>) -> bool {
        let found = match value {
            FieldValue::Text(t) => severity::from_word(t.as_str().as_bytes().trim_ascii())
                .map(|n| (n, keep_ref(self.line, t))),
            FieldValue::Value(Value::Int(i)) => {
                severity::from_number(*i).map(|n| (n, Str::from(i.to_string())))
            }
            FieldValue::Value(_) => None,
        };
        match found {
            Some((number, text)) => {
                self.severity = Some(Severity { number, text });
                true
            }
            None => false,
        }
    }

    fn take_letter_level(&mut self, value: &FieldValue<'a>) -> bool {
        let FieldValue::Text(t) = value else {
            return false;
        };
        match severity::from_letter_field(t.as_str().as_bytes()) {
            Some(number) => {
                self.severity = Some(Severity {
                    number,
                    text: keep_ref(self.line, t),
                });
                true
            }
            None => false,
        }
    }

    fn take_time(&mut self, value: &FieldValue<'a>) -> bool {
        let t = match value {
            FieldValue::Text(t) => self.time_of_str(t.as_str()),
            FieldValue::Value(v) => self.time_of(v),
        };
        match t {
            Some(t) if self.time_config.believable(t, self.observed) => {
                self.time = Some(t);
                true
            }
            _ => false,
        }
    }

    fn time_of_str(&self, s: &str) -> Option<i128> {
        timestamp::from_field_str(s, self.time_config, self.observed)
    }

    fn time_of(&self, value: &Value) -> Option<i128> {
        match value {
            Value::Str(s) => self.time_of_str(s.as_str()),
            Value::Int(i) => timestamp::from_epoch_i64(*i),
            Value::Double(d) => timestamp::from_epoch_f64(*d),
            // MongoDB's extended JSON: `{"$date": "2026-11-28T09:14:02.123+00:00"}`.
            Value::Map(entries) => match entries.as_slice() {
                [(key, inner)] if key.as_str() == "$date" && !matches!(inner, Value::Map(_)) => {
                    self.time_of(inner)
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn take_traceparent(&mut self, value: &FieldValue<'a>) -> bool {
        // version-traceid-spanid-flags, e.g. 00-4bf9...-00f0...-01
        let FieldValue::Text(s) = value else {
            return false;
        };
        let mut parts = s.as_str().split('-');
        let (Some(_version), Some(trace), Some(span), Some(flags), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return false;
        };
        match (
            hex::<16>(trace),
            hex::<8>(span),
            u8::from_str_radix(flags, 16),
        ) {
            (Some(t), Some(sp), Ok(f)) if flags.len() == 2 => {
                self.trace_id = Some(t);
                self.span_id = Some(sp);
                self.flags = Some(f as u32);
                true
            }
            _ => false,
        }
    }

    /// True when a level field was found (or CLEF's implied one).
    pub fn has_level(&self) -> bool {
        self.severity.is_some() || self.clef
    }

    /// Moves what was found into `record` and returns the scratch list,
    /// empty. Without a message field the body stays what the caller set
    /// (the whole line).
    pub fn finish(mut self, record: &mut Record) -> Vec<(Str, Value)> {
        if let Some((_, _, body)) = self.message.take() {
            record.body = Value::Str(keep(self.line, body));
        }
        if let Some(severity) = self.severity.take() {
            record.severity = severity;
        } else if self.clef {
            // "An implicit Information level is assumed if not present" (CLEF).
            record.severity = Severity {
                number: crate::record::SeverityNumber::INFO,
                text: Str::from_static("Information"),
            };
        }
        if let Some(t) = self.time {
            record.time_unix_nano = t as u64;
        }
        if let Some(id) = self.trace_id {
            record.trace_id = id;
        }
        if let Some(id) = self.span_id {
            record.span_id = id;
        }
        if let Some(f) = self.flags {
            record.flags = f & 0xff;
        }
        // The list itself goes to the record (no copy, no allocation); the
        // record's own empty one comes back. Records are encoded and
        // dropped on the reader thread, and their lists come back through
        // `Parser::recycle`.
        if record.attributes.is_empty() {
            std::mem::swap(&mut record.attributes, &mut self.attributes);
        } else {
            record.attributes.append(&mut self.attributes);
        }
        self.attributes
    }
}

/// [`keep`] of a borrowed `text` (a clone when it is already a [`Str`]).
fn keep_ref(line: &Bytes, text: &Text<'_>) -> Str {
    match text {
        Text::Line(s) => keep(line, Text::Line(s)),
        Text::Str(s) => s.clone(),
    }
}

/// `text` as a [`Str`]: a slice of `line` (one reference count, no copy)
/// when it is a piece of it.
fn keep(line: &Bytes, text: Text<'_>) -> Str {
    match text {
        Text::Str(s) => s,
        Text::Line(s) => {
            // A `Text::Line` that is not inside `line` is a caller's bug:
            // refuse it rather than slice the wrong bytes.
            let start = (s.as_ptr() as usize)
                .checked_sub(line.as_ptr() as usize)
                .filter(|start| start + s.len() <= line.len())
                .expect("Text::Line is a piece of the line given to Fields");
            // SAFETY: these bytes are the very bytes of `s`, a `&str`
            // (`Bytes` never changes its bytes).
            unsafe { Str::from_utf8_validated(line.slice(start..start + s.len())) }
        }
    }
}

fn hex_field<const N: usize>(value: &FieldValue<'_>) -> Option<[u8; N]> {
    match value {
        FieldValue::Text(s) => hex::<N>(s.as_str()),
        FieldValue::Value(_) => None,
    }
}

/// Exactly 2N hex digits, not all zero (an all-zero id is invalid in W3C and OTLP).
fn hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    (out != [0u8; N]).then_some(out)
}

fn flags_field(value: &FieldValue<'_>) -> Option<u32> {
    match value {
        FieldValue::Value(Value::Int(i)) if (0..=255).contains(i) => Some(*i as u32),
        FieldValue::Text(s) if s.as_str().len() <= 2 => {
            u8::from_str_radix(s.as_str(), 16).ok().map(u32::from)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{SeverityNumber, Stream};

    const OBSERVED: u64 = 1_795_618_800_000_000_000;

    fn apply(fields: Vec<(&str, Value)>) -> Record {
        let config = TimeConfig::default();
        let mut f = Fields::new(&config, OBSERVED);
        for (k, v) in fields {
            f.add(Str::from(k.to_string()), v);
        }
        let mut r = Record::new(
            Stream::Stdout,
            OBSERVED,
            Value::Str(Str::from("original line")),
        );
        f.finish(&mut r);
        r
    }

    fn s(v: &str) -> Value {
        Value::Str(Str::from(v.to_string()))
    }

    #[test]
    fn message_level_time_and_trace_are_consumed() {
        let r = apply(vec![
            ("ts", s("2026-11-25T14:59:00Z")),
            ("level", s("warn")),
            ("msg", s("slow")),
            ("trace_id", s("4bf92f3577b34da6a3ce929d0e0e4736")),
            ("span_id", s("00f067aa0ba902b7")),
            ("trace_flags", s("01")),
            ("table", s("orders")),
        ]);
        assert_eq!(r.body, s("slow"));
        assert_eq!(r.severity.number, SeverityNumber::WARN);
        assert_eq!(r.severity.text.as_str(), "warn");
        assert_eq!(r.time_unix_nano, OBSERVED - 60_000_000_000);
        assert_eq!(r.trace_id[0], 0x4b);
        assert_eq!(r.span_id[7], 0xb7);
        assert_eq!(r.flags, 1);
        assert_eq!(r.attributes, vec![(Str::from("table"), s("orders"))]);
    }

    #[test]
    fn numeric_levels_and_epoch_times() {
        let r = apply(vec![
            ("level", Value::Int(50)),
            ("time", Value::Int(1_795_618_800_000)),
            ("msg", s("x")),
        ]);
        assert_eq!(r.severity.number, SeverityNumber::ERROR);
        assert_eq!(r.severity.text.as_str(), "50");
        assert_eq!(r.time_unix_nano, OBSERVED);
    }

    #[test]
    fn program_specific_keys() {
        // MongoDB 4.4+: a one-letter level and extended-JSON time.
        let r = apply(vec![
            (
                "t",
                Value::Map(vec![(
                    Str::from("$date"),
                    s("2026-11-25T14:59:00.123+00:00"),
                )]),
            ),
            ("s", s("W")),
            ("c", s("NETWORK")),
            ("msg", s("slow")),
        ]);
        assert_eq!((r.severity.number.0, r.severity.text.as_str()), (13, "W"));
        assert_eq!(r.time_unix_nano, OBSERVED - 59_877_000_000);
        // journald's JSON export: syslog priority and µs in strings.
        let r = apply(vec![
            ("__REALTIME_TIMESTAMP", s("1795618799000000")),
            ("PRIORITY", s("3")),
            ("MESSAGE", s("unit failed")),
        ]);
        assert_eq!(r.severity.number, SeverityNumber::ERROR);
        assert_eq!(r.time_unix_nano, OBSERVED - 1_000_000_000);
        // hclog JSON and .NET's JSON console formatter.
        let r = apply(vec![("@level", s("warn")), ("@message", s("m"))]);
        assert_eq!(
            (r.severity.number, &r.body),
            (SeverityNumber::WARN, &s("m"))
        );
        let r = apply(vec![("LogLevel", s("Information")), ("Message", s("up"))]);
        assert_eq!(
            (r.severity.number, &r.body),
            (SeverityNumber::INFO, &s("up"))
        );
        // A numeric level in a string (logfmt has no numbers).
        let r = apply(vec![("level", s("50"))]);
        assert_eq!(r.severity.number, SeverityNumber::ERROR);
        // `s` that is not a level stays.
        let r = apply(vec![("s", s("hello"))]);
        assert_eq!(r.severity, Severity::unset());
    }

    #[test]
    fn unusable_values_stay_attributes() {
        let r = apply(vec![
            ("level", s("loud")),
            ("time", s("yesterday")),
            ("ts", s("2015-07-29T17:41:44Z")),
            ("trace_id", s("not-hex")),
            ("span_id", s("0000000000000000")),
        ]);
        assert_eq!(
            r.body,
            s("original line"),
            "no message field: the line stays the body"
        );
        assert_eq!(r.severity, Severity::unset());
        assert_eq!(r.time_unix_nano, 0);
        let keys: Vec<&str> = r.attributes.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["level", "time", "ts", "trace_id", "span_id"]);
    }

    #[test]
    fn the_best_message_key_wins_and_others_are_kept() {
        let r = apply(vec![("message", s("second")), ("msg", s("first"))]);
        assert_eq!(r.body, s("first"));
        assert_eq!(r.attributes, vec![(Str::from("message"), s("second"))]);
    }

    #[test]
    fn traceparent_sets_all_three() {
        let r = apply(vec![(
            "traceparent",
            s("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        )]);
        assert_eq!(r.trace_id[15], 0x36);
        assert_eq!(r.span_id[0], 0x00);
        assert_eq!(r.flags, 1);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_and_iostream_is_reserved() {
        let r = apply(vec![
            ("a", Value::Int(1)),
            ("a", Value::Int(2)),
            ("log.iostream", s("fake")),
        ]);
        assert_eq!(r.attributes, vec![(Str::from("a"), Value::Int(2))]);
    }

    #[test]
    fn key_names_per_library() {
        for (key, role_) in [
            ("levelname", Role::Level),
            ("level", Role::Level),
            ("lvl", Role::Level),
            ("Lvl", Role::Level),
            ("severity", Role::Level),
            ("loglevel", Role::Level),
            ("log_level", Role::Level),
            ("LOG_LEVEL", Role::Level),
            ("time", Role::Time),
            ("TIME", Role::Time),
            ("timestamp", Role::Time),
            ("message", Role::Message(1)),
            ("MESSAGE", Role::Message(6)),
            ("table", Role::Other),
            ("Msg", Role::Other),
            ("LEVEL", Role::Level),
            ("Severity", Role::Level),
            ("log.level", Role::Level),
            ("@l", Role::Level),
            ("@timestamp", Role::Time),
            ("Timestamp", Role::Time),
            ("event", Role::Message(3)),
            ("Message", Role::Message(1)),
            ("@message", Role::Message(2)),
            ("@level", Role::Level),
            ("LogLevel", Role::Level),
            ("PRIORITY", Role::Level),
            ("s", Role::LetterLevel),
            ("t", Role::Time),
            ("__REALTIME_TIMESTAMP", Role::Time),
            ("@m", Role::Message(2)),
            ("user", Role::Other),
        ] {
            assert_eq!(role(key), role_, "{key}");
        }
    }
}
