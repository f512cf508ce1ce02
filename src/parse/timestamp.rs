//! Timestamps: the event time written at the start of a line or in a field.
//!
//! Shapes recognised at the start of a text line (optionally in `[...]`):
//!
//! | shape | example | who writes it |
//! |---|---|---|
//! | ISO 8601 / RFC 3339 | `2026-11-25T15:00:00.123Z`, `2026-11-25 15:00:00,123` | RFC 3339 loggers, log4j/logback, Python `asctime` |
//! | slashes | `2026/11/25 15:00:00.123456` | Go's `log`, nginx |
//! | syslog | `Nov 25 15:00:00` (no year) | syslog, journald export |
//! | Apache error log | `[Wed Nov 25 15:00:00.123456 2026]` | Apache httpd |
//! | Common Log Format | `[25/Nov/2026:15:00:00 +0000]` | Apache/nginx access logs |
//! | java.util.logging | `Nov 25, 2026 3:53:01 PM` | JUL's SimpleFormatter |
//! | glog/klog | `I1125 15:00:00.123456` (no year) | Kubernetes components |
//! | logcat | `11-25 15:00:00.123` (no year) | Android |
//!
//! In fields (JSON, logfmt): any of those strings, or a number of seconds,
//! milliseconds, microseconds or nanoseconds since the epoch, told apart by
//! magnitude. A time without a zone is read in the configured zone (UTC by
//! default); a time without a year takes the year that puts it nearest the
//! observed time.
//!
//! Calendar arithmetic and time zones are jiff's; this file only recognises
//! the shapes (fixed positions, a few hundred nanoseconds at most).

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

/// Where zoneless times are, and which parsed times are believable.
#[derive(Clone, Debug)]
pub struct TimeConfig {
    pub zone: TimeZone,
    /// A parsed time older than this, relative to the read time, is not used
    /// as the record's Timestamp. Default 1 h: Loki rejects an entry that is
    /// more than half of `max_chunk_age` (2 h) behind the newest of its stream.
    pub max_past_nanos: u64,
    /// A parsed time further ahead than this is not used. Default 10 min,
    /// Loki's `creation_grace_period`.
    pub max_future_nanos: u64,
}

impl Default for TimeConfig {
    fn default() -> Self {
        TimeConfig {
            zone: TimeZone::UTC,
            max_past_nanos: 3_600 * 1_000_000_000,
            max_future_nanos: 600 * 1_000_000_000,
        }
    }
}

impl TimeConfig {
    /// True when `t` may stand as the Timestamp of a record read at `observed`.
    pub fn believable(&self, t: i128, observed: u64) -> bool {
        let observed = observed as i128;
        t > 0
            && t >= observed - self.max_past_nanos as i128
            && t <= observed + self.max_future_nanos as i128
    }
}

/// A time found in text: ns since the epoch and the byte range it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub unix_nanos: i128,
    pub start: usize,
    pub end: usize,
    /// True for the syslog shape, which a host name and tag follow.
    pub syslog: bool,
}

struct Civil {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    nanos: u32,
    offset_seconds: Option<i32>,
    /// The shape had no year; infer it from the observed time.
    yearless: bool,
}

impl Civil {
    fn to_unix_nanos(&self, config: &TimeConfig, observed: u64) -> Option<i128> {
        let convert = |year: i32| -> Option<i128> {
            let dt = DateTime::new(
                i16::try_from(year).ok()?,
                self.month as i8,
                self.day as i8,
                self.hour as i8,
                self.minute as i8,
                self.second as i8,
                self.nanos as i32,
            )
            .ok()?;
            let ts = match self.offset_seconds {
                Some(secs) => TimeZone::fixed(Offset::from_seconds(secs).ok()?)
                    .to_timestamp(dt)
                    .ok()?,
                None => config.zone.to_timestamp(dt).ok()?,
            };
            Some(ts.as_nanosecond())
        };
        if !self.yearless {
            return convert(self.year);
        }
        // The year nearest the observed time: a "Dec 31" line read on Jan 1
        // belongs to last year.
        let observed_year = config
            .zone
            .to_datetime(jiff::Timestamp::from_nanosecond(observed as i128).ok()?)
            .year() as i32;
        [observed_year, observed_year - 1, observed_year + 1]
            .into_iter()
            .filter_map(convert)
            .min_by_key(|t| (t - observed as i128).abs())
    }
}

