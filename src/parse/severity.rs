//! Severity: level words, letters, symbols and numbers → OTel SeverityNumber,
//! and the level shapes defined by a line's first bytes.
//!
//! The mapping follows the Logs Data Model's Appendix B (syslog, log4j, zap,
//! java.util.logging, .NET) and extends it with the names other programs use
//! (logrus, slog, zerolog, serilog, structlog, Python logging, PostgreSQL,
//! MySQL, ClickHouse, pino/bunyan numbers). Two words mean different things
//! to different programs; the table takes the reading of most of the
//! programs that write the word: `critical` is Python's top level (an alias
//! of FATAL there) and .NET's `LogLevel.Critical` (FATAL in Appendix B),
//! while syslog's abbreviation `crit` stays ERROR2 as Appendix B has it;
//! `panic` is above fatal in logrus, zerolog and PostgreSQL (only zap puts
//! it below, and zap's `dpanic` stays ERROR2).
//!
//! | words | SeverityNumber |
//! |---|---|
//! | trace, trc, trce, trac, vrb, finest, verbose, silly; Apache's trace1-8 | TRACE 1 |
//! | debug, dbg, dbug, debu, finer; PostgreSQL's debug1-5 | DEBUG 5 |
//! | fine | DEBUG2 6 |
//! | config | DEBUG3 7 |
//! | info, inf, information, informational, note (MySQL), log and system (see below) | INFO 9 |
//! | notice | INFO2 10 |
//! | warn, warning, wrn | WARN 13 |
//! | error, err, erro, eror, severe, fail (.NET) | ERROR 17 |
//! | crit, dpanic | ERROR2 18 |
//! | alert | ERROR3 19 |
//! | fatal, fata, ftl, emerg, emergency, critical, panic, pani, pnc | FATAL 21 |
//!
//! Some words are levels only in one program's spelling, so that the same
//! word in a message is not taken: PostgreSQL's `LOG` only in capitals, and
//! MySQL's `[System]` only in brackets (see [`Word`]).
//!
//! Letters (glog/klog, logcat, capnslog, Ruby, MongoDB, Gitea, apt): T and V
//! trace, D debug, I info, N notice, W warn, E error, C critical, F fatal,
//! A (logcat's assert) fatal. Redis writes a symbol: `.` debug, `-` verbose
//! (DEBUG2 6, between debug and notice), `*` notice, `#` warning.
//!
//! Where in a text line a level counts is the header scanner's business
//! ([`crate::parse::header`]); this file knows the vocabulary and the few
//! shapes anchored at the line's start (syslog `<PRI>`, logcat's `E/Tag(`,
//! apt's `E: `, crash banners).

use crate::record::SeverityNumber;

/// Where a level word may be taken from a text line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// In any case, where the header rules allow.
    Any,
    /// Only written in capitals (`LOG:` is PostgreSQL's; `log:` is a tag).
    Upper,
    /// Only inside brackets (`[System]` is MySQL's; "system" is common prose).
    Bracketed,
}

/// A level word: its number, where it counts, and whether digits may follow
/// it (`DEBUG1`..`DEBUG5`, `trace1`..`trace8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word {
    pub number: SeverityNumber,
    pub rule: Rule,
    pub digits: bool,
}

/// The longest level word (`informational`).
const LONGEST: usize = 13;

