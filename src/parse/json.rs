//! JSON object lines → fields.
//!
//! serde_json walks the line once and hands every key and value to visitors
//! that build our [`Value`]s directly, with no `serde_json::Value` in between.
//! Strings without escapes arrive borrowed from the input; since the input is
//! the line's shared `Bytes`, they become slices of it (no copy). Only escaped
//! strings are decoded into new buffers.
//!
//! Numbers: integers that fit i64 are ints, larger ones strings (the spec's
//! AnyValue mapping), the rest doubles. `null` is an empty value.
//!
//! Anything that is not one complete JSON object (trailing text, a bare
//! array, a syntax error) is `None`: the caller treats the line as text.

use std::fmt;

use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::parse::fields::Fields;
use crate::record::{Str, Value};

/// A line nested deeper than this is treated as text: a guard against stack
/// exhaustion on hostile input (serde_json's own limit is 128).
const MAX_DEPTH: usize = 32;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::timestamp::TimeConfig;
    use crate::record::{Record, SeverityNumber, Stream};

    const OBSERVED: u64 = 1_795_618_800_000_000_000;

    fn parse(line: &'static str) -> Option<Record> {
        let config = TimeConfig::default();
        let bytes = Bytes::from_static(line.as_bytes());
        let mut fields = Fields::new(&config, OBSERVED);
        if !parse_object(&bytes, line, &mut fields) {
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
        let mut fields = Fields::new(&config, OBSERVED);
        assert!(!parse_object(&line, &copy, &mut fields));
        let pairs = String::from("a=1 b=2");
        assert!(!crate::parse::logfmt::parse(
            &Bytes::from_static(b"a=1 b=2"),
            &pairs,
            &mut fields
        ));
    }

    #[test]
    fn plain_strings_are_slices_of_the_line() {
        let line = Bytes::from_static(br#"{"msg":"zero copy"}"#);
        let config = TimeConfig::default();
        let mut fields = Fields::new(&config, OBSERVED);
        assert!(parse_object(
            &line,
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
}
