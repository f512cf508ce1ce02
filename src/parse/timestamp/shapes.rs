//! The shapes of a written time: where its parts are, for each layout the
//! module docs list ([`super`]). Each parser reads fixed positions from the
//! start of a slice and returns what it read and how long it was; placing the
//! reading on the time line (zones, missing years, believability) is
//! [`super`]'s.

use super::{Civil, DateKind, Reading, Shape, Zone, from_epoch_f64};

#[inline]
pub(super) fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
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
#[inline]
fn digits_1_2(b: &[u8], at: usize) -> Option<(u32, usize)> {
    let first = digits(b, at, 1)?;
    match digits(b, at + 1, 1) {
        Some(second) => Some((first * 10 + second, 2)),
        None => Some((first, 1)),
    }
}

/// Three letters, lowercased, as one number (one comparison per name).
#[inline]
fn three(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from_be_bytes([
        0,
        s[0].to_ascii_lowercase(),
        s[1].to_ascii_lowercase(),
        s[2].to_ascii_lowercase(),
    ]))
}

const fn key(name: &[u8; 3]) -> u32 {
    u32::from_be_bytes([0, name[0], name[1], name[2]])
}

#[inline]
fn month_name(b: &[u8], at: usize) -> Option<u8> {
    const MONTHS: [u32; 12] = [
        key(b"jan"),
        key(b"feb"),
        key(b"mar"),
        key(b"apr"),
        key(b"may"),
        key(b"jun"),
        key(b"jul"),
        key(b"aug"),
        key(b"sep"),
        key(b"oct"),
        key(b"nov"),
        key(b"dec"),
    ];
    let k = three(b, at)?;
    MONTHS.iter().position(|&m| m == k).map(|i| i as u8 + 1)
}

#[inline]
fn is_weekday(b: &[u8], at: usize) -> bool {
    const DAYS: [u32; 7] = [
        key(b"mon"),
        key(b"tue"),
        key(b"wed"),
        key(b"thu"),
        key(b"fri"),
        key(b"sat"),
        key(b"sun"),
    ];
    three(b, at).is_some_and(|k| DAYS.contains(&k))
}

/// `HH:MM:SS[(.|,)fraction]` at `at`; returns (h, m, s, nanos, len).
#[inline]
pub(super) fn clock(
    b: &[u8],
    at: usize,
    hour_may_be_short: bool,
) -> Option<(u8, u8, u8, u32, usize)> {
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
    let (nanos, frac_len) = fraction(b, i);
    i += frac_len;
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

/// `.123` or `,123` at `at` (digits beyond nanoseconds are dropped); returns
/// (nanos, len including the separator), (0, 0) when there is none.
#[inline]
fn fraction(b: &[u8], at: usize) -> (u32, usize) {
    if !matches!(b.get(at), Some(b'.' | b',')) || !b.get(at + 1).is_some_and(u8::is_ascii_digit) {
        return (0, 0);
    }
    let mut i = at + 1;
    let mut nanos = 0u32;
    let mut scale = 100_000_000u32;
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        nanos += (c - b'0') as u32 * scale;
        scale /= 10;
        i += 1;
    }
    (nanos, i - at)
}

/// Abbreviations that name one offset (tz database names).
const FIXED_ZONES: &[(&str, i32)] = &[
    ("UTC", 0),
    ("GMT", 0),
    ("UT", 0),
    ("WET", 0),
    ("WEST", 3600),
    ("CET", 3600),
    ("CEST", 7200),
    ("MET", 3600),
    ("MEST", 7200),
    ("EET", 7200),
    ("EEST", 10800),
    ("MSK", 10800),
    ("SAST", 7200),
    ("CAT", 7200),
    ("EAT", 10800),
    ("WAT", 3600),
    ("PKT", 18000),
    ("HKT", 28800),
    ("JST", 32400),
    ("KST", 32400),
    ("AWST", 28800),
    ("ACST", 34200),
    ("ACDT", 37800),
    ("AEST", 36000),
    ("AEDT", 39600),
    ("NZST", 43200),
    ("NZDT", 46800),
    ("EST", -18000),
    ("EDT", -14400),
    ("MST", -25200),
    ("MDT", -21600),
    ("PST", -28800),
    ("PDT", -25200),
    ("AKST", -32400),
    ("AKDT", -28800),
    ("HST", -36000),
    ("NST", -12600),
    ("NDT", -9000),
];

