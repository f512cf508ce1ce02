//! Severity: level words and numbers → OTel SeverityNumber, and finding the
//! level in a plain text line.
//!
//! The mapping follows the Logs Data Model's Appendix B (syslog, log4j, zap,
//! java.util.logging, .NET) and extends it with the names other libraries use
//! (logrus, slog, serilog, structlog, Python logging, pino/bunyan numbers):
//!
//! | words | SeverityNumber |
//! |---|---|
//! | trace, finest, verbose | TRACE 1 |
//! | debug, finer, dbug | DEBUG 5 |
//! | fine | DEBUG2 6 |
//! | config | DEBUG3 7 |
//! | info, information, informational | INFO 9 |
//! | notice | INFO2 10 |
//! | warn, warning | WARN 13 |
//! | error, err, severe, eror | ERROR 17 |
//! | critical, crit, dpanic | ERROR2 18 |
//! | alert, panic | ERROR3 19 |
//! | fatal, emerg, emergency | FATAL 21 |
//!
//! In text, a level counts only where programs put it: at the start of the
//! line, or after a leading timestamp, bracketed fields, numbers, a syslog
//! host and tag, or `name -` fields. The scan stops at the first word of free
//! text, so "0 errors" or "retrying after error" never set a level.

use crate::record::SeverityNumber;

/// A level word (any case) → its severity.
pub fn from_word(word: &[u8]) -> Option<SeverityNumber> {
    if word.len() > 13 || word.is_empty() {
        return None;
    }
    let mut lower = [0u8; 13];
    for (dst, src) in lower.iter_mut().zip(word) {
        *dst = src.to_ascii_lowercase();
    }
    let n = match &lower[..word.len()] {
        b"trace" | b"finest" | b"verbose" | b"trc" => 1,
        b"debug" | b"finer" | b"dbug" | b"dbg" => 5,
        b"fine" => 6,
        b"config" => 7,
        b"info" | b"information" | b"informational" | b"inf" => 9,
        b"notice" => 10,
        b"warn" | b"warning" | b"wrn" => 13,
        b"error" | b"err" | b"severe" | b"eror" | b"erro" => 17,
        b"critical" | b"crit" | b"dpanic" => 18,
        b"alert" | b"panic" => 19,
        b"fatal" | b"emerg" | b"emergency" | b"ftl" => 21,
        _ => return None,
    };
    Some(SeverityNumber(n))
}

/// A numeric level: syslog severities 0-7 (RFC 5424, as GELF and others
/// send them) or pino/bunyan's 10-60.
pub fn from_number(n: i64) -> Option<SeverityNumber> {
    let s = match n {
        0 => 21, // emergency
        1 => 19, // alert
        2 => 18, // critical
        3 => 17, // error
        4 => 13, // warning
        5 => 10, // notice
        6 => 9,  // informational
        7 => 5,  // debug
        10 => 1,
        20 => 5,
        30 => 9,
        40 => 13,
        50 => 17,
        60 => 21,
        _ => return None,
    };
    Some(SeverityNumber(s))
}

/// A one-letter level as glog/klog and Android logcat write it.
fn from_letter(c: u8) -> Option<SeverityNumber> {
    Some(SeverityNumber(match c {
        b'V' => 1,
        b'D' => 5,
        b'I' => 9,
        b'W' => 13,
        b'E' => 17,
        b'F' | b'A' => 21,
        _ => return None,
    }))
}

/// A level found in a text line: its number and where the word is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub number: SeverityNumber,
    /// Byte range of the level text as written (e.g. `WARNING`, `notice`, `E`).
    pub start: usize,
    pub end: usize,
}

/// How far into a line the level is looked for.
const SCAN_BYTES: usize = 160;
/// How many leading fields may come before the level.
const SCAN_FIELDS: usize = 8;

