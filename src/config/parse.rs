//! Parse and batch settings: per-stream modes, the time zone, batch limits.

#[allow(unused_imports)]
use super::*;

/// `--parse auto` or `--parse stdout=json,stderr=text`.
pub(super) fn resolve_parse_modes(
    entries: &[String],
    r: &mut Resolver<'_, impl Env>,
) -> (ParseMode, ParseMode) {
    use clap::ValueEnum;
    let (mut stdout, mut stderr) = (ParseMode::Auto, ParseMode::Auto);
    for entry in entries {
        let (streams, mode) = match entry.split_once('=') {
            Some(("stdout", m)) => ((true, false), m),
            Some(("stderr", m)) => ((false, true), m),
            Some((other, _)) => {
                r.error(
                    "--parse",
                    format!("unknown stream {other:?}; use stdout=MODE or stderr=MODE"),
                );
                continue;
            }
            None => ((true, true), entry.as_str()),
        };
        match ParseMode::from_str(mode.trim(), true) {
            Ok(m) => {
                if streams.0 {
                    stdout = m;
                }
                if streams.1 {
                    stderr = m;
                }
            }
            Err(_) => r.error(
                "--parse",
                format!("unknown mode {mode:?}; use auto, json, logfmt, text or none"),
            ),
        }
    }
    (stdout, stderr)
}

/// `UTC`, `local`, an IANA name or a fixed offset like `+02:00`.
pub(super) fn resolve_timezone(
    raw: &str,
    r: &mut Resolver<'_, impl Env>,
) -> Option<jiff::tz::TimeZone> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("utc") || raw == "Z" {
        return Some(jiff::tz::TimeZone::UTC);
    }
    if raw.eq_ignore_ascii_case("local") {
        return match jiff::tz::TimeZone::try_system() {
            Ok(tz) => Some(tz),
            Err(e) => {
                r.error(
                    "--timezone",
                    format!("cannot find the system time zone ({e}); name one, e.g. Europe/Berlin"),
                );
                None
            }
        };
    }
    if let Some(offset) = parse_offset(raw) {
        return jiff::tz::Offset::from_seconds(offset)
            .ok()
            .map(jiff::tz::TimeZone::fixed);
    }
    match jiff::tz::TimeZone::get(raw) {
        Ok(tz) => Some(tz),
        Err(e) => {
            r.error(
                "--timezone",
                format!("{raw:?} is not a known time zone ({e}); use UTC, local, +02:00 or an IANA name like Europe/Berlin"),
            );
            None
        }
    }
}

/// `+02:00`, `-0530`, `+2` → seconds east of UTC.
pub(super) fn parse_offset(raw: &str) -> Option<i32> {
    let (sign, rest) = match raw.as_bytes().first()? {
        b'+' => (1, &raw[1..]),
        b'-' => (-1, &raw[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = if digits.len() <= 2 {
        (digits.parse::<i32>().ok()?, 0)
    } else {
        let split = digits.len() - 2;
        (
            digits[..split].parse::<i32>().ok()?,
            digits[split..].parse::<i32>().ok()?,
        )
    };
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

pub(super) fn resolve_batch(cli: &Cli, r: &mut Resolver<'_, impl Env>) -> BatchConfig {
    let defaults = BatchConfig::default();
    // A count the user chose, or none (then each destination's default).
    let chosen = match cli.batch_max_records {
        Some(n) => Some(n as usize),
        None => match r.env.var("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE") {
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    r.warn_ignored(
                        "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
                        &raw,
                        "expected a positive whole number",
                    );
                    None
                }
            },
            None => None,
        },
    };
    let records_given = chosen.is_some();
    let max_records = chosen.unwrap_or(defaults.max_records);
    let max_delay = match cli.batch_delay {
        Some(d) => d,
        None => r
            .env_millis("OTEL_BLRP_SCHEDULE_DELAY")
            .unwrap_or(defaults.max_delay),
    };
    let max_bytes = cli.batch_max_bytes.unwrap_or(defaults.max_bytes);
    if max_bytes == 0 {
        r.error("--batch-max-bytes", "must be more than 0");
    }
    BatchConfig {
        max_records,
        records_given,
        max_bytes,
        max_delay,
    }
}

/// How lines are read into records.
pub(super) fn resolve_parse(
    cli: &Cli,
    max_line_bytes: usize,
    r: &mut Resolver<'_, impl Env>,
) -> ParseConfig {
    let (stdout_mode, stderr_mode) = resolve_parse_modes(&cli.parse, r);
    let zone = resolve_timezone(&cli.timezone, r);
    ParseConfig {
        stdout_severity: cli.stdout_severity.0,
        stderr_severity: cli.stderr_severity.0,
        stdout_mode,
        stderr_mode,
        multiline: !cli.no_multiline,
        multiline_max_lines: cli.multiline_max_lines as usize,
        multiline_max_bytes: cli.multiline_max_bytes.unwrap_or(max_line_bytes),
        strip_ansi: !cli.keep_ansi,
        time: TimeConfig {
            zone: zone.unwrap_or(jiff::tz::TimeZone::UTC),
            max_past_nanos: cli.timestamp_max_age.as_nanos().min(u64::MAX as u128) as u64,
            max_future_nanos: cli.timestamp_max_ahead.as_nanos().min(u64::MAX as u128) as u64,
        },
    }
}
