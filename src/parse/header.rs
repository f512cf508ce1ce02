//! The header of a text line: the fields a program writes before its
//! message, and the time and level among them.
//!
//! Programs put their level and time in a header: a run of fields before
//! the message (dates and times, numbers, pids, `[thread]`, `<pid>`,
//! `file.go:12]`, `component:` tags, dotted class names, host and node
//! names, separators like `-` and `|`, columns padded with spaces). The
//! scanner walks that header field by field and stops at the first word of
//! free text: a lowercase or Capitalised word followed by one space, a quote.
//! A level word counts only before that point, so "user error count=0" or
//! "retrying, INFO: see docs" never set a level, while the level in
//! `nova-api.log.1 2026-11-28 09:14:02.008 25746 INFO nova...` or
//! `- 1795857242 2026.11.28 R02-M1 ... RAS KERNEL INFO ...` is found.
//!
//! Case rules keep message words out:
//!
//! | written | taken when |
//! |---|---|
//! | `INFO`, `WARN`, `ERR`, `LOG` (capitals) | anywhere in the header, alone or before `:` `[` `]` `|` `,` `/` |
//! | `error`, `Warning`, `info` (lower or Capitalised) | followed by `:` (`error:`, `Info:`, `info:` of .NET, `error :`), by `[` (`error[E0425]`), or by padding or a separator (`info\t`, `Info   CBS`, `name - info -`) |
//! | inside `[..]`, `<..>`, `(..)` | the whole content (`[error]`, `[ info]`, `<Information>`, `[Note]`, `[I]`), the part after a colon (`[core:notice]`), or capitals among other words (`[2026-11-28T09:14:02Z INFO  app]`, `[Server thread/INFO]`, `[...: INFO/MainProcess]`) |
//! | one letter | after a time and before a capitalised word, `|` or `[` (MongoDB's `I  NETWORK`, etcd's `I |`), or after two numbers (logcat's pid and tid) |
//! | `.` `-` `*` `#` | right after a Redis time |
//!
//! and the shapes fixed at the line's start: syslog `<PRI>`, glog/klog and
//! CockroachDB `I1128 09:14:02.123456`, logcat `E/Tag(`, apt `E: `, Ruby's
//! `I, [`, crash banners ([`severity`]). PostgreSQL's `DETAIL:`, `HINT:`,
//! `STATEMENT:`... lines are reported as [`Header::detail`]: they continue
//! the message before them.
//!
//! The first time in the header is the line's time ([`timestamp::at`]); the
//! scan ends once both are found, or a few fields after the level (Cassandra
//! writes the level before the time). Everything is bounded: at most
//! [`SCAN_BYTES`] bytes and [`SCAN_FIELDS`] fields, no allocation.

use crate::parse::severity::{self, Found as Level, Rule};
use crate::parse::timestamp::{self, Found as Time, Shape, TimeConfig};
use crate::record::SeverityNumber;

/// What a line's header says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub time: Option<Time>,
    pub level: Option<Level>,
    /// A PostgreSQL secondary line (`DETAIL:  ...`): it belongs to the
    /// message before it.
    pub detail: bool,
}

/// How far into a line the header may reach (BlueGene/L's level is at byte
/// ~110, after an epoch, two dates and two node names).
pub const SCAN_BYTES: usize = 224;
/// How many fields may come before the level.
pub const SCAN_FIELDS: usize = 16;
/// Fields looked at after the level, for a time written after it.
const FIELDS_AFTER_LEVEL: usize = 4;

/// Scans the header of `line`.
// Inlined so the scanner writes straight into the caller's `Header`: copying
// it out of a call cost more than a tenth of the scan.
#[inline(always)]
pub fn scan(line: &[u8], config: &TimeConfig, observed: u64) -> Header {
    let mut s = Scanner {
        line,
        end: line.len().min(SCAN_BYTES),
        config,
        observed,
        header: Header::default(),
    };
    s.run();
    s.header
}

struct Scanner<'a> {
    line: &'a [u8],
    end: usize,
    config: &'a TimeConfig,
    observed: u64,
    header: Header,
}

/// What came before the current field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    Start,
    Time,
    Other,
}

/// A field that is not a level or a time.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Digits only (pids, thread ids, counts).
    Number,
    /// Part of the header: ids, names, tags, separators.
    Field,
    /// A word of free text: the message has begun.
    Prose,
}

