//! Any bytes, cut into reads anywhere, through the line splitter and the
//! parser: no panic, and every byte of every non-blank line ends up in a
//! record. Each line also goes through the header scanner on its own, with a
//! zone and a read time the input picks, so that inferred times (two-digit
//! years, epochs, times of day), zone abbreviations and PostgreSQL detail
//! lines are reached: every span it reports lies inside the line, every level
//! is a valid SeverityNumber.
//!
//! cargo fuzz run parse_lines -- -max_total_time=300

#![no_main]

use libfuzzer_sys::fuzz_target;
use logwrap::parse::header;
use logwrap::parse::timestamp::TimeConfig;
use logwrap::parse::{ParseConfig, ParseMode, Parser};
use logwrap::read::LineSplitter;
use logwrap::record::{Record, Stream, Value};

/// 2026-11-28T09:15:00Z
const OBSERVED: u64 = 1_795_857_300_000_000_000;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the read size and the line limit, so that
    // splitting across reads and over-long lines are explored too; the second
    // the zone, the read time and the parse mode.
    let Some((&knob, rest)) = data.split_first() else { return };
    let Some((&knob2, input)) = rest.split_first() else { return };
    let read_size = 1 + (knob as usize % 64);
    let max_line = 16 + (knob as usize % 7) * 16;

    let zone = match knob2 % 4 {
        0 => jiff::tz::TimeZone::UTC,
        // CST names several zones: only Chicago's own is placed.
        1 => jiff::tz::TimeZone::get("America/Chicago").unwrap_or(jiff::tz::TimeZone::UTC),
        2 => jiff::tz::TimeZone::get("Asia/Kolkata").unwrap_or(jiff::tz::TimeZone::UTC),
        _ => jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(-5)),
    };
    // Read times around the corpus' date and near midnight, new year, and the epoch.
    let observed = match (knob2 >> 2) % 4 {
        0 => OBSERVED,
        1 => 1_798_761_570_000_000_000, // 2026-12-31T23:59:30Z
        2 => 1_000_000_000,
        _ => u64::MAX / 2,
    };
    let time = TimeConfig {
        zone,
        ..TimeConfig::default()
    };
    let mode = match (knob2 >> 4) % 3 {
        0 => ParseMode::Auto,
        1 => ParseMode::Text,
        _ => ParseMode::Logfmt,
    };

    let config = ParseConfig {
        strip_ansi: knob & 0x80 == 0,
        stderr_mode: mode,
        time: time.clone(),
        ..ParseConfig::default()
    };
    let mut parser = Parser::new(&config, Stream::Stderr);
    let mut splitter = LineSplitter::new(Stream::Stderr, max_line);
    let mut records: Vec<Record> = Vec::new();
    let mut lines = Vec::new();
    for (i, read) in input.chunks(read_size).enumerate() {
        splitter.extend(read);
        splitter.drain(observed.saturating_add(i as u64), &mut |l| lines.push(l));
        for l in lines.drain(..) {
            parser.push(l, &mut records);
        }
    }
    splitter.finish(observed.saturating_add(1_000), &mut |l| lines.push(l));
    for l in lines.drain(..) {
        parser.push(l, &mut records);
    }
    parser.flush(&mut records);

    for r in &records {
        // Every record is encodable and has a body of the right kind.
        match &r.body {
            Value::Str(s) => assert!(std::str::from_utf8(s.as_bytes()).is_ok()),
            Value::Bytes(b) => assert!(std::str::from_utf8(b).is_err() || r.split.is_some() || !b.is_empty()),
            _ => {}
        }
        assert!(r.severity.number.0 <= 24);
    }
    let encoder = logwrap::export::otlp_proto::RequestEncoder::new(&[], "fuzz", "0");
    let mut out = Vec::new();
    encoder.encode(&records, &mut out);
    let mut json = Vec::new();
    for r in &records {
        logwrap::export::json::write_record(&mut json, r);
    }

    // The header scanner alone, on every line of the input.
    for line in input.split(|&b| b == b'\n') {
        let h = header::scan(line, &time, observed);
        if let Some(level) = h.level {
            assert!(level.start < level.end && level.end <= line.len());
            assert!((1..=24).contains(&level.number.0));
        }
        if let Some(t) = h.time {
            assert!(t.start < t.end && t.end <= line.len());
        }
    }
});