/// Finds the level of a text line, starting at `from` (the end of a leading
/// timestamp the caller already recognised, or 0).
pub fn find_in_text(line: &[u8], from: usize) -> Option<Found> {
    if let Some(found) = crash_marker(line) {
        return Some(found);
    }
    // Shapes defined by the line's first bytes, whatever the caller skipped.
    if let Some(found) = syslog_priority(line)
        .or_else(|| glog(line))
        .or_else(|| logcat_brief(line))
    {
        return Some(found);
    }
    let end = line.len().min(SCAN_BYTES);
    let mut pos = from;
    let mut numbers_seen = 0;
    let mut fields = 0;
    while fields < SCAN_FIELDS {
        while pos < end && matches!(line[pos], b' ' | b'\t') {
            pos += 1;
        }
        if pos >= end {
            return None;
        }
        // A bracketed field may hold spaces: `[Sun Dec 04 04:47:44 2005]`.
        let token_end = match line[pos] {
            open @ (b'[' | b'(' | b'<') => {
                let close = match open {
                    b'[' => b']',
                    b'(' => b')',
                    _ => b'>',
                };
                match memchr::memchr(close, &line[pos + 1..end]) {
                    Some(i) => pos + 1 + i + 1,
                    None => return None,
                }
            }
            _ => memchr::memchr2(b' ', b'\t', &line[pos..end]).map_or(end, |i| pos + i),
        };
        let token = &line[pos..token_end];
        if let Some(found) = level_token(token, pos) {
            return Some(found);
        }
        // A one-letter logcat level after its date, time, pid and tid.
        if token.len() == 1
            && numbers_seen >= 2
            && let Some(number) = from_letter(token[0])
        {
            return Some(Found {
                number,
                start: pos,
                end: pos + 1,
            });
        }
        if !is_structural(token, &line[token_end..end]) {
            return None;
        }
        if token
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b':' | b'.' | b',' | b'-' | b'/'))
        {
            numbers_seen += 1;
        }
        pos = token_end;
        fields += 1;
    }
    None
}

/// A token that is a level: `ERROR`, `error:`, `[warn]`, `<info>`, `(debug)`,
/// `WARNING:root:msg`, `WARN[0000]`, `INFO|`. The word must end at a
/// delimiter, so `errors` and `Error-prone` are not levels.
fn level_token(token: &[u8], offset: usize) -> Option<Found> {
    let (mut inner, mut inner_offset) = match token {
        [b'[', rest @ .., b']'] | [b'<', rest @ .., b'>'] | [b'(', rest @ .., b')'] => {
            (rest, offset + 1)
        }
        _ => (token, offset),
    };
    // Apache 2.4 writes `[module:level]`, e.g. `[core:notice]`, `[:error]`.
    if inner.len() < token.len()
        && let Some(colon) = memchr::memrchr(b':', inner)
        && !inner[..colon].contains(&b' ')
    {
        inner_offset += colon + 1;
        inner = &inner[colon + 1..];
    }
    let word_len = inner.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if word_len < 3 {
        return None;
    }
    let delimiter_ok = matches!(
        inner.get(word_len),
        None | Some(b':' | b'[' | b'|' | b']' | b',')
    );
    if !delimiter_ok {
        return None;
    }
    let number = from_word(&inner[..word_len])?;
    Some(Found {
        number,
        start: inner_offset,
        end: inner_offset + word_len,
    })
}

/// Fields that may precede a level: timestamps and numbers, bracketed or
/// parenthesised fields, separators, `name[pid]:` tags, and a word followed
/// by a separator (`root -`, `main |`).
fn is_structural(token: &[u8], rest: &[u8]) -> bool {
    match token {
        [b'[', .., b']'] | [b'(', .., b')'] | [b'<', .., b'>'] => return true,
        b"-" | b"|" | b"--" | b"::" | b":" | b"~" => return true,
        _ => {}
    }
    if token.iter().all(|b| {
        b.is_ascii_digit() || matches!(b, b':' | b'.' | b',' | b'-' | b'/' | b'+' | b'T' | b'Z')
    }) {
        return true;
    }
    // A program tag: `sshd[24200]:` or `kernel:` (syslog), `thread-1]` (log4j).
    if token.ends_with(b":") && token.len() > 1 && !token[..token.len() - 1].contains(&b':') {
        let name = &token[..token.len() - 1];
        let name = match memchr::memchr(b'[', name) {
            Some(i) if name.ends_with(b"]") => &name[..i],
            _ => name,
        };
        return !name.is_empty()
            && name.iter().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'(' | b')')
            });
    }
    // `name -` or `name |`: a field followed by a separator.
    let next = rest.trim_ascii_start();
    matches!(next.first(), Some(b'-' | b'|')) && matches!(next.get(1), Some(b' ') | None)
}

