//! Timestamps: the event time written in a line's header or in a field.
//!
//! Shapes recognised where a header token starts ([`at`]), each from the
//! program's own format string:
//!
//! | shape | example | who writes it |
//! |---|---|---|
//! | ISO 8601 / RFC 3339 | `2026-11-28T09:14:02.123Z`, `2026-11-28 09:14:02,123 +0000` | RFC 3339 loggers, log4j/logback, Python `asctime`, gunicorn |
//! | slashes, dots | `2026/11/28 09:14:02.123456`, `2026.11.28 09:14:02.123456` | Go's `log`, nginx, Caddy, NATS; ClickHouse, SonarQube |
//! | space-padded hour | `2026-11-28  9:14:02` | MariaDB |
//! | DB2 | `2026-11-28-09.14.02.675872` | IBM DB2, BlueGene/L RAS |
//! | day-month-year | `28-Nov-2026 09:14:02.123`, `28-Nov-2026::09:14:02` | PHP-FPM, Tomcat, BIND; Erlang's error_logger |
//! | Redis | `28 Nov 2026 09:14:02.123`, `28 Nov 09:14:02.123` (Redis 2) | Redis |
//! | Common Log Format | `28/Nov/2026:09:14:02 +0000` | Apache/nginx access logs |
//! | ctime | `Sat Nov 28 09:14:02.123456 2026`, `Sat Nov 28 09:14:02 UTC 2026` | Apache httpd, date(1) |
//! | RFC 1123 | `Sat, 28 Nov 2026 09:14:02 GMT` | HTTP dates |
//! | syslog | `Nov 28 09:14:02` (no year) | BSD syslog, journald short, Tor |
//! | java.util.logging | `Nov 28, 2026 9:14:02 AM` | JUL's SimpleFormatter |
//! | glog/klog, CockroachDB | `I1128 09:14:02.123456`, `I261128 09:14:02.123456` | Kubernetes, CockroachDB ([`glog_at_start`]) |
//! | logcat | `11-28 09:14:02.123` (no year) | Android |
//! | compact | `20261128-09:14:02:606` | HealthApp |
//! | inferred | `26/11/28 09:14:02` (Spark), `261128 091402` (HDFS), `1795857242`, `1795857242123` (epoch s/ms), `09:14:02.123` (time of day, first field only) | log4j `yy/MM/dd`, Mosquitto, pino-pretty, logback's default |
//!
//! **Zones.** `Z`, `±HH:MM`, `±HHMM` (also after a space), `UTC`/`GMT`, and
//! the abbreviations that name one offset (`CET`, `PST`, `JST`, ...) are
//! used as written. A time without a zone is read in the configured zone
//! (UTC by default). An abbreviation that names several zones (`CST`,
//! `IST`, `BST`, `AST`) is used only when it is the configured zone's own
//! at that moment; otherwise the time cannot be placed and stays unset,
//! rather than being guessed wrong.
//!
//! **Inferred shapes** (two-digit years, bare epoch numbers, a time of day
//! without a date) could be read more than one way, so they are used only
//! when the reading lands inside the believable window around the read time
//! (`--timestamp-max-age`/`--timestamp-max-ahead`); otherwise the span is
//! known to be a time but stays unset. A time without a year (syslog, glog,
//! logcat) takes the year that puts it nearest the read time; a time of day
//! takes the nearest day.
//!
//! In fields (JSON, logfmt): any of those strings, or a number of seconds,
//! milliseconds, microseconds or nanoseconds since the epoch, told apart by
//! magnitude.
//!
//! Calendar arithmetic and time zones are jiff's. `shapes.rs` recognises the
//! shapes (fixed positions, no allocation); this file places what they read
//! (zones, missing years and days, the believable window).

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

mod shapes;

use shapes::{clock, digits, jul, shape_at};

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

/// What kind of time a span is; decides what the header scanner expects
/// after it and whether an unbelievable time is still kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A date and a time written out.
    Full,
    /// BSD syslog's `Nov 28 09:14:02`: a host name follows.
    Syslog,
    /// Redis's `28 Nov 2026 09:14:02.123`: a level symbol follows.
    Redis,
    /// Read only when believable (see the module docs).
    Inferred,
}