impl Scanner<'_> {
    fn run(&mut self) {
        let line = self.line;
        let Some(&first) = line.first() else {
            return;
        };
        if let Some(level) = severity::crash_marker(line) {
            self.header.level = Some(level);
            return;
        }
        let mut pos = 0;
        // The shapes fixed at the line's start; one byte says which to try.
        match first {
            b'<' => {
                if let Some(level) = severity::syslog_priority(line) {
                    self.header.level = Some(level);
                    pos = level.end + 1;
                    // RFC 5424's version after the priority.
                    if line.get(pos..pos + 2) == Some(b"1 ") {
                        pos += 2;
                    }
                }
            }
            b'I' | b'W' | b'E' | b'F' | b'D' | b'V' | b'A' | b'N' => {
                if let Some(time) = timestamp::glog_at_start(line, self.config, self.observed) {
                    self.header.level = Some(Level {
                        number: severity::from_letter(first).unwrap_or(SeverityNumber::INFO),
                        start: 0,
                        end: 1,
                    });
                    self.header.time = Some(time);
                    return;
                }
                if let Some(level) =
                    severity::logcat_brief(line).or_else(|| severity::apt_letter(line))
                {
                    self.header.level = Some(level);
                    return;
                }
                // Ruby's Logger: `I, [time #pid]  INFO -- prog: msg`; the
                // word after the bracket says the same as the letter.
                if line.get(1..4) == Some(b", [") {
                    pos = 2;
                }
            }
            _ => {}
        }
        self.fields(pos);
    }

    fn fields(&mut self, mut pos: usize) {
        let line = self.line;
        let end = self.end;
        let mut prev = Prev::Start;
        let mut numbers = 0usize;
        let mut after_level = 0usize;
        for index in 0..SCAN_FIELDS {
            pos = skip_blanks(line, pos, end);
            if pos >= end {
                return;
            }
            if self.header.level.is_some() {
                after_level += 1;
                if self.header.time.is_some() || after_level > FIELDS_AFTER_LEVEL {
                    return;
                }
            }
            let first = index == 0;
            let c = line[pos];
            // A time starts with a digit, or with a month or weekday name
            // (three letters, then a space or a comma). Once one that can be
            // placed was found, later digits are only fields.
            let maybe_time = if c.is_ascii_digit() {
                self.header
                    .time
                    .is_none_or(|t| t.unix_nanos.is_none() && t.shape == Shape::Inferred)
            } else {
                c.is_ascii_uppercase() && matches!(line.get(pos + 3), Some(b' ' | b','))
            };
            if maybe_time
                && let Some(time) = timestamp::at(line, pos, first, self.config, self.observed)
            {
                pos = time.end;
                // The first time that can be placed (or is written out in
                // full) wins over an inferred one that could not.
                if self
                    .header
                    .time
                    .is_none_or(|t| t.unix_nanos.is_none() && t.shape == Shape::Inferred)
                {
                    self.header.time = Some(time);
                }
                match time.shape {
                    Shape::Syslog => pos = self.skip_host(pos),
                    Shape::Redis if self.header.level.is_none() => {
                        if let Some(level) = redis_marker(line, pos) {
                            self.header.level = Some(level);
                            pos = level.end;
                        }
                    }
                    _ => {}
                }
                prev = Prev::Time;
                numbers = 0;
                continue;
            }
            if matches!(c, b'[' | b'(' | b'<' | b'{') {
                let Some(close) = matching_close(line, pos, end) else {
                    return;
                };
                self.bracket(pos, close, first);
                if self.header.detail {
                    return;
                }
                pos = close + 1;
                prev = Prev::Other;
                numbers = 0;
                continue;
            }
            let token_end = field_end(line, pos, end);
            let next = Next::after(line, token_end, end);
            let field = Field::measure(&line[pos..token_end]);
            if self.header.level.is_none() {
                if let Some(level) = self.word_level(pos, token_end, &field, prev, numbers, &next) {
                    self.header.level = Some(level);
                    pos = token_end;
                    prev = Prev::Other;
                    numbers = 0;
                    continue;
                }
                if self.header.detail {
                    return;
                }
            }
            match classify(&line[pos..token_end], &field, &next) {
                Kind::Number => numbers += 1,
                Kind::Field => numbers = 0,
                Kind::Prose => {
                    if self.header.level.is_none() {
                        self.compound_error(pos, token_end, &next);
                    }
                    return;
                }
            }
            prev = Prev::Other;
            pos = token_end;
        }
    }

    /// After a syslog time comes the host name, unless the program's tag
    /// (`kernel:`, `imap-login:`) or a bracket follows directly.
    fn skip_host(&self, pos: usize) -> usize {
        let line = self.line;
        let start = skip_blanks(line, pos, self.end);
        if start >= self.end || matches!(line[start], b'[' | b'(' | b'<') {
            return pos;
        }
        let token_end = field_end(line, start, self.end);
        if line[token_end - 1] == b':' {
            return pos;
        }
        token_end
    }

    /// A bracketed field: a time at its start, a level inside.
    fn bracket(&mut self, open: usize, close: usize, first: bool) {
        let line = self.line;
        let inner = skip_spaces(line, open + 1, close);
        let mut from = inner;
        if line[open] == b'{' {
            return;
        }
        if from < close && (line[from].is_ascii_digit() || line[from].is_ascii_uppercase()) {
            // The bracket ends the line for the time parser, so `]` is its end.
            if let Some(time) =
                timestamp::at(&line[..close], from, first, self.config, self.observed)
            {
                if self
                    .header
                    .time
                    .is_none_or(|t| t.unix_nanos.is_none() && t.shape == Shape::Inferred)
                {
                    self.header.time = Some(time);
                }
                from = time.end;
            }
        }
        if self.header.level.is_none() {
            self.header.level = self.bracket_level(line[open], from, close, from == inner);
        }
    }

    /// The level inside a bracket's content `line[from..close]` (`open` is
    /// the bracket); `whole` is false when a time took the content's start.
    fn bracket_level(&self, open: u8, from: usize, close: usize, whole: bool) -> Option<Level> {
        let line = self.line;
        let start = skip_spaces(line, from, close);
        let mut stop = close;
        while stop > start && line[stop - 1] == b' ' {
            stop -= 1;
        }
        if start >= stop {
            return None;
        }
        let content = &line[start..stop];
        if whole {
            // `[error]`, `[INFO ]`, `[ info]`, `<Information>`, `[Note]`, `[System]`.
            if let Some(number) = word_with_digits(content).and_then(|(w, _)| {
                (w.rule != Rule::Upper || case_of(content_word(content)) == Case::Upper)
                    .then_some(w.number)
            }) {
                return Some(level_at(number, start, start + content_word(content).len()));
            }
            // Gitea's `[I]`, `[W]` (square brackets only: `(C)` is a copyright).
            if let [c] = content
                && open == b'['
                && *c != b'A'
                && let Some(number) = severity::from_letter(*c)
            {
                return Some(level_at(number, start, stop));
            }
        }
        // Segments split at spaces, `/` and `:`.
        let mut seg_start = start;
        let mut delim_before = b' ';
        let mut colon_at: Option<usize> = None;
        for _ in 0..8 {
            if seg_start >= stop {
                break;
            }
            let seg_end = line[seg_start..stop]
                .iter()
                .position(|b| matches!(b, b' ' | b'/' | b':'))
                .map_or(stop, |i| seg_start + i);
            let seg = &line[seg_start..seg_end];
            if !seg.is_empty() && seg.len() <= 13 && seg[0].is_ascii_alphabetic() {
                let case = case_of(content_word(seg));
                if let Some((word, _)) = word_with_digits(seg)
                    && word.rule != Rule::Bracketed
                {
                    let last = seg_end == stop;
                    // `[core:notice]`: the module before the colon has no space.
                    let module_level = delim_before == b':'
                        && last
                        && colon_at.is_some_and(|c| !line[start..c].contains(&b' '));
                    if case == Case::Upper || (module_level && word.rule == Rule::Any) {
                        return Some(level_at(
                            word.number,
                            seg_start,
                            seg_start + content_word(seg).len(),
                        ));
                    }
                }
            }
            if seg_end >= stop {
                break;
            }
            delim_before = line[seg_end];
            if delim_before == b':' {
                colon_at = Some(seg_end);
            }
            seg_start = seg_end + 1;
        }
        None
    }

    /// The level a plain field states, if it is one.
    fn word_level(
        &mut self,
        pos: usize,
        token_end: usize,
        field: &Field,
        prev: Prev,
        numbers: usize,
        next: &Next,
    ) -> Option<Level> {
        let line = self.line;
        let token = &line[pos..token_end];
        if field.word_len == 0 {
            return None;
        }
        // One letter: MongoDB's `I  NETWORK` (and its `D1`..`D5`), etcd's
        // `I | etcdmain`, logcat's `1234  5678 D Tag`.
        let letter = match token {
            [c] => Some((*c, severity::from_letter(*c))),
            [b'D', d] if (b'1'..=b'5').contains(d) => Some((b'D', Some(SeverityNumber::DEBUG))),
            _ => None,
        };
        if let Some((c, number)) = letter {
            let number = number?;
            let after_numbers = numbers >= 2;
            let after_time = prev == Prev::Time
                && c != b'A'
                && next
                    .first()
                    .is_some_and(|n| n.is_ascii_uppercase() || matches!(n, b'|' | b'[' | b'-'));
            return (after_numbers || after_time).then(|| level_at(number, pos, token_end));
        }
        // `level=info` inside a text header.
        if let Some(eq) = field.eq {
            let key = &token[..eq];
            if !matches!(
                key,
                b"level" | b"lvl" | b"severity" | b"loglevel" | b"log_level"
            ) {
                return None;
            }
            let value_start = pos + eq + 1 + (token.get(eq + 1) == Some(&b'"')) as usize;
            let value_end =
                token_end - (token.last() == Some(&b'"') && token_end > value_start) as usize;
            let number = severity::from_word(&line[value_start..value_end])?;
            return Some(level_at(number, value_start, value_end));
        }
        // Monolog's `channel.LEVEL:`.
        if let Some(dot) = field.last_dot
            && token.len() > 2
            && token.ends_with(b":")
        {
            let word = &token[dot + 1..token.len() - 1];
            if case_of(word) == Case::Upper
                && let Some(found) = severity::lookup(word)
            {
                return Some(level_at(found.number, pos + dot + 1, token_end - 1));
            }
        }
        // The word, after Erlang's leading `=` (`=INFO REPORT====`).
        if field.word_len < 2 {
            return None;
        }
        let word_start = pos + field.lead_eq;
        let word_end = word_start + field.word_len;
        let word = &line[word_start..word_end];
        let case = field.word_case(word);
        if case == Case::Mixed {
            return None;
        }
        let digits_end = word_end + field.word_digits;
        let after = line
            .get(digits_end)
            .copied()
            .filter(|_| digits_end < token_end);
        let Some(found) = severity::lookup(word) else {
            if case == Case::Upper && after == Some(b':') && severity::is_detail_word(word) {
                self.header.detail = true;
            }
            return None;
        };
        if found.rule == Rule::Bracketed || (found.rule == Rule::Upper && case != Case::Upper) {
            return None;
        }
        if digits_end > word_end && !(found.digits && digits_end - word_end == 1) {
            return None;
        }
        // slog's `INFO+2`, `WARN-1` (see [`severity::slog_offset`]).
        if matches!(after, Some(b'+' | b'-')) && case == Case::Upper {
            let number = severity::slog_offset(found.number, &line[word_end..token_end])?;
            return Some(level_at(number, word_start, token_end));
        }
        // .NET's console formatter: `crit:` opens the line for
        // LogLevel.Critical, FATAL in Appendix B (syslog's crit is ERROR2).
        let number = if word == b"crit" && after == Some(b':') {
            SeverityNumber::FATAL
        } else {
            found.number
        };
        let accepted = match after {
            Some(b':' | b'[') => true,
            Some(b']' | b'|' | b',' | b'/') => case == Case::Upper,
            Some(_) => false,
            None => case == Case::Upper || next.padded || next.separator(),
        };
        accepted.then(|| level_at(number, word_start, word_end))
    }

    /// `PHP Fatal error:`, `Parse error:`, `Connection error:`: a word then
    /// `error:` labels the line an error (a fatal one after "Fatal").
    fn compound_error(&mut self, pos: usize, token_end: usize, next: &Next) {
        let line = self.line;
        let Some(next_start) = next.start() else {
            return;
        };
        let word = line.get(next_start..next_start + 6);
        if !matches!(word, Some(b"error:" | b"Error:")) {
            return;
        }
        let fatal = line[pos..token_end].eq_ignore_ascii_case(b"fatal");
        self.header.level = Some(if fatal {
            level_at(SeverityNumber::FATAL, pos, next_start + 5)
        } else {
            level_at(SeverityNumber::ERROR, next_start, next_start + 5)
        });
    }
}