/// The time at the start of a text line, if there is one.
pub fn at_line_start(line: &[u8], config: &TimeConfig, observed: u64) -> Option<Found> {
    let (bracketed, body) = match line.first() {
        Some(b'[') => (true, &line[1..]),
        _ => (false, line),
    };
    let (civil, len, syslog) = parse_shape(body)?;
    let mut end = len + bracketed as usize;
    if bracketed {
        if line.get(end) != Some(&b']') {
            return None;
        }
        end += 1;
    }
    // A time must be followed by a separator, not run into a word.
    if let Some(&next) = line.get(end)
        && !matches!(next, b' ' | b'\t' | b'|' | b']' | b',' | b';' | b':' | b'-')
    {
        return None;
    }
    Some(Found {
        unix_nanos: civil.to_unix_nanos(config, observed)?,
        start: 0,
        end,
        syslog,
    })
}

/// True for the first line of a java.util.logging record:
/// `Nov 25, 2026 3:53:01 PM Class method`.
pub fn is_jul_header(line: &[u8]) -> bool {
    jul(line).is_some_and(|(_, len)| line.get(len) == Some(&b' '))
}

/// A whole string from a field: any shape above, or epoch digits.
pub fn from_field_str(s: &str, config: &TimeConfig, observed: u64) -> Option<i128> {
    let s = s.trim();
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !s.is_empty() {
        return from_epoch_str(s);
    }
    let bytes = s.as_bytes();
    let (civil, len, _) = parse_shape(bytes)?;
    if len != bytes.len() {
        return None;
    }
    civil.to_unix_nanos(config, observed)
}

/// A number from a field: seconds, ms, µs or ns since the epoch by magnitude
/// (seconds up to the year 5138, then ms, µs, ns).
pub fn from_epoch_f64(v: f64) -> Option<i128> {
    if !v.is_finite() || v <= 0.0 {
        return None;
    }
    let scale = if v < 1e11 {
        1e9
    } else if v < 1e14 {
        1e6
    } else if v < 1e17 {
        1e3
    } else {
        1.0
    };
    // Whole and fractional parts apart: an f64 of seconds since 1970 holds
    // the fraction exactly, the product with 1e9 would not.
    let whole = v.trunc();
    Some(whole as i128 * scale as i128 + ((v - whole) * scale).round() as i128)
}

pub fn from_epoch_i64(v: i64) -> Option<i128> {
    if v <= 0 {
        return None;
    }
    let v = v as i128;
    Some(if v < 100_000_000_000 {
        v * 1_000_000_000
    } else if v < 100_000_000_000_000 {
        v * 1_000_000
    } else if v < 100_000_000_000_000_000 {
        v * 1_000
    } else {
        v
    })
}

