//! JSON object lines → fields.
//!
//! A scanner written for the shape log lines have (one flat object of short
//! keys and values, few escapes) walks the line once and hands each field
//! to [`Fields`] as it goes. It is hand-written because no crate parses into
//! our [`Value`] without building a tree of its own first, and serde_json's
//! visitor route (what this replaced) cost ~2x: every key and value became
//! a reference-counted slice of the line even when the field is consumed
//! (message key, level key, time). Here keys and string values stay `&str`
//! pieces of the line until [`Fields`] keeps them; only strings with escapes
//! are decoded into new buffers.
//!
//! It accepts exactly what serde_json accepts (RFC 8259: control characters
//! in strings, bad escapes and lone surrogates are errors; only space, tab,
//! CR and LF are whitespace; no trailing commas), which the tests check
//! against serde_json on the same lines. Numbers: integers that fit i64 are
//! ints, larger ones strings (the spec's AnyValue mapping), the rest
//! doubles; everything but a short plain integer is read by serde_json
//! itself, so doubles round exactly as before. `null` is an empty value.
//!
//! Anything that is not one complete JSON object (trailing text, a bare
//! array, a syntax error) is not parsed: the caller treats the line as text.

use crate::parse::fields::{FieldValue, Fields, KeyIndex, Text};
use crate::record::{Str, Value};

/// A line nested deeper than this is treated as text: a guard against stack
/// exhaustion on hostile input (serde_json's own limit is 128).
const MAX_DEPTH: usize = 32;

/// Parses `text` as one JSON object, feeding its fields to `fields`.
/// `text` must be the line `fields` was made for (the caller's one UTF-8
/// check). Returns false (and leaves `fields` empty) when the line is not a
/// JSON object.
pub fn parse_object<'a>(text: &'a str, fields: &mut Fields<'a>) -> bool {
    if !fields.reads(text) {
        // Pieces of the line are sliced from `fields`' line.
        return false;
    }
    let mut scanner = Scanner { text, at: 0 };
    let ok = scanner.object_fields(fields).is_some();
    if !ok {
        // Fields fed before the syntax error are discarded with the line's
        // structure: the caller falls back to text.
        fields.clear();
    }
    ok
}

