//! Parse: [`Line`] → [`Record`]. Total: every line ends up in a record, nothing fails.
//!
//! ```text
//!  Line ─► strip ANSI ─► continues the pending record? ──yes──► append (multiline)
//!                              │ no
//!                              ▼
//!                 close the pending record ─► out
//!                 parse the line: JSON object │ logfmt │ text (timestamp, level)
//!                              ▼
//!                        new pending record
//! ```
//!
//! - Format ([`ParseMode`]): `auto` tries a JSON object (a line starting with
//!   `{`), then logfmt (every token `key=value`), then text. `json`, `logfmt`
//!   and `text` try only that one (a line that does not parse is plain text
//!   with the stream's severity); `none` does no interpretation at all.
//! - Structured lines map their fields with [`fields`]: message → body,
//!   level → severity, time → Timestamp, trace ids → TraceId/SpanId/Flags,
//!   everything else → attributes.
//! - Text lines: the line's [`header`] (the fields before the message) gives
//!   the Timestamp ([`timestamp`]) and the level ([`severity`]), with
//!   SeverityText the level as written. No level: the stream's default
//!   severity.
//! - A time outside the believable window (`--timestamp-max-age`,
//!   `--timestamp-max-ahead`) is not used as Timestamp: text keeps it in the
//!   attribute `logwrap.original_time` (structured lines keep their field),
//!   so Loki does not reject the record.
//! - [`multiline`] decides which lines join the pending record; a merged
//!   record keeps the first line's parse (severity, time, fields) and its body
//!   grows by `\n` + each joined line.
//! - Bodies are strings when UTF-8, byte arrays otherwise (the spec's AnyValue
//!   mapping), so nothing is altered on the way.
//!
//! The parser is per stream and owns the pending record; the reader's sink
//! closes it after `--multiline-timeout` of silence via [`Parser::flush`].

pub mod ansi;
pub mod fields;
pub mod header;
pub mod json;
pub mod logfmt;
pub mod multiline;
pub mod severity;
pub mod timestamp;

use bytes::Bytes;

use crate::record::{Line, Record, Severity, SeverityNumber, Str, Stream, Value};
use multiline::Context;
use timestamp::TimeConfig;

/// How lines of a stream are interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ParseMode {
    /// JSON object, else logfmt, else text.
    #[default]
    Auto,
    Json,
    Logfmt,
    /// Timestamp and level words in plain text.
    Text,
    /// No interpretation: the line is the body, the stream gives the severity.
    None,
}

/// How lines are interpreted.
#[derive(Clone, Debug)]
pub struct ParseConfig {
    /// Severity of stdout lines without their own level; `None` leaves it
    /// unset. Default INFO (9).
    pub stdout_severity: Option<SeverityNumber>,
    /// Severity of stderr lines without their own level. Default ERROR (17),
    /// because most programs write their errors there.
    pub stderr_severity: Option<SeverityNumber>,
    pub stdout_mode: ParseMode,
    pub stderr_mode: ParseMode,
    /// Join continuation lines into one record. Default on.
    pub multiline: bool,
    /// Lines per merged record at most. Default 1000 (a Go goroutine dump of
    /// a busy server is long; a Java trace rarely passes 200).
    pub multiline_max_lines: usize,
    /// Bytes per merged record at most. Default: `--max-line-bytes` (Loki
    /// rejects longer lines).
    pub multiline_max_bytes: usize,
    /// Remove ANSI escape sequences from bodies. Default on.
    pub strip_ansi: bool,
    pub time: TimeConfig,
}

impl Default for ParseConfig {
    fn default() -> Self {
        ParseConfig {
            stdout_severity: Some(SeverityNumber::INFO),
            stderr_severity: Some(SeverityNumber::ERROR),
            stdout_mode: ParseMode::Auto,
            stderr_mode: ParseMode::Auto,
            multiline: true,
            multiline_max_lines: 1000,
            multiline_max_bytes: crate::read::DEFAULT_MAX_LINE_BYTES,
            strip_ansi: true,
            time: TimeConfig::default(),
        }
    }
}

