//! The data that flows between the stages.
//!
//! ```text
//!  read ──Line──► parse ──Record──► batch ──Vec<Record>──► export
//! ```
//!
//! A [`Line`] is what the reader cut out of a pipe: the bytes without the line
//! ending, the stream it came from, when it was read and whether it is one piece
//! of a longer line. A [`Record`] is the same line on the OpenTelemetry Logs Data
//! Model (<https://opentelemetry.io/docs/specs/otel/logs/data-model/>).
//!
//! Text is held as [`Str`]: bytes known to be UTF-8, shared with the read buffer
//! they came from, so making a record from a line copies nothing (the reader
//! copies each read's complete lines once into one allocation; every line and
//! record of that read points into it).
//!
//! This module owns no behaviour beyond constructors and size accounting; the
//! stages decide what goes in.

use bytes::Bytes;

/// The wall clock in ns since the epoch (0 if the clock is before 1970).
pub fn now_unix_nano() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Where a record comes from: a pipe of the child, or logwrap itself
/// (lifecycle events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
    /// Records logwrap makes about the child (start, exit).
    Lifecycle,
    /// Lines of a file or named pipe (`--input file:...`).
    File,
}

impl Stream {
    /// A name for logs and thread names.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::Lifecycle => "lifecycle",
            Stream::File => "file",
        }
    }

    /// The value of the `log.iostream` semantic-convention attribute, which
    /// only lines read from a pipe have.
    pub fn iostream(self) -> Option<&'static str> {
        match self {
            Stream::Stdout => Some("stdout"),
            Stream::Stderr => Some("stderr"),
            Stream::Lifecycle | Stream::File => None,
        }
    }
}

/// Marks one piece of a line that was longer than `--max-line-bytes`.
///
/// A reader joins the pieces of one line by `id` in `index` order; the piece
/// with `last == true` ends it. Exported as the attributes `logwrap.split.id`,
/// `logwrap.split.index` and `logwrap.split.last` (the same three facts Docker
/// keeps for its 16 KiB partial messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Unique per stream and run: the sequence number of the long line.
    pub id: u64,
    /// 0-based position of this piece in the line.
    pub index: u32,
    /// True for the final piece.
    pub last: bool,
}

/// One line as read from a pipe, before any interpretation.
///
/// The fields are private on purpose (issue 13): the parser trusts the UTF-8
/// flag without checking the bytes again, so code outside the crate (the
/// benches, the fuzz target, library users) must not be able to change the
/// bytes behind a checked flag. [`Line::new`] checks; the reader's
/// `from_checked` is crate-private and used only where a whole read was
/// checked once.
#[derive(Clone, Debug)]
pub struct Line {
    stream: Stream,
    /// Wall-clock time of the `read(2)` that completed this line, ns since the epoch.
    observed_unix_nano: u64,
    /// The line without its `\n` (and without a `\r` before it).
    bytes: Bytes,
    /// True when `bytes` is known to be valid UTF-8 (the reader validates each
    /// read once, so most lines never need a check of their own).
    utf8: bool,
    split: Option<Split>,
}

impl Line {
    /// A line from outside the reader; its bytes are checked for UTF-8 here.
    pub fn new(
        stream: Stream,
        observed_unix_nano: u64,
        bytes: Bytes,
        split: Option<Split>,
    ) -> Self {
        let utf8 = std::str::from_utf8(&bytes).is_ok();
        Line {
            stream,
            observed_unix_nano,
            bytes,
            utf8,
            split,
        }
    }

    /// A line cut from a region the caller has checked: `utf8` must be true
    /// only when `bytes` is valid UTF-8 (the reader checks each read once,
    /// and cuts fall on `\n` or character boundaries).
    pub(crate) fn from_checked(
        stream: Stream,
        observed_unix_nano: u64,
        bytes: Bytes,
        utf8: bool,
        split: Option<Split>,
    ) -> Self {
        debug_assert!(!utf8 || std::str::from_utf8(&bytes).is_ok());
        Line {
            stream,
            observed_unix_nano,
            bytes,
            utf8,
            split,
        }
    }

    /// The stream the line came from.
    pub fn stream(&self) -> Stream {
        self.stream
    }

    /// Wall-clock time of the `read(2)` that completed this line, ns since the epoch.
    pub fn observed_unix_nano(&self) -> u64 {
        self.observed_unix_nano
    }