/// A position in the line; every method returns `None` on invalid JSON.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        let b = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(self.at) {
            self.at += 1;
        }
    }

    /// Consumes `byte` (after whitespace) or fails.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The top-level object, each field handed to `fields`; then the end of
    /// the line.
    fn object_fields(&mut self, fields: &mut Fields<'a>) -> Option<()> {
        self.expect(b'{')?;
        self.skip_whitespace();
        if self.peek()? == b'}' {
            self.at += 1;
        } else {
            loop {
                self.expect(b'"')?;
                let key = self.string()?;
                self.expect(b':')?;
                self.skip_whitespace();
                let value = match self.peek()? {
                    b'"' => {
                        self.at += 1;
                        FieldValue::Text(self.string()?)
                    }
                    // Short plain integers without a call that returns
                    // through memory (see `string`).
                    b'0'..=b'9' if let Some(n) = self.plain_integer() => {
                        FieldValue::Value(Value::Int(n))
                    }
                    // A string already made (an integer past u64 reads as
                    // one) is a string like any other: it may be a message.
                    _ => match self.value(1, fields)? {
                        Value::Str(s) => FieldValue::Text(Text::Str(s)),
                        other => FieldValue::Value(other),
                    },
                };
                fields.add_field(key, value);
                self.skip_whitespace();
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.skip_whitespace();
        (self.at == self.text.len()).then_some(())
    }

    /// Any value at `depth` (the top-level object's values are at 1),
    /// strings made [`Str`]s by `fields`.
    fn value(&mut self, depth: usize, fields: &Fields<'a>) -> Option<Value> {
        self.skip_whitespace();
        match self.peek()? {
            b'"' => {
                self.at += 1;
                let s = self.string()?;
                Some(Value::Str(fields.keep(s)))
            }
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.at += 1;
                let mut entries: Vec<(Str, Value)> = Vec::new();
                let mut index = KeyIndex::default();
                self.skip_whitespace();
                if self.peek()? == b'}' {
                    self.at += 1;
                    return Some(Value::Map(entries));
                }
                loop {
                    self.expect(b'"')?;
                    let key = fields.keep(self.string()?);
                    self.expect(b':')?;
                    let v = self.value(depth + 1, fields)?;
                    // Keys of a kvlist must be unique: the last one wins.
                    match index.position(&entries, key.as_str()) {
                        Some(i) => entries[i].1 = v,
                        None => {
                            entries.push((key, v));
                            index.pushed(&entries);
                        }
                    }
                    self.skip_whitespace();
                    match self.peek()? {
                        b',' => self.at += 1,
                        b'}' => {
                            self.at += 1;
                            return Some(Value::Map(entries));
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.at += 1;
                let mut items = Vec::new();
                self.skip_whitespace();
                if self.peek()? == b']' {
                    self.at += 1;
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1, fields)?);
                    self.skip_whitespace();
                    match self.peek()? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            return Some(Value::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Empty),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Option<Value> {
        let rest = &self.text.as_bytes()[self.at..];
        rest.starts_with(word.as_bytes()).then(|| {
            self.at += word.len();
            value
        })
    }

    /// A plain integer of up to 18 digits (always an i64) followed by a
    /// byte that ends a number; `None` (nothing consumed) for anything else.
    #[inline(always)]
    fn plain_integer(&mut self) -> Option<i64> {
        let b = self.text.as_bytes();
        let start = self.at;
        let mut end = start;
        while let Some(b'0'..=b'9') = b.get(end) {
            end += 1;
        }
        let len = end - start;
        // A leading zero is invalid unless alone ("0"); a fraction, an
        // exponent or more digits go to `number`.
        if len == 0
            || len > 18
            || (b[start] == b'0' && len > 1)
            || matches!(b.get(end), Some(b'.' | b'e' | b'E' | b'-' | b'+'))
        {
            return None;
        }
        self.at = end;
        Some(
            b[start..end]
                .iter()
                .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0')),
        )
    }

    /// A number: a short plain integer read here, anything else (sign,
    /// fraction, exponent, many digits, bad syntax) by serde_json, whose
    /// float reading and overflow rules are the ones we promise.
    fn number(&mut self) -> Option<Value> {
        if let Some(n) = self.plain_integer() {
            return Some(Value::Int(n));
        }
        let b = self.text.as_bytes();
        let start = self.at;
        let mut end = start;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = b.get(end) {
            end += 1;
        }
        self.at = end;
        let n: serde_json::Number = serde_json::from_str(&self.text[start..end]).ok()?;
        Some(if let Some(i) = n.as_i64() {
            Value::Int(i)
        } else if let Some(u) = n.as_u64() {
            Value::Str(Str::from(u.to_string()))
        } else {
            Value::Double(n.as_f64()?)
        })
    }

    /// A string whose opening quote was consumed: a piece of the line, or
    /// decoded when it has escapes. Inlined: returned through memory, the
    /// 40-byte result was written in pieces and read back whole, and the read
    /// waited on the writes (store forwarding; 40% of `parse_object`'s
    /// samples in perf).
    #[inline(always)]
    fn string(&mut self) -> Option<Text<'a>> {
        let start = self.at;
        let end = special_byte(self.text.as_bytes(), start)?;
        match self.text.as_bytes()[end] {
            b'"' => {
                self.at = end + 1;
                Some(Text::Line(&self.text[start..end]))
            }
            b'\\' => {
                self.at = end;
                self.decode(start).map(|s| Text::Str(Str::from(s)))
            }
            _ => None,
        }
    }

    /// The rest of a string with escapes, from `start` (its first byte);
    /// `self.at` is at the first backslash.
    #[cold]
    fn decode(&mut self, start: usize) -> Option<String> {
        let b = self.text.as_bytes();
        let mut out = String::with_capacity(2 * (self.at - start) + 16);
        out.push_str(&self.text[start..self.at]);
        let mut i = self.at;
        loop {
            // A run of plain bytes (cut at ASCII bytes, so at character
            // boundaries).
            let run = i;
            while let Some(&c) = b.get(i)
                && c != b'"'
                && c != b'\\'
                && c >= 0x20
            {
                i += 1;
            }
            out.push_str(&self.text[run..i]);
            match *b.get(i)? {
                b'"' => {
                    self.at = i + 1;
                    return Some(out);
                }
                b'\\' => {
                    let escape = *b.get(i + 1)?;
                    i += 2;
                    out.push(match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\x08',
                        b'f' => '\x0c',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let (c, next) = unicode_escape(b, i)?;
                            i = next;
                            c
                        }
                        _ => return None,
                    });
                }
                _ => return None,
            }
        }
    }
}

/// The index of the first `"`, `\` or control character at or after `at`:
/// where a string ends, needs decoding, or is invalid. Eight bytes at a time
/// (the classic "has zero byte" bit trick: its lowest flagged byte is exact,
/// and it is the only one used).
fn special_byte(b: &[u8], mut at: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(at..at + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let hits = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGH;
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b.get(at..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| at + i)
}

/// The character of a `\u` escape whose four hex digits start at `at`, and
/// the index after it: UTF-16 surrogates must come in pairs (`\ud83d\ude00`),
/// as serde_json requires of strings.
fn unicode_escape(b: &[u8], at: usize) -> Option<(char, usize)> {
    let first = hex4(b, at)?;
    match first {
        0xDC00..=0xDFFF => None,
        0xD800..=0xDBFF => {
            if b.get(at + 4..at + 6)? != b"\\u" {
                return None;
            }
            let second = hex4(b, at + 6)?;
            if !(0xDC00..=0xDFFF).contains(&second) {
                return None;
            }
            let c = 0x1_0000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00);
            Some((char::from_u32(c)?, at + 10))
        }
        _ => Some((char::from_u32(u32::from(first))?, at + 4)),
    }
}

fn hex4(b: &[u8], at: usize) -> Option<u16> {
    let digits = b.get(at..at + 4)?;
    let mut n = 0u16;
    for &d in digits {
        n = n * 16 + (d as char).to_digit(16)? as u16;
    }
    Some(n)
}

/// The serde_json visitor this scanner replaced, kept to check that both
/// read every line alike.
#[cfg(test)]
mod reference {
    use bytes::Bytes;
    use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

    use super::MAX_DEPTH;
    use crate::parse::fields::Fields;
    use crate::record::{Str, Value};

    use std::fmt;

    /// Parses `line` as one JSON object, feeding its fields to `fields`.
    /// `text` is the same line as a `&str` (the caller's one UTF-8 check, so
    /// serde_json's &str reader skips its per-string checks). Returns false
    /// (and leaves `fields` empty) when the line is not a JSON object.
    pub fn parse_object(line: &Bytes, text: &str, fields: &mut Fields<'_>) -> bool {
        if !std::ptr::eq(text.as_bytes(), &line[..]) {
            // Slices of `line` are taken as UTF-8 because they are `text`'s.
            return false;
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let ok = de
            .deserialize_map(TopLevel {
                line,
                fields: &mut *fields,
            })
            .is_ok()
            && de.end().is_ok();
        if !ok {
            // Fields fed before the syntax error are discarded with the line's
            // structure: the caller falls back to text.
            fields.clear();
        }
        ok
    }

    /// Turns a string the deserializer produced into a `Str`, slicing the line
    /// when the string was borrowed from it.
    fn str_from(line: &Bytes, s: &str, borrowed: bool) -> Str {
        if borrowed {
            let start = s.as_ptr() as usize - line.as_ptr() as usize;
            // SAFETY: these bytes are `s`, a `&str`.
            unsafe { Str::from_utf8_validated(line.slice(start..start + s.len())) }
        } else {
            Str::from(s.to_string())
        }
    }

    struct TopLevel<'l, 'f, 'c> {
        line: &'l Bytes,
        fields: &'f mut Fields<'c>,
    }

    impl<'de> Visitor<'de> for TopLevel<'_, '_, '_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key_seed(KeySeed { line: self.line })? {
                let value = map.next_value_seed(ValueSeed {
                    line: self.line,
                    depth: 1,
                })?;
                self.fields.add(key, value);
            }
            Ok(())
        }
    }

    struct KeySeed<'l> {
        line: &'l Bytes,
    }

    impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
        type Value = Str;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Str, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl<'de> Visitor<'de> for KeySeed<'_> {
        type Value = Str;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a key")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str, E> {
            Ok(str_from(self.line, v, true))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Str, E> {
            Ok(str_from(self.line, v, false))
        }
    }

    #[derive(Clone, Copy)]
    struct ValueSeed<'l> {
        line: &'l Bytes,
        depth: usize,
    }

    impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for ValueSeed<'_> {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::Int(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(match i64::try_from(v) {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Str(Str::from(v.to_string())),
            })
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(Value::Double(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Empty)
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value, E> {
            Ok(Value::Str(str_from(self.line, v, true)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
            Ok(Value::Str(str_from(self.line, v, false)))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            if self.depth >= MAX_DEPTH {
                return Err(de::Error::custom("nested too deeply"));
            }
            let inner = ValueSeed {
                depth: self.depth + 1,
                ..self
            };
            let mut items = Vec::new();
            while let Some(v) = seq.next_element_seed(inner)? {
                items.push(v);
            }
            Ok(Value::Array(items))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            if self.depth >= MAX_DEPTH {
                return Err(de::Error::custom("nested too deeply"));
            }
            let inner = ValueSeed {
                depth: self.depth + 1,
                ..self
            };
            let mut entries: Vec<(Str, Value)> = Vec::new();
            while let Some(k) = map.next_key_seed(KeySeed { line: self.line })? {
                let v = map.next_value_seed(inner)?;
                // Keys of a kvlist must be unique: the last one wins.
                match entries.iter_mut().find(|(key, _)| *key == k) {
                    Some(slot) => slot.1 = v,
                    None => entries.push((k, v)),
                }
            }
            Ok(Value::Map(entries))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::timestamp::TimeConfig;
    use crate::record::{Record, SeverityNumber, Stream};
    use bytes::Bytes;

    const OBSERVED: u64 = 1_795_618_800_000_000_000;

    fn parse(line: &'static str) -> Option<Record> {
        let config = TimeConfig::default();
        let bytes = Bytes::from_static(line.as_bytes());
        let mut fields = Fields::reusing(&config, OBSERVED, &bytes, Vec::new());
        if !parse_object(line, &mut fields) {
            return None;
        }
        let mut r = Record::new(Stream::Stdout, OBSERVED, Value::Str(Str::from(line)));
        fields.finish(&mut r);
        Some(r)
    }

    fn attr<'a>(r: &'a Record, key: &str) -> Option<&'a Value> {
        r.attributes
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    fn s(v: &str) -> Value {
        Value::Str(Str::from(v.to_string()))
    }

    #[test]
    fn library_shapes() {
        // (line, body, severity number, severity text)
        let cases: &[(&str, &str, u8, &str)] = &[
            // zap production
            (
                r#"{"level":"info","ts":1795618800.5,"caller":"main.go:1","msg":"started"}"#,
                "started",
                9,
                "info",
            ),
            // logrus JSON
            (
                r#"{"level":"warning","msg":"disk low","time":"2026-11-25T15:00:00Z"}"#,
                "disk low",
                13,
                "warning",
            ),
            // slog JSONHandler
            (
                r#"{"time":"2026-11-25T15:00:00.1Z","level":"ERROR","msg":"failed","err":"eof"}"#,
                "failed",
                17,
                "ERROR",
            ),
            // pino / bunyan
            (
                r#"{"level":50,"time":1795618800000,"pid":1,"hostname":"h","msg":"boom"}"#,
                "boom",
                17,
                "50",
            ),
            (
                r#"{"name":"app","level":30,"msg":"hi","time":"2026-11-25T15:00:00.000Z","v":0}"#,
                "hi",
                9,
                "30",
            ),
            // serilog compact
            (
                r#"{"@t":"2026-11-25T15:00:00Z","@m":"User logged in","@l":"Warning"}"#,
                "User logged in",
                13,
                "Warning",
            ),
            // structlog
            (
                r#"{"event":"cache miss","level":"debug","timestamp":"2026-11-25T15:00:00Z"}"#,
                "cache miss",
                5,
                "debug",
            ),
            // Python json logger
            (
                r#"{"asctime":"2026-11-25 15:00:00,123","levelname":"CRITICAL","message":"down"}"#,
                "down",
                21,
                "CRITICAL",
            ),
            // log4j2 JsonLayout
            (
                r#"{"timeMillis":1795618800000,"thread":"main","level":"FATAL","message":"halt"}"#,
                "halt",
                21,
                "FATAL",
            ),
            // ECS (dotted)
            (
                r#"{"@timestamp":"2026-11-25T15:00:00Z","log.level":"warn","message":"ecs"}"#,
                "ecs",
                13,
                "warn",
            ),
        ];
        for (line, body, n, text) in cases {
            let r = parse(line).unwrap_or_else(|| panic!("{line} should parse"));
            assert_eq!(r.body, s(body), "{line}");
            assert_eq!(
                (r.severity.number.0, r.severity.text.as_str()),
                (*n, *text),
                "{line}"
            );
            assert_ne!(r.time_unix_nano, 0, "{line} has a time");
        }
    }

    #[test]
    fn nested_values_become_kvlists_and_arrays() {
        let r = parse(r#"{"msg":"x","http":{"method":"GET","status":200,"tags":["a",1,true,null]},"big":18446744073709551615,"ratio":0.5}"#).unwrap();
        let Some(Value::Map(http)) = attr(&r, "http") else {
            panic!()
        };
        assert_eq!(http[0], (Str::from("method"), s("GET")));
        assert_eq!(http[1], (Str::from("status"), Value::Int(200)));
        assert_eq!(
            http[2].1,
            Value::Array(vec![s("a"), Value::Int(1), Value::Bool(true), Value::Empty])
        );
        assert_eq!(attr(&r, "big"), Some(&s("18446744073709551615")));
        assert_eq!(attr(&r, "ratio"), Some(&Value::Double(0.5)));
    }

    #[test]
    fn escaped_and_unicode_strings() {
        let r = parse(r#"{"msg":"line\nbreak \"quoted\" \u00e9","k\u0065y":"v"}"#).unwrap();
        assert_eq!(r.body, s("line\nbreak \"quoted\" é"));
        assert_eq!(attr(&r, "key"), Some(&s("v")));
    }

    #[test]
    fn text_that_is_not_the_line_itself_is_refused() {
        // Slices of the line are trusted as UTF-8 only because `text` is the
        // very same bytes; equal bytes elsewhere are not enough.
        let line = Bytes::from_static(br#"{"msg":"x"}"#);
        let copy = String::from(r#"{"msg":"x"}"#);
        let config = TimeConfig::default();
        let mut fields = Fields::reusing(&config, OBSERVED, &line, Vec::new());
        assert!(!parse_object(&copy, &mut fields));
        let pairs_line = Bytes::from_static(b"a=1 b=2");
        let mut fields = Fields::reusing(&config, OBSERVED, &pairs_line, Vec::new());
        let pairs = String::from("a=1 b=2");
        assert!(!crate::parse::logfmt::parse(&pairs, &mut fields));
    }

    #[test]
    fn plain_strings_are_slices_of_the_line() {
        let line = Bytes::from_static(br#"{"msg":"zero copy"}"#);
        let config = TimeConfig::default();
        let mut fields = Fields::reusing(&config, OBSERVED, &line, Vec::new());
        assert!(parse_object(
            std::str::from_utf8(&line).unwrap(),
            &mut fields
        ));
        let mut r = Record::new(Stream::Stdout, OBSERVED, Value::Empty);
        fields.finish(&mut r);
        let Value::Str(body) = &r.body else { panic!() };
        let offset = body.as_bytes().as_ptr() as usize - line.as_ptr() as usize;
        assert_eq!(offset, 8);
    }

    #[test]
    fn malformed_or_non_object_json_is_not_parsed() {
        for line in [
            r#"{"msg":"x""#,
            r#"{"msg":"x"} trailing"#,
            "[1,2]",
            r#""str""#,
            "{",
            "{}x",
            "not json",
        ] {
            assert!(parse(line).is_none(), "{line}");
        }
        assert!(parse("{}").is_some());
    }

    #[test]
    fn hostile_nesting_is_refused_not_overflowed() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        let line: &'static str = Box::leak(deep.into_boxed_str());
        assert!(parse(line).is_none());
    }

    #[test]
    fn severity_defaults_stay_when_no_level_field() {
        let r = parse(r#"{"msg":"no level"}"#).unwrap();
        assert_eq!(r.severity.number, SeverityNumber::UNSPECIFIED);
    }

    /// The scanner and serde_json's visitor (the reader this replaced) on
    /// the same line: both accept it or both refuse it, and accepted lines
    /// give equal records.
    fn agree(line: &str) {
        let bytes = Bytes::copy_from_slice(line.as_bytes());
        let text = std::str::from_utf8(&bytes).unwrap();
        let config = TimeConfig::default();
        let mut ours = Fields::reusing(&config, OBSERVED, &bytes, Vec::new());
        let mut serde = Fields::new(&config, OBSERVED);
        let accepted = parse_object(text, &mut ours);
        assert_eq!(
            accepted,
            reference::parse_object(&bytes, text, &mut serde),
            "accepted? {line:?}"
        );
        if accepted {
            let body = Value::Str(Str::from(line.to_string()));
            let mut a = Record::new(Stream::Stdout, OBSERVED, body.clone());
            let mut b = Record::new(Stream::Stdout, OBSERVED, body);
            assert_eq!(ours.has_level(), serde.has_level(), "{line:?}");
            ours.finish(&mut a);
            serde.finish(&mut b);
            assert_eq!(a, b, "{line:?}");
        }
    }

    #[test]
    fn edge_cases_read_as_serde_json_reads_them() {
        for line in [
            // Escapes: all of JSON's, \u in keys and values, surrogate pairs.
            r#"{"msg":"\"\\\/\b\f\n\r\t","k\u0065y":"\u00e9\u20AC\ud83d\ude00x"}"#,
            r#"{"a":"\ud83d\ude00","b":"\uD83D\uDE00","c":"\u0000"}"#,
            // Invalid escapes and lone or mismatched surrogates.
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"\u12g4"}"#,
            r#"{"a":"\ud83d"}"#,
            r#"{"a":"\ud83dx"}"#,
            r#"{"a":"\ud83d\n"}"#,
            r#"{"a":"\ud83d\u0041"}"#,
            r#"{"a":"\ud83d\ud83d"}"#,
            r#"{"a":"\ude00"}"#,
            r#"{"a":"\"#,
            r#"{"a":"\u"#,
            // Unterminated strings, objects and arrays.
            r#"{"a":"b"#,
            r#"{"a"#,
            r#"{"a":[1,2"#,
            r#"{"a":{"b":1"#,
            r#"{"a":"#,
            // Raw control characters and NUL inside strings are errors;
            // DEL and non-ASCII are not.
            "{\"a\":\"x\0y\"}",
            "{\"a\":\"x\ty\"}",
            "{\"a\":\"x\u{7f}y\",\"é\":\"日本\"}",
            "{\"a\":1}\0",
            // Whitespace: JSON's four kinds only.
            " \t\r\n{ \"a\" : 1 , \"b\" :\n\"c\" } \r\n",
            "\u{c}{\"a\":1}",
            "{\"a\":1}\u{a0}",
            // Empty and trailing commas.
            "{}",
            "{ }",
            "{,}",
            r#"{"a":1,}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":[,1]}"#,
            r#"{"a":[]}"#,
            r#"{"a":{}}"#,
            // Duplicate keys, top-level and nested; consumed keys twice.
            r#"{"a":1,"a":"two","b":{"x":1,"y":2,"x":3}}"#,
            r#"{"msg":"one","msg":"two","level":"info","level":"error"}"#,
            r#"{"message":"m","msg":"n","@m":"o"}"#,
            // Numbers: ints, huge, negative, floats, and invalid forms.
            r#"{"n":[0,-0,1,-1,123456789012345678,1234567890123456789]}"#,
            r#"{"n":[9223372036854775807,9223372036854775808,-9223372036854775808]}"#,
            r#"{"n":[-9223372036854775809,18446744073709551615,18446744073709551616]}"#,
            r#"{"n":[1.5,-0.0,1e3,1E+3,1e-3,0.1e2,1.7976931348623157e308,5e-324]}"#,
            r#"{"n":123456789012345678901234567890123456789012345678901234567890}"#,
            r#"{"n":1e400}"#,
            r#"{"n":-1e400}"#,
            r#"{"n":01}"#,
            r#"{"n":-01}"#,
            r#"{"n":1.}"#,
            r#"{"n":.5}"#,
            r#"{"n":1e}"#,
            r#"{"n":-}"#,
            r#"{"n":+1}"#,
            r#"{"n":1-2}"#,
            r#"{"n":0x10}"#,
            r#"{"n":1 2}"#,
            // Literals.
            r#"{"a":true,"b":false,"c":null}"#,
            r#"{"a":tru}"#,
            r#"{"a":truex}"#,
            r#"{"a":nul}"#,
            r#"{"a":True}"#,
            // Not objects, keys that are not strings.
            "[]",
            r#"{1:2}"#,
            r#"{"a" 1}"#,
            r#"{"a":1 "b":2}"#,
            r#"{"a":1}{"b":2}"#,
            r#"{"a":"b"}}"#,
            // Time, level and trace fields in all their forms.
            r#"{"ts":1795618800.5,"level":30,"t":{"$date":"2026-11-25T15:00:00Z"}}"#,
            r#"{"time":"2026-11-25T15:00:00Z","level":"\u0057ARN","msg":"a\nb"}"#,
            r#"{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}"#,
            r#"{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"x","trace_flags":1}"#,
            r#"{"log.iostream":"fake","level":{"a":1},"msg":5}"#,
        ] {
            agree(line);
        }
        // Nesting up to the limit and one past it.
        for depth in [1, 30, 31, 32, 33, 200] {
            let arrays = format!("{{\"a\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
            agree(&arrays);
            let objects = format!(
                "{{\"a\":{}1{}}}",
                "{\"b\":".repeat(depth),
                "}".repeat(depth)
            );
            agree(&objects);
        }
    }

    /// A small deterministic generator (xorshift) of JSON-like lines: valid
    /// objects of every kind of value, then mutated by inserting, deleting
    /// or swapping characters, so that both readers meet many near misses.
    struct Lines(u64);

    impl Lines {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'p>(&mut self, from: &[&'p str]) -> &'p str {
            from[(self.next() % from.len() as u64) as usize]
        }
        fn string(&mut self, out: &mut String) {
            out.push('"');
            for _ in 0..self.next() % 6 {
                out.push_str(self.pick(&[
                    "msg",
                    "level",
                    "ts",
                    "a",
                    "é",
                    "日",
                    "\\n",
                    "\\\"",
                    "\\\\",
                    "\\u00e9",
                    "\\ud83d\\ude00",
                    "\\u0000",
                    "\\/",
                    " ",
                    "x y",
                    "\\t",
                    "😀",
                    "info",
                ]));
            }
            out.push('"');
        }
        fn value(&mut self, depth: usize, out: &mut String) {
            match self.next() % if depth > 3 { 5 } else { 7 } {
                0 | 1 => self.string(out),
                2 => out.push_str(self.pick(&[
                    "0",
                    "-0",
                    "7",
                    "-7",
                    "30",
                    "1795618800",
                    "1795618800000",
                    "1.5",
                    "-2.25",
                    "1e3",
                    "1E-2",
                    "123456789012345678",
                    "9223372036854775808",
                    "18446744073709551616",
                    "-9223372036854775809",
                    "1795618800.123456",
                ])),
                3 => out.push_str(self.pick(&["true", "false", "null"])),
                4 => out.push_str(self.pick(&["[]", "{}"])),
                5 => {
                    out.push('[');
                    for i in 0..self.next() % 4 {
                        if i > 0 {
                            out.push(',');
                        }
                        self.value(depth + 1, out);
                    }
                    out.push(']');
                }
                _ => self.object(depth + 1, out),
            }
        }
        fn object(&mut self, depth: usize, out: &mut String) {
            out.push('{');
            for i in 0..self.next() % 6 {
                if i > 0 {
                    out.push_str(self.pick(&[",", ",", ", ", " ,"]));
                }
                if self.next().is_multiple_of(2) {
                    out.push_str(self.pick(&[
                        "\"msg\"",
                        "\"level\"",
                        "\"ts\"",
                        "\"time\"",
                        "\"a\"",
                        "\"s\"",
                        "\"t\"",
                    ]));
                } else {
                    self.string(out);
                }
                out.push_str(self.pick(&[":", ":", " : "]));
                self.value(depth, out);
            }
            out.push('}');
        }
        fn line(&mut self) -> String {
            let mut out = String::new();
            self.object(0, &mut out);
            let mut chars: Vec<char> = out.chars().collect();
            for _ in 0..self.next() % 3 {
                if chars.is_empty() {
                    break;
                }
                let at = (self.next() % chars.len() as u64) as usize;
                let c = self
                    .pick(&[
                        "\"", "\\", "{", "}", "[", "]", ",", ":", "1", "-", "e", "u", "\0", " ",
                        "é",
                    ])
                    .chars()
                    .next()
                    .unwrap();
                match self.next() % 3 {
                    0 => chars.insert(at, c),
                    1 => {
                        chars.remove(at);
                    }
                    _ => chars[at] = c,
                }
            }
            chars.into_iter().collect()
        }
    }

    #[test]
    fn generated_lines_read_as_serde_json_reads_them() {
        let mut lines = Lines(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let line = lines.line();
            agree(&line);
            accepted += usize::from(serde_json::from_str::<serde_json::Value>(&line).is_ok());
        }
        // Both kinds of line are exercised.
        assert!((2_000..18_000).contains(&accepted), "{accepted}");
    }
}