/// A level word (any case, no digits) → what it means.
pub fn lookup(word: &[u8]) -> Option<Word> {
    if word.len() > LONGEST || word.len() < 2 {
        return None;
    }
    // Words of up to eight letters compare as one number each; the table is
    // read for every field of a header, so this is on the hot path.
    let (n, rule, digits) = if word.len() <= 8 {
        let mut packed = [0u8; 8];
        for (dst, src) in packed.iter_mut().zip(word) {
            *dst = src.to_ascii_lowercase();
        }
        match u64::from_be_bytes(packed) {
            TRACE => (1, Rule::Any, true),
            FINEST | VERBOSE | TRC | TRCE | TRAC | VRB | SILLY => (1, Rule::Any, false),
            DEBUG => (5, Rule::Any, true),
            FINER | DBUG | DBG | DEBU => (5, Rule::Any, false),
            FINE => (6, Rule::Any, false),
            CONFIG => (7, Rule::Any, false),
            INFO | INF | NOTE => (9, Rule::Any, false),
            LOG => (9, Rule::Upper, false),
            SYSTEM => (9, Rule::Bracketed, false),
            NOTICE => (10, Rule::Any, false),
            WARN | WARNING | WRN => (13, Rule::Any, false),
            ERROR | ERR | SEVERE | EROR | ERRO | FAIL => (17, Rule::Any, false),
            CRIT | DPANIC => (18, Rule::Any, false),
            ALERT => (19, Rule::Any, false),
            FATAL | FATA | EMERG | FTL | CRITICAL | PANIC | PANI | PNC => (21, Rule::Any, false),
            _ => return None,
        }
    } else {
        let mut lower = [0u8; LONGEST];
        for (dst, src) in lower.iter_mut().zip(word) {
            *dst = src.to_ascii_lowercase();
        }
        match &lower[..word.len()] {
            b"information" | b"informational" => (9, Rule::Any, false),
            b"emergency" => (21, Rule::Any, false),
            _ => return None,
        }
    };
    Some(Word {
        number: SeverityNumber(n),
        rule,
        digits,
    })
}

/// A lowercase word of up to eight letters as the number [`lookup`] compares.
const fn packed(word: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let mut i = 0;
    while i < word.len() {
        bytes[i] = word[i];
        i += 1;
    }
    u64::from_be_bytes(bytes)
}

const TRACE: u64 = packed(b"trace");
const FINEST: u64 = packed(b"finest");
const VERBOSE: u64 = packed(b"verbose");
const TRC: u64 = packed(b"trc");
const TRCE: u64 = packed(b"trce");
const TRAC: u64 = packed(b"trac");
const VRB: u64 = packed(b"vrb");
const SILLY: u64 = packed(b"silly");
const DEBUG: u64 = packed(b"debug");
const FINER: u64 = packed(b"finer");
const DBUG: u64 = packed(b"dbug");
const DBG: u64 = packed(b"dbg");
const DEBU: u64 = packed(b"debu");
const FINE: u64 = packed(b"fine");
const CONFIG: u64 = packed(b"config");
const INFO: u64 = packed(b"info");
const INF: u64 = packed(b"inf");
const NOTE: u64 = packed(b"note");
const LOG: u64 = packed(b"log");
const SYSTEM: u64 = packed(b"system");
const NOTICE: u64 = packed(b"notice");
const WARN: u64 = packed(b"warn");
const WARNING: u64 = packed(b"warning");
const WRN: u64 = packed(b"wrn");
const ERROR: u64 = packed(b"error");
const ERR: u64 = packed(b"err");
const SEVERE: u64 = packed(b"severe");
const EROR: u64 = packed(b"eror");
const ERRO: u64 = packed(b"erro");
const FAIL: u64 = packed(b"fail");
const CRIT: u64 = packed(b"crit");
const DPANIC: u64 = packed(b"dpanic");
const ALERT: u64 = packed(b"alert");
const FATAL: u64 = packed(b"fatal");
const FATA: u64 = packed(b"fata");
const EMERG: u64 = packed(b"emerg");
const FTL: u64 = packed(b"ftl");
const CRITICAL: u64 = packed(b"critical");
const PANIC: u64 = packed(b"panic");
const PANI: u64 = packed(b"pani");
const PNC: u64 = packed(b"pnc");

/// A level as a structured field writes it (any case): a word, a word with
/// its digits (`DEBUG2`, `trace3`), slog's levels between the named ones
/// (`INFO+2`, `WARN-1`), or a number in a string (`"30"`, `"6"`).
pub fn from_word(word: &[u8]) -> Option<SeverityNumber> {
    let letters = word.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 {
        let text = std::str::from_utf8(word).ok()?;
        return from_number(text.parse().ok()?);
    }
    let found = lookup(&word[..letters])?;
    let rest = &word[letters..];
    if rest.is_empty() {
        return Some(found.number);
    }
    if found.digits && rest.len() == 1 && rest[0].is_ascii_digit() && rest[0] != b'0' {
        return Some(found.number);
    }
    slog_offset(found.number, rest)
}