/// A structured line's text, kept beside the message that became its body
/// (a clone of the shared read buffer, not a copy). Only called once a
/// structured parser accepted the line, which it does only for UTF-8 text.
fn keep_original(record: &mut Record, text: &Bytes) {
    if matches!(&record.body, Value::Str(body) if body.len() == text.len()) {
        return;
    }
    // SAFETY: `structured` accepts a line only after it is known to be
    // UTF-8 (the reader's check, or its own).
    record.original = unsafe { Str::from_utf8_validated(text.clone()) };
}

/// A structured line's record completed: without a message field the body
/// is the whole line, else the line is kept beside it.
fn structured_found(record: &mut Record, text: Bytes, utf8: bool, level: bool) -> Found {
    if matches!(record.body, Value::Empty) {
        record.body = body_value(text, utf8);
    } else {
        keep_original(record, &text);
    }
    Found {
        level,
        postgres: false,
    }
}

/// The attribute holding a parsed time that was not believable.
pub const ORIGINAL_TIME: &str = "logwrap.original_time";

/// A record being assembled from several lines.
struct Pending {
    /// A fresh record while the slot is not open.
    record: Record,
    /// `\n`-separated lines joined after the first.
    extra: Vec<u8>,
    lines: usize,
    bytes: usize,
    /// Blank lines seen since the last joined line.
    blanks: usize,
    context: Context,
    /// Read time of the last joined line (lines of one read share it).
    last_observed: u64,
    /// The first line named a level of WARN or worse itself (not the
    /// stream's default): a trace written with it belongs to it.
    reports_problem: bool,
    /// The first line is a PostgreSQL message (`LEVEL:  text`): its
    /// `DETAIL:`, `HINT:`, `STATEMENT:` lines join it.
    takes_details: bool,
}

impl Pending {
    /// A record with nothing in it yet; `push` sets its stream and time.
    fn fresh_record() -> Record {
        Record::new(Stream::Stdout, 0, Value::Empty)
    }

    fn empty() -> Self {
        Pending {
            record: Self::fresh_record(),
            extra: Vec::new(),
            lines: 0,
            bytes: 0,
            blanks: 0,
            context: Context::default(),
            last_observed: 0,
            reports_problem: false,
            takes_details: false,
        }
    }
}

/// What the parser needs of a [`Line`] besides its bytes.
#[derive(Clone, Copy)]
struct LineFacts {
    stream: Stream,
    observed: u64,
    split: Option<crate::record::Split>,
    /// The (ANSI-stripped) text is known to be UTF-8.
    utf8: bool,
}

/// What parsing one line found besides the record.
#[derive(Clone, Copy, Default)]
struct Found {
    /// The line named its own level.
    level: bool,
    /// The level was PostgreSQL's `LEVEL:  ` (two spaces after the colon).
    postgres: bool,
}

/// Turns the lines of one stream into records.
pub struct Parser {
    lines: LineParser,
    /// The held-back record, when `open`. The slot stays between records: a
    /// record is a few hundred bytes, and taking it out of an `Option` and
    /// building the next one on the stack were three copies of it per line
    /// (a tenth of a text line's parse); now the record is copied once, into
    /// the output.
    pending: Pending,
    open: bool,
}

/// Interprets single lines. Kept apart from [`Parser`]'s pending record so that a
/// record is filled where it will stay (in the pending slot or the output),
/// not built on the stack and moved: the moves of a ~250-byte record cost
/// a fifth of a plain line's parse (measured with perf on `parse/plain`).
struct LineParser {
    config: ParseConfig,
    mode: ParseMode,
    default_severity: Severity,
    /// Attribute lists for structured lines' fields: a list goes to the
    /// record, and [`Parser::recycle`] brings it back once the record is
    /// encoded, so the fields of a line allocate nothing.
    spare: std::cell::Cell<Vec<Vec<(Str, Value)>>>,
}