/// One pass over a field: what the level and field rules ask of it.
#[derive(Clone, Copy, Default)]
struct Field {
    /// `=` signs it starts with (Erlang's `=INFO REPORT====`).
    lead_eq: usize,
    /// The letters after them (the word), and how many are capitals.
    word_len: usize,
    word_upper: usize,
    /// Digits right after the word (`DEBUG2`, `trace3`).
    word_digits: usize,
    /// The first `=` after the start (a `key=value` field).
    eq: Option<usize>,
    /// The last `.` (Monolog's `channel.LEVEL:`).
    last_dot: Option<usize>,
    digits: usize,
    letters: usize,
    upper: usize,
    /// ASCII that is neither a letter nor a digit.
    other: bool,
    non_ascii: bool,
}

impl Field {
    fn measure(token: &[u8]) -> Field {
        let mut f = Field::default();
        let n = token.len();
        let mut i = 0;
        while i < n && token[i] == b'=' {
            i += 1;
        }
        f.lead_eq = i;
        while i < n && token[i].is_ascii_alphabetic() {
            f.word_upper += token[i].is_ascii_uppercase() as usize;
            i += 1;
        }
        f.word_len = i - f.lead_eq;
        let digits_start = i;
        while i < n && token[i].is_ascii_digit() {
            i += 1;
        }
        f.word_digits = i - digits_start;
        for (j, &b) in token.iter().enumerate() {
            if b.is_ascii_digit() {
                f.digits += 1;
            } else if b.is_ascii_alphabetic() {
                f.letters += 1;
                f.upper += b.is_ascii_uppercase() as usize;
            } else if !b.is_ascii() {
                f.non_ascii = true;
            } else {
                f.other = true;
                if b == b'=' && j > 0 && f.eq.is_none() {
                    f.eq = Some(j);
                } else if b == b'.' {
                    f.last_dot = Some(j);
                }
            }
        }
        f
    }