/// slog writes a level between the named ones as `INFO+2`, `WARN-1`: slog's
/// levels are 4 apart and map to OTel as level + 9 (DEBUG -4 → 5, INFO 0 → 9,
/// WARN 4 → 13, ERROR 8 → 17), so the offset adds to the named number.
pub fn slog_offset(base: SeverityNumber, rest: &[u8]) -> Option<SeverityNumber> {
    let (sign, digits) = match rest {
        [b'+', d @ ..] => (1i32, d),
        [b'-', d @ ..] => (-1i32, d),
        _ => return None,
    };
    if !matches!(base.0, 5 | 9 | 13 | 17) || digits.is_empty() || digits.len() > 2 {
        return None;
    }
    let n: i32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(SeverityNumber((base.0 as i32 + sign * n).clamp(1, 24) as u8))
}

/// A numeric level: syslog severities 0-7 (RFC 5424, as GELF and journald
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

/// A one-letter level (glog/klog, logcat, capnslog, Ruby, MongoDB, Gitea).
/// `A` is logcat's assert; the header scanner takes it only where logcat
/// puts it.
pub fn from_letter(c: u8) -> Option<SeverityNumber> {
    Some(SeverityNumber(match c {
        b'T' | b'V' => 1,
        b'D' => 5,
        b'I' => 9,
        b'N' => 10,
        b'W' => 13,
        b'E' => 17,
        // capnslog's CRITICAL is what its Fatal logs at; Gitea's Critical.
        b'C' => 21,
        b'F' | b'A' => 21,
        _ => return None,
    }))
}

/// MongoDB's `"s"` field: a letter, or `D1`..`D5` for its debug levels.
pub fn from_letter_field(value: &[u8]) -> Option<SeverityNumber> {
    match value {
        [c] if *c != b'A' => from_letter(*c),
        [b'D', d] if (b'1'..=b'5').contains(d) => Some(SeverityNumber::DEBUG),
        _ => None,
    }
}

/// Redis's level symbol (`serverLogRaw` writes one of `.-*#`).
pub fn from_redis_marker(c: u8) -> Option<SeverityNumber> {
    Some(SeverityNumber(match c {
        b'.' => 5,
        b'-' => 6,
        b'*' => 10,
        b'#' => 13,
        _ => return None,
    }))
}

/// PostgreSQL's secondary lines (`DETAIL:  `, `HINT:  `, ...): they belong
/// to the message before them and carry no level of their own.
pub fn is_detail_word(word: &[u8]) -> bool {
    matches!(
        word,
        b"DETAIL" | b"HINT" | b"STATEMENT" | b"CONTEXT" | b"QUERY" | b"LOCATION"
    )
}

/// A level found in a text line: its number and where it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub number: SeverityNumber,
    /// Byte range of the level as written (e.g. `WARNING`, `notice`, `E`, `*`).
    pub start: usize,
    pub end: usize,
}