/// A time found in text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// ns since the epoch; `None` when the span is a time that cannot be
    /// placed (an ambiguous zone abbreviation, an inferred reading outside
    /// the believable window).
    pub unix_nanos: Option<i64>,
    /// Byte range of the time as written.
    pub start: usize,
    pub end: usize,
    pub shape: Shape,
}

/// How much of the date a shape gives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DateKind {
    Full,
    /// No year: the one nearest the read time.
    Yearless,
    /// No date: the day nearest the read time.
    TimeOnly,
}

#[derive(Clone, Copy)]
enum Zone {
    Configured,
    Fixed(i32),
    /// An abbreviation naming several zones: only the configured zone's own.
    Ambiguous(&'static str),
}

#[derive(Clone, Copy)]
struct Civil {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    nanos: u32,
    zone: Zone,
    date: DateKind,
}

/// What a shape read: a civil time, or an instant (epoch numbers).
#[derive(Clone, Copy)]
enum Reading {
    Civil(Civil),
    Instant(i64),
}

/// The outcome of placing a reading on the time line.
enum Placed {
    /// Not a real time (February 30th): the span is not a time at all.
    Invalid,
    /// A time, but where it lies cannot be known.
    Unplaced,
    At(i64),
}

impl Civil {
    #[inline]
    fn place(&self, config: &TimeConfig, observed: u64) -> Placed {
        match self.date {
            DateKind::Full => self.place_on(self.year, self.month, self.day, config),
            DateKind::Yearless => {
                // The year nearest the read time: a "Dec 31" line read on
                // Jan 1 belongs to last year. The read time's own year is
                // it unless that lands more than half a year away.
                let Some(year) = observed_datetime(config, observed).map(|d| d.year() as i32)
                else {
                    return Placed::Invalid;
                };
                const HALF_YEAR: i128 = 183 * 86_400 * 1_000_000_000;
                let place = |y: i32| self.place_on(y, self.month, self.day, config);
                match place(year) {
                    Placed::At(t) if t as i128 - observed as i128 > HALF_YEAR => {
                        nearest([Placed::At(t), place(year - 1)], observed)
                    }
                    Placed::At(t) if observed as i128 - t as i128 > HALF_YEAR => {
                        nearest([Placed::At(t), place(year + 1)], observed)
                    }
                    // February 29th outside a leap year: the neighbours.
                    Placed::Invalid => nearest([place(year - 1), place(year + 1)], observed),
                    placed => placed,
                }
            }
            DateKind::TimeOnly => {
                // The day nearest the read time: today's unless that lands
                // more than half a day away.
                let Some(today) = observed_datetime(config, observed).map(|d| d.date()) else {
                    return Placed::Invalid;
                };
                const HALF_DAY: i128 = 12 * 3_600 * 1_000_000_000;
                let place = |d: Option<jiff::civil::Date>| match d {
                    Some(d) => {
                        self.place_on(d.year() as i32, d.month() as u8, d.day() as u8, config)
                    }
                    None => Placed::Invalid,
                };
                match place(Some(today)) {
                    Placed::At(t) if t as i128 - observed as i128 > HALF_DAY => {
                        nearest([Placed::At(t), place(today.yesterday().ok())], observed)
                    }
                    Placed::At(t) if observed as i128 - t as i128 > HALF_DAY => {
                        nearest([Placed::At(t), place(today.tomorrow().ok())], observed)
                    }
                    placed => placed,
                }
            }
        }
    }