/// Abbreviations that name several offsets (US Central and China Standard;
/// India, Ireland and Israel; British Summer and Bangladesh; Atlantic and
/// Arabia; US and Cuba daylight time).
const AMBIGUOUS_ZONES: &[&str] = &["CST", "CDT", "IST", "BST", "AST", "ADT"];

/// `Z`, `±HH:MM`, `±HHMM`, `±HH`, or after a space `±HHMM`, `±HH:MM` or an
/// abbreviation; returns the zone and its length.
#[inline]
fn zone(b: &[u8], at: usize) -> Option<(Zone, usize)> {
    match b.get(at)? {
        b'Z' | b'z' => Some((Zone::Fixed(0), 1)),
        b'+' | b'-' => numeric_zone(b, at, false),
        b' ' => {
            if matches!(b.get(at + 1), Some(b'+' | b'-')) {
                let (zone, len) = numeric_zone(b, at + 1, true)?;
                return Some((zone, len + 1));
            }
            let letters = b
                .get(at + 1..)?
                .iter()
                .take(6)
                .take_while(|c| c.is_ascii_uppercase())
                .count();
            if !(2..=5).contains(&letters)
                || b.get(at + 1 + letters)
                    .is_some_and(u8::is_ascii_alphanumeric)
            {
                return None;
            }
            let name = &b[at + 1..at + 1 + letters];
            if let Some((_, secs)) = FIXED_ZONES.iter().find(|(n, _)| n.as_bytes() == name) {
                return Some((Zone::Fixed(*secs), letters + 1));
            }
            AMBIGUOUS_ZONES
                .iter()
                .find(|n| n.as_bytes() == name)
                .map(|n| (Zone::Ambiguous(n), letters + 1))
        }
        _ => None,
    }
}

/// `±HH:MM`, `±HHMM`, or (unless `strict`) `±HH` at `at`.
fn numeric_zone(b: &[u8], at: usize, strict: bool) -> Option<(Zone, usize)> {
    let sign = if b[at] == b'-' { -1 } else { 1 };
    let hours = digits(b, at + 1, 2)? as i32;
    let (minutes, len) = if b.get(at + 3) == Some(&b':') {
        (digits(b, at + 4, 2)? as i32, 6)
    } else if let Some(m) = digits(b, at + 3, 2) {
        (m as i32, 5)
    } else if strict {
        return None;
    } else {
        (0, 3)
    };
    (hours <= 23 && minutes <= 59)
        .then_some((Zone::Fixed(sign * (hours * 3600 + minutes * 60)), len))
}