impl Parser {
    pub fn new(config: &ParseConfig, stream: Stream) -> Self {
        let (number, mode) = match stream {
            // A file's lines are read like stdout's.
            Stream::Stdout | Stream::Lifecycle | Stream::File => {
                (config.stdout_severity, config.stdout_mode)
            }
            Stream::Stderr => (config.stderr_severity, config.stderr_mode),
        };
        let default_severity = match number {
            Some(n) => Severity {
                number: n,
                text: Str::from_static(n.short_name()),
            },
            None => Severity::unset(),
        };
        Parser {
            lines: LineParser {
                config: config.clone(),
                mode,
                default_severity,
                spare: Default::default(),
            },
            pending: Pending::empty(),
            open: false,
        }
    }

    /// True while a record is held back waiting for continuation lines.
    pub fn has_pending(&self) -> bool {
        self.open
    }

    /// Interprets one line, appending the records it completes to `out`.
    pub fn push(&mut self, line: Line, out: &mut Vec<Record>) {
        let raw_len = line.bytes().len();
        let facts = LineFacts {
            stream: line.stream(),
            observed: line.observed_unix_nano(),
            split: line.split(),
            utf8: line.is_utf8(),
        };
        let text = if self.lines.config.strip_ansi {
            ansi::strip(line.into_bytes())
        } else {
            line.into_bytes()
        };
        // Stripped escapes leave text whose UTF-8 check no longer applies.
        let facts = LineFacts {
            utf8: facts.utf8 && text.len() == raw_len,
            ..facts
        };
        // Pieces of an over-long line are records of their own.
        if !self.lines.config.multiline || facts.split.is_some() {
            self.flush(out);
            out.push(Record::new(facts.stream, facts.observed, Value::Empty));
            let record = out.last_mut().expect("just pushed");
            self.lines.fill(record, &facts, text);
            return;
        }
        if text.trim_ascii().is_empty() {
            if self.open {
                self.pending.blanks += 1;
            }
            return;
        }
        if let Some(p) = self.open.then_some(&mut self.pending) {
            let time = &self.lines.config.time;
            let looks_like_start = || {
                let h = header::scan(&text, time, facts.observed);
                h.time.is_some() || h.level.is_some()
            };
            let detail = || p.takes_details && header::scan(&text, time, facts.observed).detail;
            // A trace header arriving with a warning or error it explains.
            let same_read = p.last_observed == facts.observed && p.reports_problem;
            let fits = p.lines < self.lines.config.multiline_max_lines
                && p.bytes + p.blanks + 1 + text.len() <= self.lines.config.multiline_max_bytes;
            let continued = if fits && detail() {
                Some(p.context)
            } else if fits {
                multiline::continues(p.context, &text, looks_like_start, same_read)
            } else {
                None
            };
            if let Some(context) = continued {
                if p.context == Context::JulHeader && set_jul_severity(&mut p.record, &text) {
                    p.reports_problem = p.record.severity.number >= SeverityNumber::WARN;
                }
                for _ in 0..p.blanks {
                    p.extra.push(b'\n');
                }
                p.extra.push(b'\n');
                p.extra.extend_from_slice(&text);
                p.bytes += p.blanks + 1 + text.len();
                p.lines += 1 + p.blanks;
                p.blanks = 0;
                p.context = context;
                p.last_observed = facts.observed;
                return;
            }
        }
        self.flush(out);
        let context = multiline::context_of_start(&text);
        let bytes = text.len();
        let observed = facts.observed;
        // The slot holds a fresh record since the flush (or `new`).
        let pending = &mut self.pending;
        pending.record.stream = facts.stream;
        pending.record.observed_unix_nano = observed;
        pending.extra.clear();
        pending.lines = 1;
        pending.bytes = bytes;
        pending.blanks = 0;
        pending.context = context;
        pending.last_observed = observed;
        pending.reports_problem = false;
        pending.takes_details = false;
        self.open = true;
        let found = self.lines.fill(&mut pending.record, &facts, text);
        pending.reports_problem =
            found.level && pending.record.severity.number >= SeverityNumber::WARN;
        pending.takes_details = found.postgres;
    }