/// `<N>` syslog priority (or a journald/sd-daemon `<N>` prefix) at the very
/// start: severity is N mod 8.
pub fn syslog_priority(line: &[u8]) -> Option<Found> {
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

/// Android logcat "brief": `E/Tag( 1234): msg`.
pub fn logcat_brief(line: &[u8]) -> Option<Found> {
    if line.len() < 4
        || line[1] != b'/'
        || !matches!(line[0], b'V' | b'D' | b'I' | b'W' | b'E' | b'F' | b'A')
    {
        return None;
    }
    let tag_end = memchr::memchr2(b'(', b':', &line[2..])? + 2;
    if tag_end == 2 || line[2..tag_end].contains(&b' ') {
        return None;
    }
    Some(Found {
        number: from_letter(line[0])?,
        start: 0,
        end: 1,
    })
}

/// apt and dpkg: `E: Unable to locate package`, `W: ...`, `N: ...`.
pub fn apt_letter(line: &[u8]) -> Option<Found> {
    match line {
        [c @ (b'E' | b'W' | b'N'), b':', b' ', ..] => Some(Found {
            number: from_letter(*c)?,
            start: 0,
            end: 1,
        }),
        _ => None,
    }
}

/// Lines that announce a crash: Go's `panic:` and `fatal error:`, Rust's
/// `thread '…' panicked at`, Python's `Traceback (most recent call last):`,
/// Java's `Exception in thread`.
pub fn crash_marker(line: &[u8]) -> Option<Found> {
    // Most lines start with none of these: one byte decides.
    if !matches!(
        line.first(),
        Some(b'p' | b'f' | b't' | b'E' | b'T' | b' ' | b'\t' | b'+')
    ) {
        return None;
    }
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

    #[test]
    fn words_map_per_appendix_b() {
        let cases = [
            ("TRACE", 1),
            ("finest", 1),
            ("TRC", 1),
            ("Debug", 5),
            ("FINER", 5),
            ("dbug", 5),
            ("fine", 6),
            ("CONFIG", 7),
            ("info", 9),
            ("Information", 9),
            ("INF", 9),
            ("Note", 9),
            ("notice", 10),
            ("WARNING", 13),
            ("warn", 13),
            ("WRN", 13),
            ("SEVERE", 17),
            ("err", 17),
            ("ERRO", 17),
            ("fail", 17),
            ("crit", 18),
            ("critical", 21),
            ("DPANIC", 18),
            ("alert", 19),
            ("panic", 21),
            ("PNC", 21),
            ("emerg", 21),
            ("FATAL", 21),
            ("FTL", 21),
            ("DEBUG1", 5),
            ("DEBUG5", 5),
            ("trace8", 1),
            ("30", 9),
            ("6", 9),
            ("LOG", 9),
            ("VRB", 1),
            ("INFO+2", 11),
            ("WARN-1", 12),
            ("ERROR+8", 24),
        ];
        for (word, n) in cases {
            assert_eq!(
                from_word(word.as_bytes()),
                Some(SeverityNumber(n)),
                "{word}"
            );
        }
        for not in [
            "errors",
            "informative",
            "error2",
            "DEBUG0",
            "info1",
            "",
            "35",
            "x",
            "FATAL+1",
            "INFO+",
        ] {
            assert_eq!(from_word(not.as_bytes()), None, "{not}");
        }
        assert_eq!(lookup(b"log").map(|w| w.rule), Some(Rule::Upper));
        assert_eq!(lookup(b"System").map(|w| w.rule), Some(Rule::Bracketed));
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
    fn letters_symbols_and_mongodb() {
        assert_eq!(from_letter(b'N'), Some(SeverityNumber(10)));
        assert_eq!(from_letter(b'C'), Some(SeverityNumber(21)));
        assert_eq!(from_letter(b'X'), None);
        assert_eq!(from_letter_field(b"D3"), Some(SeverityNumber::DEBUG));
        assert_eq!(from_letter_field(b"W"), Some(SeverityNumber::WARN));
        assert_eq!(from_letter_field(b"A"), None);
        assert_eq!(from_letter_field(b"D9"), None);
        assert_eq!(from_redis_marker(b'*'), Some(SeverityNumber(10)));
        assert_eq!(from_redis_marker(b'#'), Some(SeverityNumber::WARN));
        assert_eq!(from_redis_marker(b'x'), None);
    }

    #[test]
    fn shapes_at_the_start() {
        let f = syslog_priority(b"<14>Nov 25 10:00:00 host app: hi").unwrap();
        assert_eq!((f.number.0, f.start, f.end), (9, 1, 3));
        assert_eq!(syslog_priority(b"<192>x"), None);
        assert_eq!(syslog_priority(b"<a>x"), None);
        assert_eq!(
            logcat_brief(b"W/ActivityManager( 1234): slow")
                .unwrap()
                .number
                .0,
            13
        );
        assert_eq!(logcat_brief(b"a/b"), None);
        assert_eq!(
            apt_letter(b"E: Unable to locate package x")
                .unwrap()
                .number
                .0,
            17
        );
        assert_eq!(apt_letter(b"A: no"), None);
        assert_eq!(crash_marker(b"panic: boom").unwrap().number.0, 21);
        assert_eq!(
            crash_marker(b"  Traceback (most recent call last):")
                .unwrap()
                .start,
            2
        );
        assert_eq!(crash_marker(b"no crash here"), None);
    }
}