    /// The line without its `\n` (and without a `\r` before it).
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The line's bytes, the line given up (saves a reference count
    /// round-trip per line on the parser's path).
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// True when the bytes are valid UTF-8.
    pub fn is_utf8(&self) -> bool {
        self.utf8
    }

    /// Set when this is one piece of a line longer than `--max-line-bytes`.
    pub fn split(&self) -> Option<Split> {
        self.split
    }
}

/// Bytes that are valid UTF-8, cheaply clonable and sliceable.
///
/// `bytes::Bytes` has no UTF-8-checked sibling in the ecosystem crates we use,
/// and `String` would cost an allocation per line, hence this thin wrapper.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Str(Bytes);

impl Str {
    pub const fn from_static(s: &'static str) -> Self {
        Str(Bytes::from_static(s.as_bytes()))
    }

    /// Wraps bytes when they are UTF-8, otherwise hands them back.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, Bytes> {
        match std::str::from_utf8(&bytes) {
            Ok(_) => Ok(Str(bytes)),
            Err(_) => Err(bytes),
        }
    }

    /// Wraps bytes the caller has already validated (a slice of a checked
    /// line cut at character boundaries), without checking them again.
    ///
    /// # Safety
    /// `bytes` must be valid UTF-8: [`Str::as_str`] relies on it.
    pub unsafe fn from_utf8_validated(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Str(bytes)
    }

    pub fn as_str(&self) -> &str {
        // Every constructor checks (or, for `from_utf8_validated`, its caller
        // promises) UTF-8, so this need not check again: it is called for
        // every field key and value of every structured line, and checking
        // there was 6% of a reader thread's time.
        // SAFETY: the bytes are UTF-8, see above; `Bytes` is immutable.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Str {
    fn from(s: String) -> Self {
        Str(Bytes::from(s.into_bytes()))
    }
}

impl From<&'static str> for Str {
    fn from(s: &'static str) -> Self {
        Str::from_static(s)
    }
}

impl std::fmt::Debug for Str {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Str {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Key-value pairs: record attributes, resource attributes, map values.
pub type Attributes = Vec<(Str, Value)>;

/// An OTel `AnyValue`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Str),
    Bool(bool),
    Int(i64),
    Double(f64),
    /// Raw bytes: what the spec asks for text that is not valid UTF-8
    /// ("Mapping Arbitrary Data to OTLP AnyValue", String Values).
    Bytes(Bytes),
    Array(Vec<Value>),
    Map(Vec<(Str, Value)>),
    Empty,
}

impl Value {
    /// Approximate heap bytes held, for memory accounting.
    fn weight(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            Value::Bytes(b) => b.len(),
            Value::Array(items) => {
                items.capacity() * std::mem::size_of::<Value>()
                    + items.iter().map(Value::weight).sum::<usize>()
            }
            Value::Map(entries) => attributes_weight(entries),
            Value::Bool(_) | Value::Int(_) | Value::Double(_) | Value::Empty => 0,
        }
    }
}

/// Heap bytes of a key-value list: its slots (by capacity, as allocated)
/// and what each key and value holds.
fn attributes_weight(entries: &Vec<(Str, Value)>) -> usize {
    entries.capacity() * std::mem::size_of::<(Str, Value)>()
        + entries
            .iter()
            .map(|(k, v)| k.len() + v.weight())
            .sum::<usize>()
}

/// OTel SeverityNumber: 0 is unspecified, 1..=24 the spec's ranges
/// (TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct SeverityNumber(pub u8);

impl SeverityNumber {
    pub const UNSPECIFIED: SeverityNumber = SeverityNumber(0);
    pub const TRACE: SeverityNumber = SeverityNumber(1);
    pub const DEBUG: SeverityNumber = SeverityNumber(5);
    pub const INFO: SeverityNumber = SeverityNumber(9);
    pub const WARN: SeverityNumber = SeverityNumber(13);
    pub const ERROR: SeverityNumber = SeverityNumber(17);
    pub const FATAL: SeverityNumber = SeverityNumber(21);