/// `<N>` syslog priority at the very start: severity is N mod 8.
fn syslog_priority(line: &[u8]) -> Option<Found> {
    if line.first() != Some(&b'<') {
        return None;
    }
    let close = line.iter().take(5).position(|&b| b == b'>')?;
    let digits = &line[1..close];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let pri: i64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    if pri > 191 {
        return None;
    }
    Some(Found {
        number: from_number(pri % 8)?,
        start: 1,
        end: close,
    })
}

/// glog/klog: `E1125 10:00:00.123456  1234 file.go:12] msg`.
fn glog(line: &[u8]) -> Option<Found> {
    let head = line.get(..14)?;
    let letter = matches!(head[0], b'I' | b'W' | b'E' | b'F');
    let date = head[1..5].iter().all(u8::is_ascii_digit);
    let time = head[5] == b' ' && head[6..8].iter().all(u8::is_ascii_digit) && head[8] == b':';
    if !(letter && date && time) {
        return None;
    }
    Some(Found {
        number: from_letter(head[0])?,
        start: 0,
        end: 1,
    })
}

/// Android logcat "brief": `E/Tag( 1234): msg`.
fn logcat_brief(line: &[u8]) -> Option<Found> {
    if line.len() < 4 || line[1] != b'/' {
        return None;
    }
    let tag_end = memchr::memchr2(b'(', b':', &line[2..])? + 2;
    if tag_end == 2 || line[2..tag_end].contains(&b' ') {
        return None;
    }
    Some(Found {
        number: from_letter(line[0])
            .filter(|_| matches!(line[0], b'V' | b'D' | b'I' | b'W' | b'E' | b'F' | b'A'))?,
        start: 0,
        end: 1,
    })
}