    /// Empties `records` (encoded, done with), keeping their attribute
    /// lists for the fields of the lines to come.
    pub fn recycle(&mut self, records: &mut Vec<Record>) {
        // Enough lists for a round of records, and none that a line of many
        // fields made large: those are freed.
        const LISTS: usize = 64;
        const SLOTS: usize = 32;
        let mut spare = self.lines.spare.take();
        for r in records.iter_mut() {
            if spare.len() < LISTS && (1..=SLOTS).contains(&r.attributes.capacity()) {
                let mut list = std::mem::take(&mut r.attributes);
                // Now, not at reuse: the values hold the lines' buffers.
                list.clear();
                spare.push(list);
            }
        }
        records.clear();
        self.lines.spare.set(spare);
    }

    /// Releases the held-back record (end of stream, or silence).
    pub fn flush(&mut self, out: &mut Vec<Record>) {
        if !std::mem::take(&mut self.open) {
            return;
        }
        let p = &mut self.pending;
        if !p.extra.is_empty() {
            if !p.record.original.is_empty() {
                let mut original = p.record.original.as_bytes().to_vec();
                original.extend_from_slice(&p.extra);
                p.record.original = Str::from_utf8(Bytes::from(original)).unwrap_or_default();
            }
            let mut body = match &p.record.body {
                Value::Str(s) => s.as_bytes().to_vec(),
                Value::Bytes(b) => b.to_vec(),
                _ => Vec::new(),
            };
            body.extend_from_slice(&p.extra);
            p.record.body = body_value(Bytes::from(body), false);
            // A long trace does not keep its buffer for every record after.
            p.extra = Vec::new();
        }
        out.push(std::mem::replace(&mut p.record, Pending::fresh_record()));
    }
}

impl LineParser {
    /// One line → `record` (a new one, holding only the stream and read
    /// time), and what the line said of itself.
    fn fill(&self, record: &mut Record, line: &LineFacts, text: Bytes) -> Found {
        record.split = line.split;
        let found = self.interpret(record, line, text);
        // The stream's severity for a line that named none. Set last, not
        // first and then replaced: most lines name one, and each set of a
        // `Str` is a clone and a drop through `Bytes`' vtable.
        if record.severity.number == SeverityNumber::UNSPECIFIED && record.severity.text.is_empty()
        {
            record.severity = self.default_severity.clone();
        }
        found
    }

    fn interpret(&self, record: &mut Record, line: &LineFacts, text: Bytes) -> Found {
        let utf8 = line.utf8;
        let observed = line.observed;
        let first = text.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let mode = self.mode;
        if matches!(mode, ParseMode::Auto | ParseMode::Json)
            && first == Some(b'{')
            && let Some(level) = self.structured(record, &text, utf8, observed, json::parse_object)
        {
            return structured_found(record, text, utf8, level);
        }
        if matches!(mode, ParseMode::Auto | ParseMode::Logfmt)
            && first_token_has_equals(&text)
            && let Some(level) = self.structured(record, &text, utf8, observed, logfmt::parse)
        {
            return structured_found(record, text, utf8, level);
        }
        let mut found = Found::default();
        if matches!(mode, ParseMode::Auto | ParseMode::Text) {
            found = self.text(record, &text, observed);
        }
        record.body = body_value(text, utf8);
        found
    }

    /// Applies a structured parser: `None` if the line is not of that
    /// format, else whether it named a level.
    fn structured(
        &self,
        record: &mut Record,
        text: &Bytes,
        utf8: bool,
        observed: u64,
        parse: for<'a> fn(&'a str, &mut fields::Fields<'a>) -> bool,
    ) -> Option<bool> {
        // Structured formats are text; a line with invalid bytes is not one.
        let as_str = if utf8 {
            // SAFETY: the reader checked the region this line was cut from
            // (`Line::utf8`), at character boundaries.
            unsafe { std::str::from_utf8_unchecked(text) }
        } else {
            std::str::from_utf8(text).ok()?
        };
        let mut spare = self.spare.take();
        let list = spare.pop().unwrap_or_default();
        let mut f = fields::Fields::reusing(&self.config.time, observed, text, list);
        let level_found = if parse(as_str, &mut f) {
            let level_found = f.has_level();
            let emptied = f.finish(record);
            if emptied.capacity() > 0 {
                spare.push(emptied);
            }
            Some(level_found)
        } else {
            spare.push(f.into_scratch());
            None
        };
        self.spare.set(spare);
        level_found
    }