    /// The case of the word at the field's start.
    fn word_case(&self, word: &[u8]) -> Case {
        if self.word_upper == self.word_len {
            Case::Upper
        } else if self.word_upper == 0 {
            Case::Lower
        } else if self.word_upper == 1 && word[0].is_ascii_uppercase() {
            Case::Capital
        } else {
            Case::Mixed
        }
    }
}

/// What follows a field: padding (two or more spaces, or a tab), and the
/// next field (looked at only when a rule needs it).
struct Next<'a> {
    line: &'a [u8],
    end: usize,
    padded: bool,
    /// Where the next field starts (`end` if none).
    at: usize,
}

impl<'a> Next<'a> {
    fn after(line: &'a [u8], token_end: usize, end: usize) -> Next<'a> {
        let at = skip_blanks(line, token_end, end);
        let gap = at - token_end;
        Next {
            line,
            end,
            padded: gap >= 2 || (gap == 1 && line[token_end] == b'\t'),
            at,
        }
    }

    fn first(&self) -> Option<u8> {
        (self.at < self.end).then(|| self.line[self.at])
    }

    fn start(&self) -> Option<usize> {
        (self.at < self.end).then_some(self.at)
    }

    /// The next field is a separator: `-`, `|`, `:`, `--`, `>`.
    fn separator(&self) -> bool {
        let rest = &self.line[self.at..self.end];
        let len = rest
            .iter()
            .take(4)
            .take_while(|b| matches!(b, b'-' | b'|' | b':' | b'>'))
            .count();
        (1..=3).contains(&len) && matches!(rest.get(len), None | Some(b' ' | b'\t'))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Case {
    Upper,
    Capital,
    Lower,
    Mixed,
}

/// The case of an ASCII word.
fn case_of(word: &[u8]) -> Case {
    let Some((&first, rest)) = word.split_first() else {
        return Case::Mixed;
    };
    let rest_upper = rest.iter().all(|b| !b.is_ascii_lowercase());
    let rest_lower = rest.iter().all(|b| !b.is_ascii_uppercase());
    match (first.is_ascii_uppercase(), rest_upper, rest_lower) {
        (true, true, _) => Case::Upper,
        (true, false, true) => Case::Capital,
        (false, _, true) => Case::Lower,
        _ => Case::Mixed,
    }
}

/// The leading letters of `content`.
fn content_word(content: &[u8]) -> &[u8] {
    let n = content
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    &content[..n]
}

/// `content` is exactly a level word, optionally with its one digit
/// (`DEBUG2`, `trace3`); any case but mixed.
fn word_with_digits(content: &[u8]) -> Option<(severity::Word, usize)> {
    let word = content_word(content);
    if case_of(word) == Case::Mixed {
        return None;
    }
    let found = severity::lookup(word)?;
    let rest = &content[word.len()..];
    let ok = rest.is_empty() || (found.digits && rest.len() == 1 && rest[0].is_ascii_digit());
    ok.then_some((found, word.len()))
}

fn level_at(number: SeverityNumber, start: usize, end: usize) -> Level {
    Level { number, start, end }
}

/// Redis's level symbol after its time: `* Ready to accept connections`.
fn redis_marker(line: &[u8], pos: usize) -> Option<Level> {
    let at = pos + 1;
    let number = severity::from_redis_marker(*line.get(at)?)?;
    (line.get(pos) == Some(&b' ') && matches!(line.get(at + 1), Some(b' ') | None))
        .then(|| level_at(number, at, at + 1))
}

/// What a field that is not a level or time is.
fn classify(token: &[u8], field: &Field, next: &Next) -> Kind {
    let Field {
        digits,
        letters,
        upper,
        other,
        non_ascii,
        ..
    } = *field;
    if digits == token.len() {
        return Kind::Number;
    }
    if digits > 0 {
        return Kind::Field;
    }
    if matches!(token[0], b'"' | b'\'' | b'`') || non_ascii {
        return Kind::Prose;
    }
    if letters == 0 {
        // Separators: `-`, `|`, `--`, `:`, `>`, `*`.
        return Kind::Field;
    }
    if !other {
        // Letters only: an acronym or component (`RAS`, `KERNEL`, `CBS`), a
        // CamelCase name (`LabSZ`), or a plain word, which is a column when
        // padded or followed by a separator and starts the message otherwise.
        let capitalised = upper == 1 && token[0].is_ascii_uppercase();
        let name = (upper == letters && letters >= 2) || (upper > 0 && !capitalised);
        return if name || next.padded || next.separator() {
            Kind::Field
        } else {
            Kind::Prose
        };
    }
    // A tag: `kernel:`, `sshd[1]:`, `app:`.
    if token.len() > 1 && token.ends_with(b":") {
        return Kind::Field;
    }
    let core = token.strip_prefix(b"(").unwrap_or(token).trim_ascii_end();
    let core_end = core.len()
        - core
            .iter()
            .rev()
            .take_while(|b| matches!(b, b'.' | b',' | b';' | b'!' | b'?' | b')'))
            .count();
    let core = &core[..core_end];
    // Identifiers: dotted names, paths, `a_b`, `x$y`, `k=v`, `f(x)`.
    if core
        .iter()
        .any(|b| !b.is_ascii_alphabetic() && !matches!(b, b'-' | b'\''))
    {
        return Kind::Field;
    }
    match case_of(core) {
        // Acronyms and component names: `RAS KERNEL`, `CBS`, `PHP`, `NETWORK`.
        Case::Upper if core.len() >= 2 => Kind::Field,
        // CamelCase: `LabSZ`, `QuorumPeer`.
        Case::Mixed if !core.contains(&b'-') => Kind::Field,
        // A plain word is a column when padded or followed by a separator
        // (`root         INFO`, `myapp - INFO -`); else it starts the message.
        _ if next.padded || next.separator() => Kind::Field,
        _ => Kind::Prose,
    }
}

/// Where the field starting at `pos` ends: the next space or tab. Fields
/// are short, so a plain loop beats a vectorised search here.
fn field_end(line: &[u8], pos: usize, end: usize) -> usize {
    line[pos..end]
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .map_or(end, |i| pos + i)
}

fn skip_blanks(line: &[u8], mut pos: usize, end: usize) -> usize {
    while pos < end && matches!(line[pos], b' ' | b'\t') {
        pos += 1;
    }
    pos
}

fn skip_spaces(line: &[u8], mut pos: usize, end: usize) -> usize {
    while pos < end && line[pos] == b' ' {
        pos += 1;
    }
    pos
}

/// The bracket closing the one at `open` (nested ones of its kind counted),
/// within `end`.
fn matching_close(line: &[u8], open: usize, end: usize) -> Option<usize> {
    let (o, c) = match line[open] {
        b'[' => (b'[', b']'),
        b'(' => (b'(', b')'),
        b'<' => (b'<', b'>'),
        _ => (b'{', b'}'),
    };
    let mut depth = 0usize;
    for (i, &b) in line[open..end].iter().enumerate() {
        if b == o {
            depth += 1;
        } else if b == c {
            depth -= 1;
            if depth == 0 {
                return Some(open + i);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-28T09:15:00Z
    const OBSERVED: u64 = 1_795_857_300_000_000_000;

    fn level(line: &str) -> Option<(u8, &str)> {
        scan(line.as_bytes(), &TimeConfig::default(), OBSERVED)
            .level
            .map(|f| (f.number.0, &line[f.start..f.end]))
    }

    #[test]
    fn observed_constant_is_what_it_claims() {
        assert_eq!(
            "2026-11-28T09:15:00Z"
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_nanosecond(),
            OBSERVED as i128
        );
    }

    #[test]
    fn levels_where_programs_put_them() {
        let cases: &[(&str, Option<(u8, &str)>)] = &[
            ("ERROR something broke", Some((17, "ERROR"))),
            ("error: cannot open file", Some((17, "error"))),
            ("Error: ENOENT: no such file", Some((17, "Error"))),
            ("[error] upstream timed out", Some((17, "error"))),
            ("<warn> disk almost full", Some((13, "warn"))),
            ("WARNING:root:careful", Some((13, "WARNING"))),
            ("CRITICAL:shipper:giving up", Some((21, "CRITICAL"))),
            (
                "2026-11-28 09:14:02 crit: Microsoft.AspNetCore[6]",
                Some((21, "crit")),
            ),
            (
                "[2026-11-28T09:14:02.1+00:00] app.WARNING: slow [] []",
                Some((13, "WARNING")),
            ),
            (
                "time=2026-11-28T09:14:02Z level=WARN+2 msg=x y",
                Some((15, "WARN+2")),
            ),
            (
                "2026-11-28T09:14:02.1+0000 D1 COMMAND  [conn1] run command",
                Some((5, "D1")),
            ),
            (
                "2026-11-28T09:14:02.1+0000 F  -        [main] Fatal Assertion",
                Some((21, "F")),
            ),
            (
                "crit: Microsoft.AspNetCore.Server.Kestrel[0]",
                Some((21, "crit")),
            ),
            (
                "2026/11/28 09:14:02 [crit] 7#7: *1 SSL_do_handshake() failed",
                Some((18, "crit")),
            ),
            ("WARN[0000] no config file found", Some((13, "WARN"))),
            (
                "15:00:00.123 [main] WARN  c.e.Foo - slow",
                Some((13, "WARN")),
            ),
            ("[main] INFO com.example.App - started", Some((9, "INFO"))),
            (
                "- INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:FastLeaderElection@774] - timeout",
                Some((9, "INFO")),
            ),
            ("root - WARNING - low disk", Some((13, "WARNING"))),
            (
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: done",
                Some((9, "INFO")),
            ),
            (
                "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok",
                Some((10, "notice")),
            ),
            (
                "[Wed Nov 25 15:00:00.1 2026] [core:notice] [pid 1] AH00094: x",
                Some((10, "notice")),
            ),
            (
                "[Wed Nov 25 15:00:00.1 2026] [:error] [pid 1] x",
                Some((17, "error")),
            ),
            ("combo sshd[24324]: error: Received disconnect", None),
            (
                "sshd[24324]: error: Received disconnect",
                Some((17, "error")),
            ),
            (
                "Nov 28 09:14:02 combo sshd[24324]: error: Received disconnect",
                Some((17, "error")),
            ),
            ("JulLogging main", None),
            ("SEVERE: flush failed", Some((17, "SEVERE"))),
            (
                "E1125 10:00:00.123456   12345 main.go:12] failed to sync",
                Some((17, "E")),
            ),
            ("W/ActivityManager( 1234): Slow operation", Some((13, "W"))),
            (
                "11-25 15:00:00.123  1234  5678 E Tag: boom",
                Some((17, "E")),
            ),
            ("<3>kernel: disk failure", Some((17, "3"))),
            ("<14>Nov 25 10:00:00 host app: hi", Some((9, "14"))),
            (
                "panic: runtime error: index out of range",
                Some((21, "panic")),
            ),
            (
                "Traceback (most recent call last):",
                Some((17, "Traceback")),
            ),
            // The loghub-style systems.
            (
                "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-1 - - -] x",
                Some((9, "INFO")),
            ),
            (
                "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL FATAL data TLB error interrupt",
                Some((21, "FATAL")),
            ),
            (
                "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: x",
                Some((9, "INFO")),
            ),
            (
                "2016-09-28 04:30:30, Info                  CBS    Loaded x",
                Some((9, "Info")),
            ),
            // Conventions that are not words.
            (
                "1:M 28 Nov 2026 09:14:02.123 * Ready to accept connections tcp",
                Some((10, "*")),
            ),
            (
                "1:M 28 Nov 2026 09:14:02.123 # Warning: no config file",
                Some((13, "#")),
            ),
            (
                "2026-11-28 09:14:02.123456 I | etcdmain: etcd Version: 3.3.10",
                Some((9, "I")),
            ),
            (
                "2026-11-28T09:14:02.123+0000 I  NETWORK  [listener] waiting",
                Some((9, "I")),
            ),
            (
                "2026.11.28 09:14:02.123456 [ 1 ] {} <Information> Application: x",
                Some((9, "Information")),
            ),
            (
                "2026-11-28 09:14:02.123 UTC [12345] LOG:  database system is ready",
                Some((9, "LOG")),
            ),
            (
                "2026-11-28T09:14:02.123456Z 0 [System] [MY-010116] [Server] x",
                Some((9, "System")),
            ),
            (
                "I, [2026-11-28T09:14:02.123456 #1234]  INFO -- : Started GET",
                Some((9, "INFO")),
            ),
            ("info: Microsoft.Hosting.Lifetime[14]", Some((9, "info"))),
            (
                "fail: Microsoft.AspNetCore.Server.Kestrel[13]",
                Some((17, "fail")),
            ),
            (
                "[2026-11-28T09:14:02Z INFO  my_app] starting",
                Some((9, "INFO")),
            ),
            (
                "[2026-11-28 09:14:02,123: WARNING/MainProcess] late",
                Some((13, "WARNING")),
            ),
            (
                "[09:14:02] [Server thread/INFO]: Starting minecraft server",
                Some((9, "INFO")),
            ),
            (
                "[28-Nov-2026 09:14:02 UTC] PHP Fatal error:  Uncaught Exception",
                Some((21, "Fatal error")),
            ),
            (
                "[28-Nov-2026 09:14:02 UTC] PHP Warning:  Undefined variable",
                Some((13, "Warning")),
            ),
            (
                "=ERROR REPORT==== 28-Nov-2026::09:14:02.123456 ===",
                Some((17, "ERROR")),
            ),
            (
                "2026/11/28 09:14:02 ...s/setting.go:21:PreloadSettings() [I] AppPath: /x",
                Some((9, "I")),
            ),
            (
                "2026-11-28 09:14:02.123 UTC [12345] STATEMENT:  select 1",
                None,
            ),
            (
                "2026-11-28T09:14:02.123Z\tinfo\txdsproxy\tconnected",
                Some((9, "info")),
            ),
            ("time=x level=warn and some text", Some((13, "warn"))),
            ("main.c:3:5: error: 'x' undeclared", Some((17, "error"))),
            (
                "error[E0425]: cannot find value `y` in this scope",
                Some((17, "error")),
            ),
            ("E: Unable to locate package foo", Some((17, "E"))),
            // Not levels: words of the message.
            ("0 errors, 3 warnings", None),
            ("retrying after error in upstream", None),
            ("Errors: none", None),
            ("informative message", None),
            ("the error was handled", None),
            ("user error count=0", None),
            ("Deploy finished, INFO: see docs", None),
            ("2026-11-28 09:14:02 upload done; INFO: see docs", None),
            (
                "2026/11/28 09:14:02 http: TLS handshake error from 10.0.0.1:5678: EOF",
                None,
            ),
            ("worker 3 processed batch 3 of queue emails", None),
            ("I think so", None),
            ("A user logged in", None),
            ("log: rotated", None),
            ("[Error Reporter] started", None),
            (
                "Nov 28 09:14:02 h ip_tables: (C) 2000-2002 Netfilter core team",
                None,
            ),
            ("2026-11-28 09:14:02 [pool www] child 12 started", None),
            ("", None),
        ];
        for (line, expected) in cases {
            assert_eq!(level(line), *expected, "{line:?}");
        }
    }

    #[test]
    fn times_anywhere_in_the_header() {
        fn t(line: &str) -> Option<(Option<i64>, &str)> {
            scan(line.as_bytes(), &TimeConfig::default(), OBSERVED)
                .time
                .map(|t| (t.unix_nanos, &line[t.start..t.end]))
        }
        let at = |s: &str| Some(s.parse::<jiff::Timestamp>().unwrap().as_nanosecond() as i64);
        // Cassandra: the level first.
        assert_eq!(
            t("INFO  [main] 2026-11-28 09:14:02,123 CassandraDaemon.java:507 - Hostname"),
            Some((at("2026-11-28T09:14:02.123Z"), "2026-11-28 09:14:02,123"))
        );
        // After a pid, a file name, a priority.
        assert_eq!(
            t("[1] 2026/11/28 09:14:02.123456 [INF] Starting nats-server"),
            Some((
                at("2026-11-28T09:14:02.123456Z"),
                "2026/11/28 09:14:02.123456"
            ))
        );
        assert_eq!(
            t("1:M 28 Nov 2026 09:14:02.123 * Ready"),
            Some((at("2026-11-28T09:14:02.123Z"), "28 Nov 2026 09:14:02.123"))
        );
        assert_eq!(
            t("<165>1 2026-11-28T09:14:02.003Z mymachine.example.com evntslog - ID47 - msg"),
            Some((at("2026-11-28T09:14:02.003Z"), "2026-11-28T09:14:02.003Z"))
        );
        // Inside a bracket with more after it.
        assert_eq!(
            t("I, [2026-11-28T09:14:02.123456 #1234]  INFO -- : x"),
            Some((
                at("2026-11-28T09:14:02.123456Z"),
                "2026-11-28T09:14:02.123456"
            ))
        );
        // A rejected two-digit-year date is not re-read as a time of day.
        assert_eq!(t("17/06/09 09:10:40 INFO x").map(|(n, _)| n), Some(None));
        // Not after the message began.
        assert_eq!(t("done at 2026-11-28 09:14:02"), None);
    }

    #[test]
    fn postgres_detail_lines_are_flagged() {
        let h = scan(
            b"2026-11-28 09:14:02.123 UTC [12345] DETAIL:  Key (id)=(1) already exists.",
            &TimeConfig::default(),
            OBSERVED,
        );
        assert!(h.detail);
        assert_eq!(h.level, None);
    }

    #[test]
    fn never_reads_past_the_window() {
        let long = format!("{} INFO x", "a.b ".repeat(100));
        assert_eq!(level(&long), None);
        let unclosed = "[2026-11-28 09:14:02 INFO no close";
        assert_eq!(level(unclosed), None);
    }
}