fn from_epoch_str(s: &str) -> Option<i128> {
    match s.split_once('.') {
        None => from_epoch_i64(s.parse().ok()?),
        // Seconds with a fraction: keep full precision instead of going through f64.
        Some((secs, frac)) if secs.len() <= 11 && !frac.is_empty() && frac.len() <= 9 => {
            let secs: i128 = secs.parse().ok()?;
            let frac_nanos: i128 = frac.parse::<i128>().ok()? * 10i128.pow(9 - frac.len() as u32);
            (secs > 0).then_some(secs * 1_000_000_000 + frac_nanos)
        }
        Some(_) => from_epoch_f64(s.parse().ok()?),
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let slice = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in slice {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// 1 or 2 digits (a day or hour that may not be zero-padded); returns (value, len).
fn digits_1_2(b: &[u8], at: usize) -> Option<(u32, usize)> {
    let first = digits(b, at, 1)?;
    match digits(b, at + 1, 1) {
        Some(second) => Some((first * 10 + second, 2)),
        None => Some((first, 1)),
    }
}

fn month_name(b: &[u8], at: usize) -> Option<u8> {
    let m = b.get(at..at + 3)?;
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    MONTHS
        .iter()
        .position(|name| name.eq_ignore_ascii_case(m))
        .map(|i| i as u8 + 1)
}

fn is_weekday(b: &[u8], at: usize) -> bool {
    const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    b.get(at..at + 3)
        .is_some_and(|d| DAYS.iter().any(|name| name.eq_ignore_ascii_case(d)))
}

/// `HH:MM:SS[(.|,)fraction]` at `at`; returns (h, m, s, nanos, len).
fn clock(b: &[u8], at: usize, hour_may_be_short: bool) -> Option<(u8, u8, u8, u32, usize)> {
    let (hour, hlen) = if hour_may_be_short {
        digits_1_2(b, at)?
    } else {
        (digits(b, at, 2)?, 2)
    };
    let mut i = at + hlen;
    if b.get(i) != Some(&b':') {
        return None;
    }
    let minute = digits(b, i + 1, 2)?;
    if b.get(i + 3) != Some(&b':') {
        return None;
    }
    let second = digits(b, i + 4, 2)?;
    i += 6;
    let mut nanos = 0u32;
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        let mut scale = 100_000_000u32;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            nanos += (c - b'0') as u32 * scale;
            scale /= 10;
            i += 1;
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // A leap second is read as the last second of the minute.
    Some((
        hour as u8,
        minute as u8,
        second.min(59) as u8,
        nanos,
        i - at,
    ))
}

/// `Z`, `z`, `±HH:MM`, `±HHMM`, `±HH`, ` UTC`, ` GMT` at `at`; returns (seconds, len).
fn zone(b: &[u8], at: usize) -> Option<(i32, usize)> {
    match b.get(at)? {
        b'Z' | b'z' => Some((0, 1)),
        sign @ (b'+' | b'-') => {
            let sign = if *sign == b'-' { -1 } else { 1 };
            let hours = digits(b, at + 1, 2)? as i32;
            let (minutes, len) = if b.get(at + 3) == Some(&b':') {
                (digits(b, at + 4, 2)? as i32, 6)
            } else if let Some(m) = digits(b, at + 3, 2) {
                (m as i32, 5)
            } else {
                (0, 3)
            };
            (hours <= 23 && minutes <= 59).then_some((sign * (hours * 3600 + minutes * 60), len))
        }
        b' ' if b
            .get(at + 1..at + 4)
            .is_some_and(|z| z == b"UTC" || z == b"GMT") =>
        {
            Some((0, 4))
        }
        _ => None,
    }
}

fn parse_shape(b: &[u8]) -> Option<(Civil, usize, bool)> {
    let first = *b.first()?;
    if first.is_ascii_digit() {
        if let Some(c) = iso_or_slashes(b) {
            return Some((c.0, c.1, false));
        }
        if let Some(c) = logcat(b) {
            return Some((c.0, c.1, false));
        }
        return common_log_format(b).map(|(c, len)| (c, len, false));
    }
    if matches!(first, b'I' | b'W' | b'E' | b'F')
        && let Some(c) = glog(b)
    {
        return Some((c.0, c.1, false));
    }
    if is_weekday(b, 0) {
        return apache_error(b).map(|(c, len)| (c, len, false));
    }
    if month_name(b, 0).is_some() {
        if let Some(c) = jul(b) {
            return Some((c.0, c.1, false));
        }
        return syslog(b).map(|(c, len)| (c, len, true));
    }
    None
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.f][zone]` or `YYYY/MM/DD HH:MM:SS[.f]`.
fn iso_or_slashes(b: &[u8]) -> Option<(Civil, usize)> {
    let year = digits(b, 0, 4)?;
    let sep = *b.get(4)?;
    if !matches!(sep, b'-' | b'/') || b.get(7) != Some(&sep) {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (hour, minute, second, nanos, clock_len) = clock(b, 11, false)?;
    let mut len = 11 + clock_len;
    let mut offset_seconds = None;
    if let Some((secs, zlen)) = zone(b, len) {
        offset_seconds = Some(secs);
        len += zlen;
    }
    Some((
        Civil {
            year: year as i32,
            month: month as u8,
            day: day as u8,
            hour,
            minute,
            second,
            nanos,
            offset_seconds,
            yearless: false,
        },
        len,
    ))
}

/// `MM-DD HH:MM:SS.mmm` (logcat).
fn logcat(b: &[u8]) -> Option<(Civil, usize)> {
    let month = digits(b, 0, 2)?;
    if b.get(2) != Some(&b'-') || b.get(5) != Some(&b' ') {
        return None;
    }
    let day = digits(b, 3, 2)?;
    let (hour, minute, second, nanos, clock_len) = clock(b, 6, false)?;
    Some((
        Civil {
            year: 0,
            month: month as u8,
            day: day as u8,
            hour,
            minute,
            second,
            nanos,
            offset_seconds: None,
            yearless: true,
        },
        6 + clock_len,
    ))
}

/// `DD/Mon/YYYY:HH:MM:SS ±ZZZZ` (Common Log Format, inside brackets).
fn common_log_format(b: &[u8]) -> Option<(Civil, usize)> {
    let day = digits(b, 0, 2)?;
    if b.get(2) != Some(&b'/') || b.get(6) != Some(&b'/') || b.get(11) != Some(&b':') {
        return None;
    }
    let month = month_name(b, 3)?;
    let year = digits(b, 7, 4)?;
    let (hour, minute, second, nanos, clock_len) = clock(b, 12, false)?;
    let mut len = 12 + clock_len;
    let mut offset_seconds = None;
    if b.get(len) == Some(&b' ')
        && let Some((secs, zlen)) = zone(b, len + 1)
    {
        offset_seconds = Some(secs);
        len += 1 + zlen;
    }
    Some((
        Civil {
            year: year as i32,
            month,
            day: day as u8,
            hour,
            minute,
            second,
            nanos,
            offset_seconds,
            yearless: false,
        },
        len,
    ))
}

/// `LMMDD HH:MM:SS.ffffff` (glog/klog; L is the level letter).
fn glog(b: &[u8]) -> Option<(Civil, usize)> {
    let month = digits(b, 1, 2)?;
    let day = digits(b, 3, 2)?;
    if b.get(5) != Some(&b' ') {
        return None;
    }
    let (hour, minute, second, nanos, clock_len) = clock(b, 6, false)?;
    Some((
        Civil {
            year: 0,
            month: month as u8,
            day: day as u8,
            hour,
            minute,
            second,
            nanos,
            offset_seconds: None,
            yearless: true,
        },
        6 + clock_len,
    ))
}

/// `Www Mon DD HH:MM:SS[.f] YYYY` (Apache error log, ctime).
fn apache_error(b: &[u8]) -> Option<(Civil, usize)> {
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let month = month_name(b, 4)?;
    if b.get(7) != Some(&b' ') {
        return None;
    }
    let day_at = if b.get(8) == Some(&b' ') { 9 } else { 8 };
    let (day, day_len) = digits_1_2(b, day_at)?;
    let clock_at = day_at + day_len + 1;
    let (hour, minute, second, nanos, clock_len) = clock(b, clock_at, false)?;
    let year_at = clock_at + clock_len + 1;
    let year = digits(b, year_at, 4)?;
    Some((
        Civil {
            year: year as i32,
            month,
            day: day as u8,
            hour,
            minute,
            second,
            nanos,
            offset_seconds: None,
            yearless: false,
        },
        year_at + 4,
    ))
}

/// `Mon DD, YYYY H:MM:SS AM` (java.util.logging SimpleFormatter).
fn jul(b: &[u8]) -> Option<(Civil, usize)> {
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let month = month_name(b, 0)?;
    let (day, day_len) = digits_1_2(b, 4)?;
    let mut i = 4 + day_len;
    if b.get(i..i + 2) != Some(b", ") {
        return None;
    }
    let year = digits(b, i + 2, 4)?;
    i += 7;
    let (hour, minute, second, nanos, clock_len) = clock(b, i, true)?;
    i += clock_len;
    let pm = match b.get(i..i + 3) {
        Some(b" AM") | Some(b" am") => false,
        Some(b" PM") | Some(b" pm") => true,
        _ => return None,
    };
    if hour == 0 || hour > 12 {
        return None;
    }
    let hour = (hour % 12) + if pm { 12 } else { 0 };
    Some((
        Civil {
            year: year as i32,
            month,
            day: day as u8,
            hour,
            minute,
            second,
            nanos,
            offset_seconds: None,
            yearless: false,
        },
        i + 3,
    ))
}

/// `Mon DD HH:MM:SS` or `Mon  D HH:MM:SS` (BSD syslog, no year).
fn syslog(b: &[u8]) -> Option<(Civil, usize)> {
    let month = month_name(b, 0)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let day_at = if b.get(4) == Some(&b' ') { 5 } else { 4 };
    let (day, day_len) = digits_1_2(b, day_at)?;
    let clock_at = day_at + day_len;
    if b.get(clock_at) != Some(&b' ') {
        return None;
    }
    let (hour, minute, second, nanos, clock_len) = clock(b, clock_at + 1, false)?;
    Some((
        Civil {
            year: 0,
            month,
            day: day as u8,
            hour,
            minute,
            second,
            nanos,
            offset_seconds: None,
            yearless: true,
        },
        clock_at + 1 + clock_len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-25T15:00:00Z
    const OBSERVED: u64 = 1_795_618_800_000_000_000;

    fn nanos(rfc3339: &str) -> i128 {
        rfc3339.parse::<jiff::Timestamp>().unwrap().as_nanosecond()
    }

    fn start(line: &str) -> Option<(i128, &str)> {
        at_line_start(line.as_bytes(), &TimeConfig::default(), OBSERVED)
            .map(|f| (f.unix_nanos, &line[f.start..f.end]))
    }

    #[test]
    fn observed_constant_is_what_it_claims() {
        assert_eq!(nanos("2026-11-25T15:00:00Z"), OBSERVED as i128);
    }

    #[test]
    fn shapes_at_line_start() {
        let cases = [
            (
                "2026-11-25T15:00:00.123456789Z msg",
                "2026-11-25T15:00:00.123456789Z",
                "2026-11-25T15:00:00.123456789Z",
            ),
            (
                "2026-11-25T16:00:00+01:00 msg",
                "2026-11-25T16:00:00+01:00",
                "2026-11-25T15:00:00Z",
            ),
            (
                "2026-11-25T16:00:00+0100 msg",
                "2026-11-25T16:00:00+0100",
                "2026-11-25T15:00:00Z",
            ),
            (
                "2026-11-25 15:00:00,123 INFO x",
                "2026-11-25 15:00:00,123",
                "2026-11-25T15:00:00.123Z",
            ),
            (
                "2026/11/25 15:00:00 log line",
                "2026/11/25 15:00:00",
                "2026-11-25T15:00:00Z",
            ),
            (
                "2026/11/25 15:00:00.000123 [error] 1#0",
                "2026/11/25 15:00:00.000123",
                "2026-11-25T15:00:00.000123Z",
            ),
            (
                "Nov 25 14:59:58 host app[1]: x",
                "Nov 25 14:59:58",
                "2026-11-25T14:59:58Z",
            ),
            (
                "Nov  5 14:59:58 host app[1]: x",
                "Nov  5 14:59:58",
                "2026-11-05T14:59:58Z",
            ),
            (
                "[Wed Nov 25 15:00:00.123456 2026] [error] x",
                "[Wed Nov 25 15:00:00.123456 2026]",
                "2026-11-25T15:00:00.123456Z",
            ),
            (
                "[Sun Dec 04 04:47:44 2005] [notice] x",
                "[Sun Dec 04 04:47:44 2005]",
                "2005-12-04T04:47:44Z",
            ),
            (
                "[25/Nov/2026:16:00:00 +0100] GET /",
                "[25/Nov/2026:16:00:00 +0100]",
                "2026-11-25T15:00:00Z",
            ),
            (
                "Nov 25, 2026 3:53:01 PM JulLogging main",
                "Nov 25, 2026 3:53:01 PM",
                "2026-11-25T15:53:01Z",
            ),
            (
                "Nov 25, 2026 12:05:00 AM X y",
                "Nov 25, 2026 12:05:00 AM",
                "2026-11-25T00:05:00Z",
            ),
            (
                "E1125 14:00:00.500000   123 main.go:1] x",
                "E1125 14:00:00.500000",
                "2026-11-25T14:00:00.5Z",
            ),
            (
                "11-25 15:00:00.123  1234  5678 E Tag: x",
                "11-25 15:00:00.123",
                "2026-11-25T15:00:00.123Z",
            ),
            (
                "2015-07-29 17:41:44,747 - INFO",
                "2015-07-29 17:41:44,747",
                "2015-07-29T17:41:44.747Z",
            ),
        ];
        for (line, text, expected) in cases {
            assert_eq!(start(line), Some((nanos(expected), text)), "{line}");
        }
    }

    #[test]
    fn not_times() {
        for line in [
            "2026 was a year",
            "12:00 is noon",
            "Nov is a month",
            "2026-11-25T25:00:00Z bad hour",
            "2026-02-30 10:00:00 no such day",
            "2026-11-25T15:00:00Zulu",
            "Error: x",
            "",
        ] {
            assert_eq!(start(line), None, "{line}");
        }
    }

    #[test]
    fn yearless_times_take_the_nearest_year() {
        // Read on 2026-01-01T00:00:30Z, a "Dec 31 23:59:50" line is from 2025.
        let observed = nanos("2026-01-01T00:00:30Z") as u64;
        let found =
            at_line_start(b"Dec 31 23:59:50 h x: y", &TimeConfig::default(), observed).unwrap();
        assert_eq!(found.unix_nanos, nanos("2025-12-31T23:59:50Z"));
        assert!(found.syslog);
    }

    #[test]
    fn zoneless_times_use_the_configured_zone() {
        let config = TimeConfig {
            zone: TimeZone::get("Europe/Berlin").unwrap(),
            ..TimeConfig::default()
        };
        let found = at_line_start(b"2026-11-25 16:00:00 x", &config, OBSERVED).unwrap();
        assert_eq!(found.unix_nanos, nanos("2026-11-25T15:00:00Z"));
        // An explicit zone wins over the configured one.
        let found = at_line_start(b"2026-11-25T16:00:00Z x", &config, OBSERVED).unwrap();
        assert_eq!(found.unix_nanos, nanos("2026-11-25T16:00:00Z"));
    }

    #[test]
    fn field_values_and_epochs() {
        let c = TimeConfig::default();
        assert_eq!(
            from_field_str("2026-11-25T15:00:00Z", &c, OBSERVED),
            Some(OBSERVED as i128)
        );
        assert_eq!(
            from_field_str("1795618800", &c, OBSERVED),
            Some(OBSERVED as i128)
        );
        assert_eq!(
            from_field_str("1795618800.5", &c, OBSERVED),
            Some(OBSERVED as i128 + 500_000_000)
        );
        assert_eq!(from_field_str("not a time", &c, OBSERVED), None);
        assert_eq!(
            from_field_str("2026-11-25T15:00:00Z trailing", &c, OBSERVED),
            None
        );
        assert_eq!(from_epoch_i64(1_795_618_800), Some(OBSERVED as i128));
        assert_eq!(from_epoch_i64(1_795_618_800_000), Some(OBSERVED as i128));
        assert_eq!(
            from_epoch_i64(1_795_618_800_000_000),
            Some(OBSERVED as i128)
        );
        assert_eq!(
            from_epoch_i64(1_795_618_800_000_000_000),
            Some(OBSERVED as i128)
        );
        assert_eq!(
            from_epoch_f64(1_795_618_800.25),
            Some(OBSERVED as i128 + 250_000_000)
        );
        assert_eq!(from_epoch_i64(0), None);
    }

    #[test]
    fn the_window_keeps_loki_from_rejecting() {
        let c = TimeConfig::default();
        let o = OBSERVED;
        assert!(c.believable(o as i128, o));
        assert!(c.believable(o as i128 - 3_000_000_000_000, o));
        assert!(!c.believable(o as i128 - 4_000_000_000_000, o));
        assert!(!c.believable(o as i128 + 700_000_000_000, o));
    }
}