pub(super) fn shape_at(b: &[u8], first: bool) -> Option<(Reading, usize, Shape)> {
    let c0 = *b.first()?;
    if c0.is_ascii_digit() {
        let at = |i: usize| b.get(i).copied();
        if matches!(at(4), Some(b'-' | b'/' | b'.')) {
            return ymd(b).map(|(c, len)| (Reading::Civil(c), len, Shape::Full));
        }
        match (at(1), at(2)) {
            (_, Some(b'/')) => {
                if let Some((c, len)) = common_log_format(b) {
                    return Some((Reading::Civil(c), len, Shape::Full));
                }
                return two_digit_year_slashes(b)
                    .map(|(c, len)| (Reading::Civil(c), len, Shape::Inferred));
            }
            (_, Some(b'-')) => {
                if let Some((c, len)) = day_month_year(b) {
                    return Some((Reading::Civil(c), len, Shape::Full));
                }
                return logcat(b).map(|(c, len)| (Reading::Civil(c), len, Shape::Full));
            }
            (_, Some(b':')) if first => {
                return time_of_day(b).map(|(c, len)| (Reading::Civil(c), len, Shape::Inferred));
            }
            (Some(b' '), _) | (_, Some(b' ')) => {
                return redis(b).map(|(c, len, shape)| (Reading::Civil(c), len, shape));
            }
            _ => {}
        }
        return number(b);
    }
    if !c0.is_ascii_uppercase() {
        return None;
    }
    if is_weekday(b, 0) {
        return ctime(b)
            .or_else(|| rfc1123(b))
            .map(|(c, len)| (Reading::Civil(c), len, Shape::Full));
    }
    if month_name(b, 0).is_some() {
        // Syslog's shape first: it is the common one and fails fast on the others.
        if let Some((c, len)) = syslog(b) {
            return Some((Reading::Civil(c), len, Shape::Syslog));
        }
        return jul(b)
            .or_else(|| month_day_year(b))
            .map(|(c, len)| (Reading::Civil(c), len, Shape::Full));
    }
    None
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.f][zone]`, with `/` or `.` between the date's
/// parts, MariaDB's space-padded hour, or DB2's `YYYY-MM-DD-HH.MM.SS.ffffff`.
#[inline]
fn ymd(b: &[u8]) -> Option<(Civil, usize)> {
    let year = digits(b, 0, 4)?;
    let sep = *b.get(4)?;
    if b.get(7) != Some(&sep) {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let (hour, minute, second, nanos, clock_end) = match (b.get(10), b.get(11)) {
        (Some(b'T' | b't'), _) => {
            let (h, m, s, n, len) = clock(b, 11, false)?;
            (h, m, s, n, 11 + len)
        }
        // MariaDB: "%d-%02d-%02d %2d:%02d:%02d".
        (Some(b' '), Some(b' ')) => {
            let (h, m, s, n, len) = clock(b, 12, true)?;
            (h, m, s, n, 12 + len)
        }
        (Some(b' '), _) => {
            let (h, m, s, n, len) = clock(b, 11, false)?;
            (h, m, s, n, 11 + len)
        }
        (Some(b'-'), _) if sep == b'-' => db2_clock(b, 11)?,
        _ => return None,
    };
    let (zone, zone_len) = zone(b, clock_end).unwrap_or((Zone::Configured, 0));
    Some((
        Civil {
            year: year as i32,
            month: month as u8,
            day: day as u8,
            hour,
            minute,
            second,
            nanos,
            zone,
            date: DateKind::Full,
        },
        clock_end + zone_len,
    ))
}

/// DB2's `HH.MM.SS.ffffff`; returns (h, m, s, nanos, end).
fn db2_clock(b: &[u8], at: usize) -> Option<(u8, u8, u8, u32, usize)> {
    let hour = digits(b, at, 2)?;
    let minute = digits(b, at + 3, 2)?;
    let second = digits(b, at + 6, 2)?;
    if b.get(at + 2) != Some(&b'.') || b.get(at + 5) != Some(&b'.') {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let (nanos, frac_len) = fraction(b, at + 8);
    Some((
        hour as u8,
        minute as u8,
        second as u8,
        nanos,
        at + 8 + frac_len,
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
            zone: Zone::Configured,
            date: DateKind::Yearless,
        },
        6 + clock_len,
    ))
}

/// The clock at `at` and an optional zone after it, on a full date: the
/// civil time and where it ends (the tail of every date-first shape).
fn clock_and_zone(
    b: &[u8],
    (year, month, day): (i32, u8, u8),
    at: usize,
) -> Option<(Civil, usize)> {
    let (hour, minute, second, nanos, clock_len) = clock(b, at, false)?;
    let end = at + clock_len;
    let (zone, zone_len) = zone(b, end).unwrap_or((Zone::Configured, 0));
    Some((
        Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            zone,
            date: DateKind::Full,
        },
        end + zone_len,
    ))
}

/// `DD/Mon/YYYY:HH:MM:SS ±ZZZZ` (Common Log Format).
fn common_log_format(b: &[u8]) -> Option<(Civil, usize)> {
    let day = digits(b, 0, 2)?;
    if b.get(2) != Some(&b'/') || b.get(6) != Some(&b'/') || b.get(11) != Some(&b':') {
        return None;
    }
    let month = month_name(b, 3)?;
    let year = digits(b, 7, 4)?;
    clock_and_zone(b, (year as i32, month, day as u8), 12)
}

/// `DD-Mon-YYYY HH:MM:SS[.f]` (PHP-FPM, Tomcat, BIND) or
/// `DD-Mon-YYYY::HH:MM:SS[.f]` (Erlang's error_logger).
fn day_month_year(b: &[u8]) -> Option<(Civil, usize)> {
    let day = digits(b, 0, 2)?;
    let month = month_name(b, 3)?;
    if b.get(6) != Some(&b'-') {
        return None;
    }
    let year = digits(b, 7, 4)?;
    let clock_at = match b.get(11..13)? {
        [b' ', _] => 12,
        b"::" => 13,
        _ => return None,
    };
    clock_and_zone(b, (year as i32, month, day as u8), clock_at)
}

/// `DD Mon YYYY HH:MM:SS[.f][ zone]` (Redis, RFC 2822 without a weekday) or
/// Redis 2's yearless `DD Mon HH:MM:SS.mmm`. Only Redis writes exactly
/// milliseconds and no zone: those are [`Shape::Redis`].
fn redis(b: &[u8]) -> Option<(Civil, usize, Shape)> {
    let (day, day_len) = digits_1_2(b, 0)?;
    if b.get(day_len) != Some(&b' ') {
        return None;
    }
    let month = month_name(b, day_len + 1)?;
    let mut i = day_len + 4;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let (year, date) = match (digits(b, i, 4), b.get(i + 4)) {
        (Some(y), Some(b' ')) => {
            i += 5;
            (y as i32, DateKind::Full)
        }
        _ => (0, DateKind::Yearless),
    };
    let (hour, minute, second, nanos, clock_len) = clock(b, i, false)?;
    let clock_start = i;
    i += clock_len;
    let (zone, zone_len) = zone(b, i).unwrap_or((Zone::Configured, 0));
    let millis = clock_len == 12 && b[clock_start + 8] == b'.';
    let shape = if millis && zone_len == 0 {
        Shape::Redis
    } else {
        Shape::Full
    };
    if date == DateKind::Yearless && shape != Shape::Redis {
        return None;
    }
    Some((
        Civil {
            year,
            month,
            day: day as u8,
            hour,
            minute,
            second,
            nanos,
            zone,
            date,
        },
        i + zone_len,
        shape,
    ))
}

/// `yy/MM/dd HH:mm:ss` (Spark's log4j template). Could be read as
/// dd/MM/yy or MM/dd/yy too: inferred.
fn two_digit_year_slashes(b: &[u8]) -> Option<(Civil, usize)> {
    let year = digits(b, 0, 2)?;
    let month = digits(b, 3, 2)?;
    let day = digits(b, 6, 2)?;
    if b.get(5) != Some(&b'/') || b.get(8) != Some(&b' ') {
        return None;
    }
    let (hour, minute, second, nanos, clock_len) = clock(b, 9, false)?;
    Some((
        Civil {
            year: 2000 + year as i32,
            month: month as u8,
            day: day as u8,
            hour,
            minute,
            second,
            nanos,
            zone: Zone::Configured,
            date: DateKind::Full,
        },
        9 + clock_len,
    ))
}

/// `HH:MM:SS[.f]` alone (logback's and log4j2's default pattern, Elixir,
/// pino-pretty): the nearest such moment, if believable.
fn time_of_day(b: &[u8]) -> Option<(Civil, usize)> {
    let (hour, minute, second, nanos, clock_len) = clock(b, 0, false)?;
    let (zone, zone_len) = zone(b, clock_len).unwrap_or((Zone::Configured, 0));
    Some((
        Civil {
            year: 0,
            month: 1,
            day: 1,
            hour,
            minute,
            second,
            nanos,
            zone,
            date: DateKind::TimeOnly,
        },
        clock_len + zone_len,
    ))
}

/// Digits alone: `yyMMdd HHmmss` (HDFS), or epoch seconds (10 digits, with
/// an optional fraction, or zap's `1.7958572421234567e+09`) or milliseconds
/// (13 digits). All inferred.
fn number(b: &[u8]) -> Option<(Reading, usize, Shape)> {
    let n = b.iter().take(14).take_while(|c| c.is_ascii_digit()).count();
    match n {
        6 if b.get(6) == Some(&b' ') && b.get(7..13)?.iter().all(u8::is_ascii_digit) => {
            if b.get(13).is_some_and(u8::is_ascii_digit) {
                return None;
            }
            let hour = digits(b, 7, 2)?;
            let minute = digits(b, 9, 2)?;
            let second = digits(b, 11, 2)?;
            if hour > 23 || minute > 59 || second > 59 {
                return None;
            }
            let civil = Civil {
                year: 2000 + digits(b, 0, 2)? as i32,
                month: digits(b, 2, 2)? as u8,
                day: digits(b, 4, 2)? as u8,
                hour: hour as u8,
                minute: minute as u8,
                second: second as u8,
                nanos: 0,
                zone: Zone::Configured,
                date: DateKind::Full,
            };
            Some((Reading::Civil(civil), 13, Shape::Inferred))
        }
        10 => {
            let secs: i64 = std::str::from_utf8(&b[..10]).ok()?.parse().ok()?;
            let (nanos, frac_len) = match b.get(10) {
                Some(b'.') => fraction(b, 10),
                _ => (0, 0),
            };
            Some((
                Reading::Instant(secs.checked_mul(1_000_000_000)? + nanos as i64),
                10 + frac_len,
                Shape::Inferred,
            ))
        }
        // `YYYYMMDD-HH:MM:SS[:mmm]` (HealthApp).
        8 if b.get(8) == Some(&b'-') => {
            let (hour, minute, second, mut nanos, clock_len) = clock(b, 9, false)?;
            let mut len = 9 + clock_len;
            if nanos == 0
                && b.get(len) == Some(&b':')
                && let Some(ms) = digits(b, len + 1, 3)
            {
                nanos = ms * 1_000_000;
                len += 4;
            }
            let civil = Civil {
                year: digits(b, 0, 4)? as i32,
                month: digits(b, 4, 2)? as u8,
                day: digits(b, 6, 2)? as u8,
                hour,
                minute,
                second,
                nanos,
                zone: Zone::Configured,
                date: DateKind::Full,
            };
            Some((Reading::Civil(civil), len, Shape::Full))
        }
        13 => {
            let millis: i64 = std::str::from_utf8(&b[..13]).ok()?.parse().ok()?;
            Some((
                Reading::Instant(millis.checked_mul(1_000_000)?),
                13,
                Shape::Inferred,
            ))
        }
        1 if b.get(1) == Some(&b'.') => {
            // zap's console encoder: seconds as a float in e-notation.
            let len = b
                .iter()
                .take(28)
                .take_while(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+'))
                .count();
            let text = std::str::from_utf8(&b[..len]).ok()?;
            if !text.contains(['e', 'E']) {
                return None;
            }
            let secs: f64 = text.parse().ok()?;
            Some((
                Reading::Instant(i64::try_from(from_epoch_f64(secs)?).ok()?),
                len,
                Shape::Inferred,
            ))
        }
        _ => None,
    }
}

/// `Www Mon DD HH:MM:SS[.f] [ZONE ]YYYY` (Apache error log, ctime, date(1)).
fn ctime(b: &[u8]) -> Option<(Civil, usize)> {
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
    let mut i = clock_at + clock_len;
    let mut zone_found = Zone::Configured;
    if let Some((z, len)) = zone(b, i)
        && b.get(i + len) == Some(&b' ')
    {
        zone_found = z;
        i += len;
    }
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let year = digits(b, i + 1, 4)?;
    Some((
        Civil {
            year: year as i32,
            month,
            day: day as u8,
            hour,
            minute,
            second,
            nanos,
            zone: zone_found,
            date: DateKind::Full,
        },
        i + 5,
    ))
}

/// `Www, DD Mon YYYY HH:MM:SS ZONE` (RFC 1123 / RFC 2822).
fn rfc1123(b: &[u8]) -> Option<(Civil, usize)> {
    if b.get(3..5) != Some(b", ") {
        return None;
    }
    let (c, len, _) = redis(&b[5..])?;
    Some((c, 5 + len))
}

/// `Mon DD, YYYY H:MM:SS AM` (java.util.logging SimpleFormatter).
pub(super) fn jul(b: &[u8]) -> Option<(Civil, usize)> {
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
            zone: Zone::Configured,
            date: DateKind::Full,
        },
        i + 3,
    ))
}

/// `Mon DD YYYY HH:MM:SS[.f][zone]`.
fn month_day_year(b: &[u8]) -> Option<(Civil, usize)> {
    let month = month_name(b, 0)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let day_at = if b.get(4) == Some(&b' ') { 5 } else { 4 };
    let (day, day_len) = digits_1_2(b, day_at)?;
    let year_at = day_at + day_len + 1;
    if b.get(year_at - 1) != Some(&b' ') || b.get(year_at + 4) != Some(&b' ') {
        return None;
    }
    let year = digits(b, year_at, 4)?;
    clock_and_zone(b, (year as i32, month, day as u8), year_at + 5)
}

/// `Mon DD HH:MM:SS[.f]` or `Mon  D HH:MM:SS` (BSD syslog, no year).
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
            zone: Zone::Configured,
            date: DateKind::Yearless,
        },
        clock_at + 1 + clock_len,
    ))
}