    /// Timestamp and level of a plain text line, from its header.
    fn text(&self, record: &mut Record, text: &Bytes, observed: u64) -> Found {
        let header = header::scan(text, &self.config.time, observed);
        if let Some(t) = header.time {
            match t.unix_nanos {
                Some(ns) if self.config.time.believable(ns as i128, observed) => {
                    record.time_unix_nano = ns as u64;
                }
                // A time written out in full but not believable (or not
                // placeable) is kept as written; an inferred reading that is
                // not believable was never known to be a time.
                _ if t.shape != timestamp::Shape::Inferred => {
                    if let Ok(original) = Str::from_utf8(text.slice(t.start..t.end)) {
                        record
                            .attributes
                            .push((Str::from_static(ORIGINAL_TIME), Value::Str(original)));
                    }
                }
                _ => {}
            }
        }
        if let Some(found) = header.level
            && let Some(word) = common_word(&text[found.start..found.end])
                .map(Str::from_static)
                .or_else(|| Str::from_utf8(text.slice(found.start..found.end)).ok())
        {
            record.severity = Severity {
                number: found.number,
                text: word,
            };
            let postgres = text[found.end..].starts_with(b":  ")
                && text[found.start..found.end]
                    .iter()
                    .all(u8::is_ascii_uppercase);
            return Found {
                level: true,
                postgres,
            };
        }
        Found::default()
    }
}

/// Whether the first space-separated token holds an `=`: logfmt's first
/// pair must, so text lines (most of them) skip setting up the fields.
fn first_token_has_equals(text: &[u8]) -> bool {
    let start = text.iter().position(|&b| b != b' ').unwrap_or(text.len());
    let token = &text[start..];
    let end = memchr::memchr(b' ', token).unwrap_or(token.len());
    memchr::memchr(b'=', &token[..end]).is_some()
}

/// The level words most lines are written with, as statics: SeverityText
/// is the word as written, and a static equal to it spares the record a
/// reference to the line's buffer (an atomic increment and decrement).
fn common_word(word: &[u8]) -> Option<&'static str> {
    Some(match word {
        b"INFO" => "INFO",
        b"WARN" => "WARN",
        b"ERROR" => "ERROR",
        b"DEBUG" => "DEBUG",
        b"TRACE" => "TRACE",
        b"FATAL" => "FATAL",
        b"WARNING" => "WARNING",
        b"info" => "info",
        b"warn" => "warn",
        b"error" => "error",
        b"debug" => "debug",
        b"trace" => "trace",
        b"warning" => "warning",
        b"Info" => "Info",
        b"Warning" => "Warning",
        b"Error" => "Error",
        b"Debug" => "Debug",
        _ => return None,
    })
}

/// `SEVERE: msg` → the record's severity (java.util.logging's second line).
fn set_jul_severity(record: &mut Record, line: &[u8]) -> bool {
    let word_end = line.iter().position(|&b| b == b':').unwrap_or(0);
    if let Some(number) = severity::from_word(&line[..word_end])
        && let Ok(word) = std::str::from_utf8(&line[..word_end])
    {
        record.severity = Severity {
            number,
            text: Str::from(word.to_string()),
        };
        return true;
    }
    false
}

fn body_value(bytes: Bytes, known_utf8: bool) -> Value {
    if known_utf8 {
        // SAFETY: the caller says so: the reader checked the region the line
        // was cut from at character boundaries (`Line::utf8`).
        return Value::Str(unsafe { Str::from_utf8_validated(bytes) });
    }
    match Str::from_utf8(bytes) {
        Ok(s) => Value::Str(s),
        Err(raw) => Value::Bytes(raw),
    }
}

#[cfg(test)]
mod tests;