    /// The spec's short name for the number, e.g. `INFO` for 9, `WARN2` for 14.
    pub fn short_name(self) -> &'static str {
        const NAMES: [&str; 25] = [
            "UNSPECIFIED",
            "TRACE",
            "TRACE2",
            "TRACE3",
            "TRACE4",
            "DEBUG",
            "DEBUG2",
            "DEBUG3",
            "DEBUG4",
            "INFO",
            "INFO2",
            "INFO3",
            "INFO4",
            "WARN",
            "WARN2",
            "WARN3",
            "WARN4",
            "ERROR",
            "ERROR2",
            "ERROR3",
            "ERROR4",
            "FATAL",
            "FATAL2",
            "FATAL3",
            "FATAL4",
        ];
        NAMES.get(self.0 as usize).copied().unwrap_or("UNSPECIFIED")
    }
}

/// A severity as the record carries it: the number and the text as written.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Severity {
    pub number: SeverityNumber,
    /// Empty means unset.
    pub text: Str,
}

impl Severity {
    pub const fn unset() -> Self {
        Severity {
            number: SeverityNumber::UNSPECIFIED,
            text: Str::from_static(""),
        }
    }
}

/// A log record on the OpenTelemetry Logs Data Model.
///
/// The `log.iostream` attribute is not stored in `attributes`: it is implied
/// by `stream` and every exporter writes it, which saves a vector per line.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// When the event happened as the line says, ns since the epoch; 0 = unknown.
    pub time_unix_nano: u64,
    /// When logwrap read the line, ns since the epoch.
    pub observed_unix_nano: u64,
    pub severity: Severity,
    pub body: Value,
    pub stream: Stream,
    pub split: Option<Split>,
    /// Further attributes (parsed fields, lifecycle facts); keys are unique.
    pub attributes: Vec<(Str, Value)>,
    /// All zero = no trace context.
    pub trace_id: [u8; 16],
    /// All zero = no span.
    pub span_id: [u8; 8],
    /// W3C trace flags in the low byte, as OTLP's `flags` field.
    pub flags: u32,
    /// OTel `EventName` for records that are events (lifecycle), empty otherwise.
    pub event_name: Str,
    /// The line as read, when the body is not all of it (a JSON or logfmt
    /// line whose message became the body); empty otherwise. Only
    /// destinations that can use it carry it (Loki without structured
    /// metadata sends it as the line).
    pub original: Str,
}

impl Record {
    /// A record with the given body and nothing else set.
    pub fn new(stream: Stream, observed_unix_nano: u64, body: Value) -> Self {
        Record {
            time_unix_nano: 0,
            observed_unix_nano,
            severity: Severity::unset(),
            body,
            stream,
            split: None,
            attributes: Vec::new(),
            trace_id: [0; 16],
            span_id: [0; 8],
            flags: 0,
            event_name: Str::default(),
            original: Str::default(),
        }
    }

    /// Bytes this record holds, for the memory budget: the struct itself plus
    /// what it points to. An estimate (shared buffers are counted per record),
    /// erring high.
    pub fn weight(&self) -> usize {
        std::mem::size_of::<Record>()
            + self.body.weight()
            + self.original.len()
            + self.severity.text.len()
            + attributes_weight(&self.attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_follow_the_spec_ranges() {
        assert_eq!(SeverityNumber(9).short_name(), "INFO");
        assert_eq!(SeverityNumber(14).short_name(), "WARN2");
        assert_eq!(SeverityNumber(24).short_name(), "FATAL4");
        assert_eq!(SeverityNumber(0).short_name(), "UNSPECIFIED");
        assert_eq!(SeverityNumber(99).short_name(), "UNSPECIFIED");
    }

    #[test]
    fn str_rejects_invalid_utf8_and_returns_the_bytes() {
        let bad = Bytes::from_static(b"ok \xff");
        assert_eq!(Str::from_utf8(bad.clone()), Err(bad));
        assert_eq!(
            Str::from_utf8(Bytes::from_static(b"fine"))
                .unwrap()
                .as_str(),
            "fine"
        );
    }

    #[test]
    fn weight_counts_body_and_attributes() {
        let mut r = Record::new(Stream::Stdout, 1, Value::Str(Str::from("hello")));
        let base = r.weight();
        r.attributes
            .push((Str::from("k"), Value::Str(Str::from("vvvv"))));
        // The vector's slots as allocated, then the key's and value's bytes.
        let slots = r.attributes.capacity() * std::mem::size_of::<(Str, Value)>();
        assert_eq!(r.weight(), base + slots + 1 + 4);
    }
}
