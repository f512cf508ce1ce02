//! Parse: [`Line`] → [`Record`]. Total: every line becomes a record, nothing fails.
//!
//! ```text
//!  Line ──► Parser::push ──► Vec<Record>   (zero or more per line; flush at EOF)
//! ```
//!
//! Today the parser maps a line to a record with the stream's default severity
//! and the line as body. The body is a string when the bytes are UTF-8 and a
//! byte array otherwise, as the spec asks ("Mapping Arbitrary Data to OTLP
//! AnyValue": text that is not valid Unicode goes to `bytes_value` with its
//! bytes as they were), so nothing is lost or altered on the way to an OTLP
//! collector. Exporters whose formats only carry text (Loki, console JSON)
//! decide their own representation.
//!
//! The `push`/`flush` shape lets a stateful parser (multiline joining) hold a
//! line back and release it later without changing the callers.

use crate::record::{Line, Record, Severity, SeverityNumber, Str, Stream, Value};

/// How lines are interpreted.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseConfig {
    /// Severity of stdout lines; `None` leaves it unset. Default INFO (9).
    pub stdout_severity: Option<SeverityNumber>,
    /// Severity of stderr lines; `None` leaves it unset. Default ERROR (17),
    /// because most programs write their errors there (and Kubernetes users
    /// expect stderr to stand out in Grafana).
    pub stderr_severity: Option<SeverityNumber>,
}

impl Default for ParseConfig {
    fn default() -> Self {
        ParseConfig {
            stdout_severity: Some(SeverityNumber::INFO),
            stderr_severity: Some(SeverityNumber::ERROR),
        }
    }
}

/// Turns the lines of one stream into records.
pub struct Parser {
    default_severity: Severity,
}

impl Parser {
    pub fn new(config: &ParseConfig, stream: Stream) -> Self {
        let number = match stream {
            Stream::Stdout => config.stdout_severity,
            Stream::Stderr => config.stderr_severity,
        };
        let default_severity = match number {
            Some(n) => Severity {
                number: n,
                text: Str::from_static(n.short_name()),
            },
            None => Severity::unset(),
        };
        Parser { default_severity }
    }

    /// Interprets one line, appending the records it completes to `out`.
    pub fn push(&mut self, line: Line, out: &mut Vec<Record>) {
        let body = if line.utf8 {
            Value::Str(Str::from_utf8_validated(line.bytes))
        } else {
            match Str::from_utf8(line.bytes) {
                Ok(s) => Value::Str(s),
                Err(raw) => Value::Bytes(raw),
            }
        };
        let mut record = Record::new(line.stream, line.observed_unix_nano, body);
        record.severity = self.default_severity.clone();
        record.split = line.split;
        out.push(record);
    }

    /// Releases anything held back (end of stream).
    pub fn flush(&mut self, _out: &mut Vec<Record>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn line(stream: Stream, bytes: &'static [u8], utf8: bool) -> Line {
        Line {
            stream,
            observed_unix_nano: 7,
            bytes: Bytes::from_static(bytes),
            utf8,
            split: None,
        }
    }

    fn parse_one(config: &ParseConfig, l: Line) -> Record {
        let mut parser = Parser::new(config, l.stream);
        let mut out = Vec::new();
        parser.push(l, &mut out);
        assert_eq!(out.len(), 1);
        out.pop().unwrap()
    }

    #[test]
    fn stream_decides_the_default_severity() {
        let c = ParseConfig::default();
        let r = parse_one(&c, line(Stream::Stdout, b"hi", true));
        assert_eq!(r.severity.number, SeverityNumber::INFO);
        assert_eq!(r.severity.text.as_str(), "INFO");
        let r = parse_one(&c, line(Stream::Stderr, b"oops", true));
        assert_eq!(r.severity.number, SeverityNumber::ERROR);
        assert_eq!(r.severity.text.as_str(), "ERROR");
        assert_eq!(r.observed_unix_nano, 7);
        assert_eq!(r.time_unix_nano, 0);
    }

    #[test]
    fn none_leaves_severity_unset() {
        let c = ParseConfig {
            stdout_severity: None,
            stderr_severity: Some(SeverityNumber::WARN),
        };
        let r = parse_one(&c, line(Stream::Stdout, b"hi", true));
        assert_eq!(r.severity, Severity::unset());
        let r = parse_one(&c, line(Stream::Stderr, b"hi", true));
        assert_eq!(r.severity.text.as_str(), "WARN");
    }

    #[test]
    fn invalid_utf8_becomes_a_byte_body_with_the_original_bytes() {
        let c = ParseConfig::default();
        let r = parse_one(&c, line(Stream::Stdout, b"bad \xff\xfe", false));
        assert_eq!(r.body, Value::Bytes(Bytes::from_static(b"bad \xff\xfe")));
        // A line from a read that had invalid bytes elsewhere is still text.
        let r = parse_one(&c, line(Stream::Stdout, b"fine", false));
        assert_eq!(r.body, Value::Str(Str::from("fine")));
    }

    #[test]
    fn nul_bytes_are_text() {
        let c = ParseConfig::default();
        let r = parse_one(&c, line(Stream::Stdout, b"a\0b", true));
        assert_eq!(r.body, Value::Str(Str::from("a\0b")));
    }
}
