//! logfmt lines → fields: `time=2026-11-25T15:00:00Z level=info msg="a b" n=3`.
//!
//! There is no logfmt specification beyond the Go implementations
//! (go-logfmt, logrus' text formatter, slog's TextHandler), so the grammar
//! here is theirs: pairs separated by spaces, keys without spaces, `=` or
//! `"`, values bare or double-quoted with backslash escapes.
//!
//! A line is logfmt only when every space-separated token is a `key=value`
//! pair and there are at least two of them; prose with an `=` in it
//! ("retry in 5s, backoff=2") stays text. Values are strings, as logfmt has
//! no types. Bare values are slices of the line; quoted ones with escapes
//! are decoded into new buffers.

use crate::parse::fields::{FieldValue, Fields, Text};
use crate::record::Str;

/// Parses `text` as logfmt, feeding its pairs to `fields`. `text` must be
/// the line `fields` was made for (the caller's UTF-8 check; every cut below
/// falls on an ASCII delimiter, so every piece is UTF-8 too). Returns false
/// (and feeds nothing) when the line is not logfmt.
pub fn parse<'a>(text: &'a str, fields: &mut Fields<'a>) -> bool {
    if !fields.reads(text) {
        return false;
    }
    let mut pairs = 0;
    let ok = pairs_into(text, fields, &mut pairs) && pairs >= 2;
    if !ok {
        fields.clear();
    }
    ok
}

/// Feeds the pairs to `fields`; false at the first token that is not one.
fn pairs_into<'a>(text: &'a str, fields: &mut Fields<'a>, pairs: &mut usize) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let key_start = i;
        while i < b.len() && BYTE_CLASS[usize::from(b[i])] == KEY {
            i += 1;
        }
        if i == key_start || b.get(i) != Some(&b'=') {
            return false;
        }
        let key = &text[key_start..i];
        i += 1;
        let value = if b.get(i) == Some(&b'"') {
            let Some((value, next)) = quoted(text, i) else {
                return false;
            };
            i = next;
            value
        } else {
            let start = i;
            // One table look-up per byte: a bare value ends at a space, and
            // a quote or `=` inside it means the line is not logfmt.
            while i < b.len() && BYTE_CLASS[usize::from(b[i])] <= KEY {
                i += 1;
            }
            if i < b.len() && BYTE_CLASS[usize::from(b[i])] == BREAKS_VALUE {
                return false;
            }
            Text::Line(&text[start..i])
        };
        if i < b.len() && b[i] != b' ' {
            return false;
        }
        fields.add_field(Text::Line(key), FieldValue::Text(value));
        *pairs += 1;
    }
    true
}

// What a byte is to the scanner, looked up instead of compared: the scan
// of keys and bare values is most of a logfmt line's own cost.
const VALUE: u8 = 0;
const KEY: u8 = 1;
const SPACE: u8 = 2;
const BREAKS_VALUE: u8 = 3;

const BYTE_CLASS: [u8; 256] = {
    let mut class = [VALUE; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        class[c] =
            if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'@' | b':') {
                KEY
            } else if b == b' ' {
                SPACE
            } else if b == b'"' || b == b'=' {
                BREAKS_VALUE
            } else {
                VALUE
            };
        c += 1;
    }
    class
};

/// A quoted value starting at `open` (the `"`); returns it and the index
/// after the closing quote. Only a value with escapes is copied.
fn quoted(text: &str, open: usize) -> Option<(Text<'_>, usize)> {
    let b = text.as_bytes();
    let start = open + 1;
    let mut i = start;
    let mut escaped = false;
    // No closing quote (or a backslash as the last byte): not logfmt.
    let end = loop {
        i += memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[i] == b'"' {
            break i;
        }
        escaped = true;
        i += 2;
    };
    if !escaped {
        return Some((Text::Line(&text[start..end]), end + 1));
    }
    let mut out = Vec::with_capacity(end - start);
    let mut j = start;
    while j < end {
        if b[j] == b'\\' && j + 1 < end {
            out.push(match b[j + 1] {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                other => other,
            });
            j += 2;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    Some((
        Text::Str(Str::from(String::from_utf8_lossy(&out).into_owned())),
        end + 1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::timestamp::TimeConfig;
    use crate::record::{Record, SeverityNumber, Stream, Value};
    use bytes::Bytes;

    const OBSERVED: u64 = 1_795_618_800_000_000_000;

    fn parse_line(line: &'static str) -> Option<Record> {
        let config = TimeConfig::default();
        let bytes = Bytes::from_static(line.as_bytes());
        let mut fields = Fields::reusing(&config, OBSERVED, &bytes, Vec::new());
        if !parse(line, &mut fields) {
            return None;
        }
        let mut r = Record::new(Stream::Stdout, OBSERVED, Value::Str(Str::from(line)));
        fields.finish(&mut r);
        Some(r)
    }

    fn s(v: &str) -> Value {
        Value::Str(Str::from(v.to_string()))
    }

    #[test]
    fn go_style_lines() {
        let r = parse_line(r#"time=2026-11-25T15:00:00Z level=error msg="upstream failed" service=billing attempt=2"#).unwrap();
        assert_eq!(r.body, s("upstream failed"));
        assert_eq!(r.severity.number, SeverityNumber::ERROR);
        assert_eq!(r.time_unix_nano, OBSERVED);
        assert_eq!(
            r.attributes,
            vec![
                (Str::from("service"), s("billing")),
                (Str::from("attempt"), s("2"))
            ]
        );

        // slog TextHandler and logrus text formatter
        let r =
            parse_line(r#"time=2026-11-25T15:00:00.000Z level=WARN msg="disk \"low\"" free=10%"#)
                .unwrap();
        assert_eq!(r.body, s("disk \"low\""));
        assert_eq!(r.severity.text.as_str(), "WARN");
        let r = parse_line(r#"level=info msg=started port=8080"#).unwrap();
        assert_eq!(r.body, s("started"));
        let r = parse_line(
            r#"ts=2026-11-25T15:00:00Z caller=main.go:12 level=debug msg="empty value" x="""#,
        )
        .unwrap();
        assert_eq!(r.attributes.last(), Some(&(Str::from("x"), s(""))));

        // An escaped backslash before the closing quote ends the value there.
        let r = parse_line(r#"msg="path C:\\" level=info n=1"#).unwrap();
        assert_eq!(r.body, s("path C:\\"));
        assert_eq!(r.attributes, vec![(Str::from("n"), s("1"))]);
    }

    #[test]
    fn prose_is_not_logfmt() {
        for line in [
            "retry in 5s, backoff=2",
            "a=1",
            "key=value and then text",
            "x=\"unterminated",
            "a=1 b=\"ends in a backslash\\",
            "a=1 b=\"escaped quote only\\\"",
            "a=1 b=x\"y",
            "=value y=2",
            "a=b=c d=e",
            "plain text line",
            "",
        ] {
            assert!(parse_line(line).is_none(), "{line}");
        }
    }
}