    #[inline]
    fn place_on(&self, year: i32, month: u8, day: u8, config: &TimeConfig) -> Placed {
        let Some(dt) = i16::try_from(year).ok().and_then(|y| {
            DateTime::new(
                y,
                month as i8,
                day as i8,
                self.hour as i8,
                self.minute as i8,
                self.second as i8,
                self.nanos as i32,
            )
            .ok()
        }) else {
            return Placed::Invalid;
        };
        let ts = match self.zone {
            Zone::Configured => config.zone.to_timestamp(dt).ok(),
            Zone::Fixed(secs) => Offset::from_seconds(secs)
                .ok()
                .and_then(|o| o.to_timestamp(dt).ok()),
            Zone::Ambiguous(name) => match config.zone.to_timestamp(dt) {
                Ok(ts) if config.zone.to_offset_info(ts).abbreviation() == name => Some(ts),
                Ok(_) => return Placed::Unplaced,
                Err(_) => None,
            },
        };
        match ts {
            // Nanoseconds fit an i64 from 1677 to 2262.
            Some(ts) => match i64::try_from(ts.as_nanosecond()) {
                Ok(t) => Placed::At(t),
                Err(_) => Placed::Invalid,
            },
            None => Placed::Invalid,
        }
    }
}

fn observed_datetime(config: &TimeConfig, observed: u64) -> Option<DateTime> {
    let ts = jiff::Timestamp::from_nanosecond(observed as i128).ok()?;
    Some(config.zone.to_datetime(ts))
}

/// The candidate nearest the read time.
fn nearest<const N: usize>(candidates: [Placed; N], observed: u64) -> Placed {
    let mut best: Option<i64> = None;
    let mut unplaced = false;
    for c in candidates {
        match c {
            Placed::At(t) => {
                let d = (t as i128 - observed as i128).abs();
                if best.is_none_or(|b| d < (b as i128 - observed as i128).abs()) {
                    best = Some(t);
                }
            }
            Placed::Unplaced => unplaced = true,
            Placed::Invalid => {}
        }
    }
    match best {
        Some(t) => Placed::At(t),
        None if unplaced => Placed::Unplaced,
        None => Placed::Invalid,
    }
}

/// The time starting at `line[pos]`, if a shape starts there. `first` is
/// true for the first field of the line (or of its first bracket), the only
/// place a time of day alone is read.
pub fn at(
    line: &[u8],
    pos: usize,
    first: bool,
    config: &TimeConfig,
    observed: u64,
) -> Option<Found> {
    let (reading, len, shape) = shape_at(line.get(pos..)?, first)?;
    let end = pos + len;
    // A time must be followed by a separator, not run into a word.
    if let Some(&next) = line.get(end)
        && !matches!(
            next,
            b' ' | b'\t' | b'|' | b']' | b',' | b';' | b':' | b'-' | b')' | b'>'
        )
    {
        return None;
    }
    let unix_nanos = place(reading, shape, config, observed)?;
    Some(Found {
        unix_nanos,
        start: pos,
        end,
        shape,
    })
}

/// `None`: not a time. `Some(None)`: a time that cannot be placed.
#[inline]
fn place(
    reading: Reading,
    shape: Shape,
    config: &TimeConfig,
    observed: u64,
) -> Option<Option<i64>> {
    let placed = match reading {
        Reading::Civil(c) => c.place(config, observed),
        Reading::Instant(t) => Placed::At(t),
    };
    match placed {
        Placed::Invalid => None,
        Placed::Unplaced => Some(None),
        Placed::At(t) if shape == Shape::Inferred && !config.believable(t as i128, observed) => {
            Some(None)
        }
        Placed::At(t) => Some(Some(t)),
    }
}

/// glog/klog's `I1128 09:14:02.123456` and CockroachDB's
/// `I261128 09:14:02.123456`: the level letter, then the date and time.
pub fn glog_at_start(line: &[u8], config: &TimeConfig, observed: u64) -> Option<Found> {
    if !matches!(line.first(), Some(b'I' | b'W' | b'E' | b'F')) {
        return None;
    }
    let date_len = line[1..].iter().take_while(|b| b.is_ascii_digit()).count();
    let (year, month, day, date) = match date_len {
        4 => (
            0,
            digits(line, 1, 2)?,
            digits(line, 3, 2)?,
            DateKind::Yearless,
        ),
        6 => (
            2000 + digits(line, 1, 2)? as i32,
            digits(line, 3, 2)?,
            digits(line, 5, 2)?,
            DateKind::Full,
        ),
        _ => return None,
    };
    let clock_at = 1 + date_len + 1;
    if line.get(clock_at - 1) != Some(&b' ') {
        return None;
    }
    let (hour, minute, second, nanos, clock_len) = clock(line, clock_at, false)?;
    let end = clock_at + clock_len;
    if !matches!(line.get(end), None | Some(b' ' | b'\t' | b'+' | b'-')) {
        return None;
    }
    let civil = Civil {
        year,
        month: month as u8,
        day: day as u8,
        hour,
        minute,
        second,
        nanos,
        zone: Zone::Configured,
        date,
    };
    let unix_nanos = place(Reading::Civil(civil), Shape::Full, config, observed)?;
    Some(Found {
        unix_nanos,
        start: 1,
        end,
        shape: Shape::Full,
    })
}

/// The time at the start of a text line (optionally in `[...]`), if any.
pub fn at_line_start(line: &[u8], config: &TimeConfig, observed: u64) -> Option<Found> {
    if line.first() == Some(&b'[') {
        let close = memchr::memchr(b']', line)?;
        let found = at(&line[..close], 1, true, config, observed)?;
        return (found.end == close).then_some(Found {
            start: 0,
            end: close + 1,
            ..found
        });
    }
    at(line, 0, true, config, observed)
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
    let (reading, len, shape) = shape_at(bytes, true)?;
    if len != bytes.len() {
        return None;
    }
    place(reading, shape, config, observed)?.map(i128::from)
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

pub fn from_epoch_str(s: &str) -> Option<i128> {
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
            .and_then(|f| Some((f.unix_nanos? as i128, &line[f.start..f.end])))
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
                "2026-11-25 10:00:00 -0500 [1] [INFO] x",
                "2026-11-25 10:00:00 -0500",
                "2026-11-25T15:00:00Z",
            ),
            (
                "2026-11-25 16:00:00.5 CET [1] LOG:  x",
                "2026-11-25 16:00:00.5 CET",
                "2026-11-25T15:00:00.5Z",
            ),
            (
                "2026-11-25 15:00:00.5 UTC [1] LOG:  x",
                "2026-11-25 15:00:00.5 UTC",
                "2026-11-25T15:00:00.5Z",
            ),
            (
                "2026-11-25  9:00:00 0 [Note] x",
                "2026-11-25  9:00:00",
                "2026-11-25T09:00:00Z",
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
                "2026.11.25 15:00:00.000123 [ 1 ] {} <Information> x",
                "2026.11.25 15:00:00.000123",
                "2026-11-25T15:00:00.000123Z",
            ),
            (
                "2026-11-25-15.00.00.675872 R02 RAS",
                "2026-11-25-15.00.00.675872",
                "2026-11-25T15:00:00.675872Z",
            ),
            (
                "25-Nov-2026 15:00:00.123 INFO [main] x",
                "25-Nov-2026 15:00:00.123",
                "2026-11-25T15:00:00.123Z",
            ),
            (
                "25-Nov-2026::15:00:00 ===",
                "25-Nov-2026::15:00:00",
                "2026-11-25T15:00:00Z",
            ),
            (
                "25 Nov 2026 15:00:00.123 * Ready",
                "25 Nov 2026 15:00:00.123",
                "2026-11-25T15:00:00.123Z",
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
                "Wed Nov 25 16:00:00 CET 2026 x",
                "Wed Nov 25 16:00:00 CET 2026",
                "2026-11-25T15:00:00Z",
            ),
            (
                "Wed, 25 Nov 2026 15:00:00 GMT x",
                "Wed, 25 Nov 2026 15:00:00 GMT",
                "2026-11-25T15:00:00Z",
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
                "11-25 15:00:00.123  1234  5678 E Tag: x",
                "11-25 15:00:00.123",
                "2026-11-25T15:00:00.123Z",
            ),
            (
                "2015-07-29 17:41:44,747 - INFO",
                "2015-07-29 17:41:44,747",
                "2015-07-29T17:41:44.747Z",
            ),
            // Inferred shapes, believable here.
            (
                "26/11/25 14:59:00 INFO x",
                "26/11/25 14:59:00",
                "2026-11-25T14:59:00Z",
            ),
            (
                "261125 145900 148 INFO x",
                "261125 145900",
                "2026-11-25T14:59:00Z",
            ),
            ("1795618800: x", "1795618800", "2026-11-25T15:00:00Z"),
            (
                "1795618799.25 x",
                "1795618799.25",
                "2026-11-25T14:59:59.25Z",
            ),
            (
                "[1795618799123] INFO (1): x",
                "[1795618799123]",
                "2026-11-25T14:59:59.123Z",
            ),
            (
                "1.79561879925e+09\tinfo\tx",
                "1.79561879925e+09",
                "2026-11-25T14:59:59.25Z",
            ),
            (
                "14:59:59.5 [main] INFO",
                "14:59:59.5",
                "2026-11-25T14:59:59.5Z",
            ),
            (
                "20261125-15:00:00:606|Step_LSC|30002312|x",
                "20261125-15:00:00:606",
                "2026-11-25T15:00:00.606Z",
            ),
        ];
        for (line, text, expected) in cases {
            assert_eq!(start(line), Some((nanos(expected), text)), "{line}");
        }
    }

    #[test]
    fn glog_and_cockroachdb() {
        let c = TimeConfig::default();
        let f = glog_at_start(b"E1125 14:00:00.500000   123 main.go:1] x", &c, OBSERVED).unwrap();
        assert_eq!(
            f.unix_nanos.map(i128::from),
            Some(nanos("2026-11-25T14:00:00.5Z"))
        );
        let f = glog_at_start(b"I261125 14:59:00.123456 1 server.go:1 x", &c, OBSERVED).unwrap();
        assert_eq!(
            f.unix_nanos.map(i128::from),
            Some(nanos("2026-11-25T14:59:00.123456Z"))
        );
        assert_eq!(glog_at_start(b"I think so", &c, OBSERVED), None);
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
            "123456789 short",
            "12345678901 long",
            "",
        ] {
            assert_eq!(
                at_line_start(line.as_bytes(), &TimeConfig::default(), OBSERVED),
                None,
                "{line}"
            );
        }
    }

    #[test]
    fn times_that_cannot_be_placed_stay_unset() {
        let c = TimeConfig::default();
        // Inferred readings outside the window: a span, but no time.
        for line in [
            "17/06/09 20:10:40 INFO x",
            "081109 203615 148 INFO x",
            "1117838570 2005.06.03",
            "03:00:00 [main] INFO",
        ] {
            let f = at_line_start(line.as_bytes(), &c, OBSERVED).unwrap();
            assert_eq!(f.unix_nanos, None, "{line}");
            assert!(f.end >= 8, "{line}: the whole span is known");
        }
        // CST is US Central, China or Cuba: placed only when it is ours.
        let f = at_line_start(b"2026-11-25 09:00:00 CST [1] LOG:  x", &c, OBSERVED).unwrap();
        assert_eq!((f.unix_nanos, f.end), (None, 23));
        let chicago = TimeConfig {
            zone: TimeZone::get("America/Chicago").unwrap(),
            ..TimeConfig::default()
        };
        let f = at_line_start(b"2026-11-25 09:00:00 CST [1] LOG:  x", &chicago, OBSERVED).unwrap();
        assert_eq!(
            f.unix_nanos.map(i128::from),
            Some(nanos("2026-11-25T15:00:00Z"))
        );
        // An unknown capitalised word is not a zone.
        let f = at_line_start(b"2026-11-25 15:00:00 RAS KERNEL", &c, OBSERVED).unwrap();
        assert_eq!((f.unix_nanos, f.end), (Some(OBSERVED as i64), 19));
    }

    #[test]
    fn yearless_times_take_the_nearest_year() {
        // Read on 2026-01-01T00:00:30Z, a "Dec 31 23:59:50" line is from 2025.
        let observed = nanos("2026-01-01T00:00:30Z") as u64;
        let found =
            at_line_start(b"Dec 31 23:59:50 h x: y", &TimeConfig::default(), observed).unwrap();
        assert_eq!(
            found.unix_nanos.map(i128::from),
            Some(nanos("2025-12-31T23:59:50Z"))
        );
        assert_eq!(found.shape, Shape::Syslog);
        // And a time of day just before midnight, read just after, is yesterday's.
        let found = at_line_start(
            b"23:59:59.900 [main] INFO",
            &TimeConfig::default(),
            observed,
        )
        .unwrap();
        assert_eq!(
            found.unix_nanos.map(i128::from),
            Some(nanos("2025-12-31T23:59:59.9Z"))
        );
    }

    #[test]
    fn zoneless_times_use_the_configured_zone() {
        let config = TimeConfig {
            zone: TimeZone::get("Europe/Berlin").unwrap(),
            ..TimeConfig::default()
        };
        let found = at_line_start(b"2026-11-25 16:00:00 x", &config, OBSERVED).unwrap();
        assert_eq!(
            found.unix_nanos.map(i128::from),
            Some(nanos("2026-11-25T15:00:00Z"))
        );
        // An explicit zone wins over the configured one.
        let found = at_line_start(b"2026-11-25T16:00:00Z x", &config, OBSERVED).unwrap();
        assert_eq!(
            found.unix_nanos.map(i128::from),
            Some(nanos("2026-11-25T16:00:00Z"))
        );
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