/// Lines that announce a crash: Go's `panic:` and `fatal error:`, Rust's
/// `thread '…' panicked at`, Python's `Traceback (most recent call last):`,
/// Java's `Exception in thread`.
fn crash_marker(line: &[u8]) -> Option<Found> {
    let found = |number: u8, len: usize| Found {
        number: SeverityNumber(number),
        start: 0,
        end: len,
    };
    if line.starts_with(b"panic: ") {
        return Some(found(21, 5));
    }
    if line.starts_with(b"fatal error: ") {
        return Some(found(21, 5));
    }
    if line.starts_with(b"thread '") && memchr::memmem::find(line, b"' panicked at ").is_some()
        || line.starts_with(b"thread '") && memchr::memmem::find(line, b") panicked at ").is_some()
    {
        return Some(found(21, 6));
    }
    let trimmed = line.trim_ascii_start();
    let offset = line.len() - trimmed.len();
    for marker in [
        &b"Traceback (most recent call last):"[..],
        b"+ Exception Group Traceback (most recent call last):",
    ] {
        if trimmed.starts_with(marker) {
            let word = memchr::memmem::find(marker, b"Traceback").unwrap_or(0);
            return Some(Found {
                number: SeverityNumber(17),
                start: offset + word,
                end: offset + word + 9,
            });
        }
    }
    if line.starts_with(b"Exception in thread ") {
        return Some(found(17, 9));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(line: &str) -> Option<(u8, &str)> {
        find_in_text(line.as_bytes(), 0).map(|f| (f.number.0, &line[f.start..f.end]))
    }

    #[test]
    fn words_map_per_appendix_b() {
        let cases = [
            ("TRACE", 1),
            ("finest", 1),
            ("Debug", 5),
            ("FINER", 5),
            ("fine", 6),
            ("CONFIG", 7),
            ("info", 9),
            ("Information", 9),
            ("notice", 10),
            ("WARNING", 13),
            ("warn", 13),
            ("SEVERE", 17),
            ("err", 17),
            ("crit", 18),
            ("critical", 18),
            ("DPANIC", 18),
            ("alert", 19),
            ("panic", 19),
            ("emerg", 21),
            ("FATAL", 21),
        ];
        for (word, n) in cases {
            assert_eq!(
                from_word(word.as_bytes()),
                Some(SeverityNumber(n)),
                "{word}"
            );
        }
        assert_eq!(from_word(b"errors"), None);
        assert_eq!(from_word(b"informative"), None);
    }

    #[test]
    fn numbers_pino_and_syslog() {
        assert_eq!(from_number(30), Some(SeverityNumber(9)));
        assert_eq!(from_number(50), Some(SeverityNumber(17)));
        assert_eq!(from_number(60), Some(SeverityNumber(21)));
        assert_eq!(from_number(3), Some(SeverityNumber(17)));
        assert_eq!(from_number(6), Some(SeverityNumber(9)));
        assert_eq!(from_number(35), None);
    }

    #[test]
    fn text_shapes_real_programs_print() {
        let cases: &[(&str, Option<(u8, &str)>)] = &[
            ("ERROR something broke", Some((17, "ERROR"))),
            ("error: cannot open file", Some((17, "error"))),
            ("Error: ENOENT: no such file", Some((17, "Error"))),
            ("[error] upstream timed out", Some((17, "error"))),
            ("<warn> disk almost full", Some((13, "warn"))),
            ("WARNING:root:careful", Some((13, "WARNING"))),
            ("CRITICAL:shipper:giving up", Some((18, "CRITICAL"))),
            ("WARN[0000] no config file found", Some((13, "WARN"))),
            // log4j / logback / Zookeeper / Hadoop shapes after a timestamp
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
            // HDFS: date, time, pid, then the level
            (
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: done",
                Some((9, "INFO")),
            ),
            // Apache error log
            (
                "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok",
                Some((10, "notice")),
            ),
            (
                "[Sun Dec 04 04:47:44 2005] [error] mod_jk child in error state 6",
                Some((17, "error")),
            ),
            // nginx after its timestamp
            ("[error] 123#0: *1 connect() failed", Some((17, "error"))),
            (
                "[Wed Nov 25 15:00:00.1 2026] [core:notice] [pid 1] AH00094: x",
                Some((10, "notice")),
            ),
            (
                "[Wed Nov 25 15:00:00.1 2026] [:error] [pid 1] x",
                Some((17, "error")),
            ),
            // syslog tag then a level word
            ("combo sshd[24324]: error: Received disconnect", None),
            (
                "sshd[24324]: error: Received disconnect",
                Some((17, "error")),
            ),
            ("JulLogging main", None),
            ("SEVERE: flush failed", Some((17, "SEVERE"))),
            // glog / klog, logcat, syslog priority
            (
                "E1125 10:00:00.123456   12345 main.go:12] failed to sync",
                Some((17, "E")),
            ),
            (
                "I1125 10:00:00.123456   12345 main.go:12] synced",
                Some((9, "I")),
            ),
            ("W/ActivityManager( 1234): Slow operation", Some((13, "W"))),
            ("<3>kernel: disk failure", Some((17, "3"))),
            ("<14>Nov 25 10:00:00 host app: hi", Some((9, "14"))),
            // crashes
            (
                "panic: runtime error: index out of range",
                Some((21, "panic")),
            ),
            (
                "fatal error: all goroutines are asleep",
                Some((21, "fatal")),
            ),
            (
                "thread 'main' (30557) panicked at src/main.rs:4:9:",
                Some((21, "thread")),
            ),
            (
                "Traceback (most recent call last):",
                Some((17, "Traceback")),
            ),
            (
                "  + Exception Group Traceback (most recent call last):",
                Some((17, "Traceback")),
            ),
            (
                "Exception in thread \"main\" java.lang.IllegalStateException: bad",
                Some((17, "Exception")),
            ),
            // not levels
            ("0 errors, 3 warnings", None),
            ("retrying after error in upstream", None),
            ("Errors: none", None),
            ("informative message", None),
            ("the error was handled", None),
            ("worker 3 processed batch 3 of queue emails", None),
            (
                "chrome.exe - proxy.cse.cuhk.edu.hk:5070 error : A connection request was canceled",
                None,
            ),
            ("", None),
        ];
        for (line, expected) in cases {
            assert_eq!(level(line), *expected, "{line:?}");
        }
    }

    #[test]
    fn logcat_threadtime_letter_after_date_time_pid_tid() {
        let line = "11-25 15:00:00.123  1234  5678 E Tag: boom";
        assert_eq!(level(line), Some((17, "E")));
        // A lone letter in prose is not a level.
        assert_eq!(level("I think so"), None);
    }
}
